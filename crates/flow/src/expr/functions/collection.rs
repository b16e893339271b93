//! Collection functions: arrays, strings and objects.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{
    Call, ExprError, Function, f, get_property, to_text, type_name, values_equal,
};

pub(super) const FUNCTIONS: &[Function] = &[
    f("contains", 2, Some(2), contains),
    f("empty", 1, Some(1), empty),
    f("first", 1, Some(1), first),
    f("last", 1, Some(1), last),
    f("intersection", 1, None, intersection),
    f("union", 1, None, union),
    f("join", 2, Some(2), join),
    f("length", 1, Some(1), length),
    f("skip", 2, Some(2), skip),
    f("take", 2, Some(2), take),
    f("reverse", 1, Some(1), reverse),
    f("sort", 1, Some(2), sort),
    f("chunk", 2, Some(2), chunk),
];

fn contains(c: &mut Call) -> Result<Value, ExprError> {
    let found = match c.arg(0) {
        Value::String(s) => s.contains(to_text(c.arg(1)).as_str()),
        Value::Array(items) => items.iter().any(|v| values_equal(v, c.arg(1))),
        Value::Object(o) => match c.arg(1) {
            Value::String(k) => o.contains_key(k),
            _ => false,
        },
        _ => return Err(c.type_error(0, "an object, an array or a string")),
    };
    Ok(Value::Bool(found))
}

fn empty(c: &mut Call) -> Result<Value, ExprError> {
    let yes = match c.arg(0) {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => return Err(c.type_error(0, "an object, an array or a string")),
    };
    Ok(Value::Bool(yes))
}

fn first(c: &mut Call) -> Result<Value, ExprError> {
    match c.take(0) {
        Value::String(s) => Ok(s
            .chars()
            .next()
            .map(|ch| Value::String(ch.to_string()))
            .unwrap_or(Value::Null)),
        Value::Array(a) => Ok(a.into_iter().next().unwrap_or(Value::Null)),
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an array or a string"))
        }
    }
}

fn last(c: &mut Call) -> Result<Value, ExprError> {
    match c.take(0) {
        Value::String(s) => Ok(s
            .chars()
            .last()
            .map(|ch| Value::String(ch.to_string()))
            .unwrap_or(Value::Null)),
        Value::Array(a) => Ok(a.into_iter().last().unwrap_or(Value::Null)),
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an array or a string"))
        }
    }
}

/// All arguments as arrays, or all as objects.
enum Collections<'a> {
    Arrays(Vec<&'a Vec<Value>>),
    Objects(Vec<&'a Map<String, Value>>),
}

fn collections<'a>(c: &'a Call) -> Result<Collections<'a>, ExprError> {
    match c.arg(0) {
        Value::Array(_) => {
            let mut out = Vec::new();
            for i in 0..c.len() {
                out.push(c.array(i)?);
            }
            Ok(Collections::Arrays(out))
        }
        Value::Object(_) => {
            let mut out = Vec::new();
            for i in 0..c.len() {
                out.push(c.object(i)?);
            }
            Ok(Collections::Objects(out))
        }
        _ => Err(c.type_error(0, "an array or an object")),
    }
}

fn push_unique(out: &mut Vec<Value>, v: &Value) {
    if !out.iter().any(|w| values_equal(w, v)) {
        out.push(v.clone());
    }
}

fn intersection(c: &mut Call) -> Result<Value, ExprError> {
    Ok(match collections(c)? {
        Collections::Arrays(arrays) => {
            let mut out = Vec::new();
            for v in arrays[0] {
                if arrays[1..].iter().all(|a| a.iter().any(|w| values_equal(v, w))) {
                    push_unique(&mut out, v);
                }
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for (k, v) in objects[0] {
                if objects[1..]
                    .iter()
                    .all(|o| o.get(k).is_some_and(|w| values_equal(v, w)))
                {
                    let last = objects.last().and_then(|o| o.get(k)).unwrap_or(v);
                    out.insert(k.clone(), last.clone());
                }
            }
            Value::Object(out)
        }
    })
}

fn union(c: &mut Call) -> Result<Value, ExprError> {
    Ok(match collections(c)? {
        Collections::Arrays(arrays) => {
            let mut out = Vec::new();
            for v in arrays.into_iter().flatten() {
                push_unique(&mut out, v);
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for (k, v) in objects.into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
    })
}

fn join(c: &mut Call) -> Result<Value, ExprError> {
    let items = c.array(0)?;
    let sep = to_text(c.arg(1));
    let parts: Vec<String> = items.iter().map(to_text).collect();
    Ok(Value::String(parts.join(&sep)))
}

fn length(c: &mut Call) -> Result<Value, ExprError> {
    let n = match c.arg(0) {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        _ => return Err(c.type_error(0, "an array or a string")),
    };
    Ok(Value::from(n as i64))
}

fn count(c: &Call, i: usize) -> Result<usize, ExprError> {
    let n = c.int(i)?;
    if n < 0 {
        return Err(c.invalid(i, "must be a non-negative integer."));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

fn skip(c: &mut Call) -> Result<Value, ExprError> {
    let n = count(c, 1)?;
    match c.take(0) {
        Value::Array(a) => Ok(Value::Array(a.into_iter().skip(n).collect())),
        Value::String(s) => Ok(Value::String(s.chars().skip(n).collect())),
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an array or a string"))
        }
    }
}

fn take(c: &mut Call) -> Result<Value, ExprError> {
    let n = count(c, 1)?;
    match c.take(0) {
        Value::Array(a) => Ok(Value::Array(a.into_iter().take(n).collect())),
        Value::String(s) => Ok(Value::String(s.chars().take(n).collect())),
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an array or a string"))
        }
    }
}

fn reverse(c: &mut Call) -> Result<Value, ExprError> {
    match c.take(0) {
        Value::Array(mut a) => {
            a.reverse();
            Ok(Value::Array(a))
        }
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an array"))
        }
    }
}

fn sort(c: &mut Call) -> Result<Value, ExprError> {
    let key = c.opt_string(1)?.map(str::to_string);
    let items = c.array(0)?.clone();
    let sort_key = |v: &Value| -> Result<Value, ExprError> {
        match &key {
            None => Ok(v.clone()),
            Some(k) => match v {
                Value::Object(o) => {
                    Ok(get_property(o, k).cloned().unwrap_or(Value::Null))
                }
                other => Err(c.error(format!(
                    "cannot sort by the key '{k}' an item of type '{}'.",
                    type_name(other)
                ))),
            },
        }
    };
    let mut keyed = Vec::with_capacity(items.len());
    for item in items {
        let k = sort_key(&item)?;
        if matches!(k, Value::Array(_) | Value::Object(_)) {
            return Err(c.error(format!(
                "can only sort by values of a primitive type; found a value of type '{}'.",
                type_name(&k)
            )));
        }
        keyed.push((k, item));
    }
    // One kind of key for the whole array, so that the order is total
    // (nulls first).
    let kinds: Vec<&str> =
        keyed.iter().filter(|(k, _)| !k.is_null()).map(|(k, _)| sort_kind(k)).collect();
    if let Some(bad) = kinds.iter().find(|k| **k != kinds[0]) {
        return Err(c.error(format!(
            "cannot compare values of types '{}' and '{}'.",
            kinds[0], bad
        )));
    }
    let floats = keyed.iter().any(|(k, _)| k.as_number().is_some_and(|n| !n.is_i64()));
    keyed.sort_by(|a, b| match (&a.0, &b.0) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) if floats => {
            x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0))
        }
        (Value::Number(x), Value::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    });
    Ok(Value::Array(keyed.into_iter().map(|(_, v)| v).collect()))
}

fn chunk(c: &mut Call) -> Result<Value, ExprError> {
    let size = c.int(1)?;
    if size <= 0 {
        return Err(c.invalid(1, "must be a positive integer."));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    match c.arg(0) {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Value::Array(
                chars.chunks(size).map(|p| Value::String(p.iter().collect())).collect(),
            ))
        }
        Value::Array(a) => {
            Ok(Value::Array(a.chunks(size).map(|p| Value::Array(p.to_vec())).collect()))
        }
        _ => Err(c.type_error(0, "an array or a string")),
    }
}

fn sort_kind(v: &Value) -> &'static str {
    match v {
        Value::Number(_) => "Number",
        other => type_name(other),
    }
}
