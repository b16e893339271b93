//! References between requests: a value from an earlier item's response,
//! written `{{ID.body.PATH}}`, `{{ID.status}}` or `{{ID.headers.NAME}}`,
//! in an item's URL, headers or (string values of its) JSON body.
//!
//! The lab's flow passes the new group's id to the PUT-team request as
//! `body('Batch_POST-groups').responses[0].body.id`; here that is
//! `{{create-group.body.id}}`. `PATH` is dot-separated object keys and array
//! indices (`{{list.body.value.0.id}}`). A JSON string that is exactly one
//! reference takes the referenced value with its type; elsewhere the value is
//! written as text. An item with references is sent only once every item it
//! refers to has succeeded; a value that is not there is a per-item error.

use serde_json::Value;

/// One `{{...}}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The referenced item's id.
    pub id: String,
    /// `body`, `status` or `headers`, then the path.
    pub path: Vec<String>,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{{{}.{}}}}}", self.id, self.path.join("."))
    }
}

/// Finds every reference in `text`; `Err` describes a malformed one.
pub fn scan(text: &str) -> Result<Vec<Reference>, String> {
    let mut out = Vec::new();
    if !text.as_bytes().contains(&b'{') {
        // Most text has no reference; a byte search says so quickest.
        return Ok(out);
    }
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("'{{{{' without '}}}}' in '{text}'"))?;
        let inner = after[..end].trim();
        let mut parts = inner.split('.');
        let id = parts.next().unwrap_or("").to_owned();
        let path: Vec<String> = parts.map(str::to_owned).collect();
        let ok = !id.is_empty()
            && match path.first().map(String::as_str) {
                Some("body") => true,
                Some("status") => path.len() == 1,
                Some("headers") => path.len() == 2,
                _ => false,
            };
        if !ok {
            return Err(format!(
                "'{{{{{inner}}}}}' is not a reference: use {{{{ID.body.PATH}}}}, {{{{ID.status}}}} or {{{{ID.headers.NAME}}}}"
            ));
        }
        out.push(Reference { id, path });
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// The deepest a JSON body may nest (arrays and objects): serde_json's
/// recursion limit, under which the lab's files and Graph's answers are read.
/// [`scan_json`] refuses a deeper body (one built in code), so that nothing
/// after the checks (resolving references, serializing) recurses deeper.
pub const MAX_BODY_DEPTH: usize = 128;

fn too_deep(depth: usize) -> Result<(), String> {
    if depth > MAX_BODY_DEPTH {
        Err(format!("the body nests deeper than {MAX_BODY_DEPTH} levels"))
    } else {
        Ok(())
    }
}

/// Every reference in a JSON value's strings; `Err` for a malformed one or
/// a value nested deeper than [`MAX_BODY_DEPTH`].
pub fn scan_json(value: &Value) -> Result<Vec<Reference>, String> {
    let mut out = Vec::new();
    walk(value, &mut |s| {
        out.extend(scan(s)?);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` on every string of `value`, in document order, with an
/// explicit stack (no recursion), refusing nesting past [`MAX_BODY_DEPTH`].
fn walk(
    value: &Value,
    f: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::String(s) => f(s)?,
            Value::Array(a) => {
                too_deep(depth + 1)?;
                stack.extend(a.iter().rev().map(|v| (v, depth + 1)));
            }
            Value::Object(o) => {
                too_deep(depth + 1)?;
                let values: Vec<&Value> = o.values().collect();
                stack.extend(values.into_iter().rev().map(|v| (v, depth + 1)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What a referenced item answered.
pub trait Source {
    /// The value at `reference`, if the item succeeded and has it.
    fn lookup(&self, reference: &Reference) -> Option<Value>;
}

/// Looks `path` up in a response: status, headers (case-insensitive) or body.
pub fn lookup(
    status: u16,
    headers: &[(String, String)],
    body: Option<&Value>,
    path: &[String],
) -> Option<Value> {
    match path.first().map(String::as_str) {
        Some("status") => Some(Value::from(status)),
        Some("headers") => headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&path[1]))
            .map(|(_, v)| Value::String(v.clone())),
        Some("body") => {
            let mut at = body?;
            for seg in &path[1..] {
                at = match at {
                    Value::Object(o) => o.get(seg)?,
                    Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                    _ => return None,
                };
            }
            (!at.is_null()).then(|| at.clone())
        }
        _ => None,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces references in text.
pub fn resolve_text(text: &str, source: &dyn Source) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| "unterminated reference".to_owned())?;
        let reference = scan(&rest[start..start + 2 + end + 2])?.remove(0);
        let value = source
            .lookup(&reference)
            .ok_or_else(|| format!("{reference} has no value"))?;
        out.push_str(&as_text(&value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Replaces references in a JSON value; a string that is exactly one
/// reference takes the referenced value's type. Recursive, to at most
/// [`MAX_BODY_DEPTH`] levels (deeper is an error).
pub fn resolve_json(value: &Value, source: &dyn Source) -> Result<Value, String> {
    resolve_at(value, source, 0)
}

fn resolve_at(value: &Value, source: &dyn Source, depth: usize) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => {
            let refs = scan(s)?;
            let whole =
                refs.len() == 1 && s.trim().starts_with("{{") && s.trim().ends_with("}}");
            if whole {
                source
                    .lookup(&refs[0])
                    .ok_or_else(|| format!("{} has no value", refs[0]))?
            } else {
                Value::String(resolve_text(s, source)?)
            }
        }
        Value::Array(a) => {
            too_deep(depth + 1)?;
            Value::Array(
                a.iter()
                    .map(|v| resolve_at(v, source, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Object(o) => {
            too_deep(depth + 1)?;
            Value::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), resolve_at(v, source, depth + 1)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    struct Map(HashMap<String, Value>);

    impl Source for Map {
        fn lookup(&self, r: &Reference) -> Option<Value> {
            lookup(
                201,
                &[("Location".into(), "https://x/1".into())],
                self.0.get(&r.id),
                &r.path,
            )
        }
    }

    #[test]
    fn scans_and_resolves_with_types() {
        let refs = scan("/groups/{{create-group.body.id}}/team").unwrap();
        assert_eq!(
            refs,
            vec![Reference {
                id: "create-group".into(),
                path: vec!["body".into(), "id".into()]
            }]
        );
        let source = Map([(
            "g".to_owned(),
            json!({"id": "abc", "n": 3, "value": [{"id": "first"}]}),
        )]
        .into());
        assert_eq!(
            resolve_text("/groups/{{g.body.id}}/team", &source).unwrap(),
            "/groups/abc/team"
        );
        assert_eq!(
            resolve_json(&json!({"n": "{{g.body.n}}"}), &source).unwrap(),
            json!({"n": 3})
        );
        assert_eq!(
            resolve_json(&json!("x-{{g.body.n}}"), &source).unwrap(),
            json!("x-3")
        );
        assert_eq!(resolve_text("{{g.body.value.0.id}}", &source).unwrap(), "first");
        assert_eq!(
            resolve_text("{{g.status}} {{g.headers.location}}", &source).unwrap(),
            "201 https://x/1"
        );
        let err = resolve_text("{{g.body.missing}}", &source).unwrap_err();
        assert!(err.contains("{{g.body.missing}} has no value"), "{err}");
        assert!(scan("{{g.nope}}").is_err());
        assert!(scan("{{g.body.id").is_err());
    }

    /// A body built in code can nest deeper than any parser allows: the scan
    /// refuses it without recursing, and so does the resolver.
    #[test]
    fn a_body_nested_10_000_deep_is_refused_without_recursion() {
        let mut deep = json!("{{g.body.id}}");
        for _ in 0..10_000 {
            deep = Value::Array(vec![deep]);
        }
        let err = scan_json(&deep).unwrap_err();
        assert!(err.contains("deeper than 128 levels"), "{err}");
        let source = Map(HashMap::new());
        let err = resolve_json(&deep, &source).unwrap_err();
        assert!(err.contains("deeper than 128 levels"), "{err}");
        // Dropping it recursively would overflow too: take it apart by hand.
        let mut at = deep;
        while let Value::Array(mut a) = at {
            at = a.pop().unwrap_or(Value::Null);
        }
        let nested = |levels: usize| {
            (0..levels).fold(json!("{{g.body.id}}"), |v, _| Value::Array(vec![v]))
        };
        assert_eq!(scan_json(&nested(MAX_BODY_DEPTH)).unwrap().len(), 1);
        assert!(scan_json(&nested(MAX_BODY_DEPTH + 1)).is_err());
    }
}
