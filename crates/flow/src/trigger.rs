//! The manual trigger's inputs: Power Automate's "Manually trigger a flow"
//! (`Request`, kind `Button`, whose text inputs are schema properties
//! `text`, `text_1`, ... each with a `title`), or a Logic Apps `Request`
//! trigger with a JSON schema.
//!
//! `--input Name=LabTeam` matches a property by key or by title;
//! `--trigger-body JSON` gives the whole body. The body is checked against
//! the schema's `required` list and property types.

use serde_json::{Map, Value};

use crate::definition::Trigger;

/// Builds and checks the trigger's body.
pub fn body(
    trigger: &Trigger,
    inputs: &[(String, String)],
    given: Option<Value>,
) -> Result<Value, String> {
    let schema = trigger.schema.clone().unwrap_or(Value::Null);
    let properties =
        schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut body = match given {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => Map::new(),
        Some(other) if inputs.is_empty() && properties.is_empty() => return Ok(other),
        Some(_) => return Err("the trigger body must be a JSON object".into()),
    };
    for (name, text) in inputs {
        let (key, property) = properties
            .iter()
            .find(|(k, _)| *k == name)
            .or_else(|| {
                properties.iter().find(|(_, p)| {
                    p.get("title")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case(name))
                })
            })
            .ok_or_else(|| {
                format!(
                    "no input '{name}'; the trigger's inputs are: {}",
                    list(&properties)
                )
            })?;
        let kind = property.get("type").and_then(Value::as_str).unwrap_or("string");
        let value = match kind {
            "string" => Value::String(text.clone()),
            _ => serde_json::from_str(text).map_err(|_| {
                format!("input '{name}' is of type {kind}; '{text}' is not one")
            })?,
        };
        body.insert(key.clone(), value);
    }
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten()
    {
        let Some(key) = required.as_str() else { continue };
        if !body.contains_key(key) {
            let title = properties
                .get(key)
                .and_then(|p| p.get("title"))
                .and_then(Value::as_str)
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            return Err(format!(
                "the required input '{key}'{title} is missing: give it with --input {}=VALUE",
                properties
                    .get(key)
                    .and_then(|p| p.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or(key)
            ));
        }
    }
    for (key, value) in &body {
        let Some(kind) =
            properties.get(key).and_then(|p| p.get("type")).and_then(Value::as_str)
        else {
            continue;
        };
        let ok = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !ok {
            return Err(format!("input '{key}' must be of type {kind}, not {value}"));
        }
    }
    Ok(Value::Object(body))
}

fn list(properties: &Map<String, Value>) -> String {
    if properties.is_empty() {
        return "none".into();
    }
    properties
        .iter()
        .map(|(k, p)| match p.get("title").and_then(Value::as_str) {
            Some(t) => format!("{k} ({t})"),
            None => k.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn button() -> Trigger {
        Trigger {
            name: "manual".into(),
            kind: "Request".into(),
            trigger_kind: Some("Button".into()),
            schema: Some(json!({
                "type": "object",
                "properties": {"text": {"title": "Name", "type": "string", "x-ms-content-hint": "TEXT"}},
                "required": ["text"],
            })),
            path: "$.triggers.manual".into(),
        }
    }

    #[test]
    fn inputs_match_by_key_or_title_and_required_ones_are_named() {
        let t = button();
        assert_eq!(
            body(&t, &[("Name".into(), "LabTeam".into())], None),
            Ok(json!({"text": "LabTeam"}))
        );
        assert_eq!(
            body(&t, &[("text".into(), "X".into())], None),
            Ok(json!({"text": "X"}))
        );
        let missing = body(&t, &[], None).unwrap_err();
        assert!(
            missing.contains("'text' (Name)") && missing.contains("--input Name="),
            "{missing}"
        );
        let unknown = body(&t, &[("Nom".into(), "x".into())], None).unwrap_err();
        assert!(unknown.contains("text (Name)"), "{unknown}");
        assert!(body(&t, &[], Some(json!({"text": 3}))).is_err());
    }
}
