//! String functions. Positions and lengths count Unicode scalar values
//! (`char`s); .NET counts UTF-16 units, which differs only outside the
//! Basic Multilingual Plane (emoji).

use serde_json::Value;

use super::{Call, ExprError, Function, f, to_text};

pub(super) const FUNCTIONS: &[Function] = &[
    f("concat", 1, None, concat),
    f("substring", 2, Some(3), substring),
    f("slice", 2, Some(3), slice),
    f("replace", 3, Some(3), replace),
    f("indexOf", 2, Some(2), index_of),
    f("lastIndexOf", 2, Some(2), last_index_of),
    f("nthIndexOf", 3, Some(3), nth_index_of),
    f("startsWith", 2, Some(2), starts_with),
    f("endsWith", 2, Some(2), ends_with),
    f("toLower", 1, Some(1), to_lower),
    f("toUpper", 1, Some(1), to_upper),
    f("trim", 1, Some(1), trim),
    f("split", 2, Some(2), split),
    f("guid", 0, Some(1), guid),
    f("formatNumber", 2, Some(3), super::number::format_number),
    f("isInt", 1, Some(1), super::number::is_int),
    f("isFloat", 1, Some(2), super::number::is_float),
];

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn concat(c: &mut Call) -> Result<Value, ExprError> {
    let mut out = String::new();
    for v in &c.args {
        out.push_str(&to_text(v));
    }
    Ok(Value::String(out))
}

/// A string argument. Null is an error, as on the platform ("expects its
/// parameter to be a string. The provided value is of type 'Null'").
fn text(c: &Call, i: usize) -> Result<String, ExprError> {
    c.string(i).map(str::to_string)
}

fn substring(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let start = c.int(1)?;
    let len = if c.has(2) { c.int(2)? } else { s.len() as i64 - start };
    if start < 0 || len < 0 || start.saturating_add(len) > s.len() as i64 {
        return Err(c.error(
            "parameters are out of range: 'start index' and 'length' must be non-negative \
             integers and their sum must be no larger than the length of the string.",
        ));
    }
    Ok(Value::String(s[start as usize..(start + len) as usize].iter().collect()))
}

fn slice(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let n = s.len() as i64;
    let clamp = |i: i64| if i < 0 { (n + i).max(0) } else { i.min(n) };
    let start = clamp(c.int(1)?);
    let end = if c.has(2) { clamp(c.int(2)?) } else { n };
    if start >= end {
        return Ok(Value::String(String::new()));
    }
    Ok(Value::String(s[start as usize..end as usize].iter().collect()))
}

fn replace(c: &mut Call) -> Result<Value, ExprError> {
    let s = text(c, 0)?;
    let old = text(c, 1)?;
    let new = text(c, 2)?;
    if old.is_empty() {
        return Err(c.invalid(1, "must not be an empty string."));
    }
    Ok(Value::String(s.replace(&old, &new)))
}

fn eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Every position where `needle` starts in `hay` (overlapping), without
/// regard to case.
fn positions(hay: &[char], needle: &[char]) -> Vec<usize> {
    if needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| {
            hay[i..i + needle.len()]
                .iter()
                .zip(needle)
                .all(|(a, b)| eq_ignore_case(*a, *b))
        })
        .collect()
}

fn index_of(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let needle = chars(&text(c, 1)?);
    let at = positions(&s, &needle).first().map(|&i| i as i64).unwrap_or(-1);
    Ok(Value::from(at))
}

fn last_index_of(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let needle = chars(&text(c, 1)?);
    // The reference's rules for empty values: both empty → 0, only the
    // text empty → -1, only the search empty → the text's length minus 1.
    let at = match (s.is_empty(), needle.is_empty()) {
        (true, true) => 0,
        (true, false) => -1,
        (false, true) => s.len() as i64 - 1,
        _ => positions(&s, &needle).last().map(|&i| i as i64).unwrap_or(-1),
    };
    Ok(Value::from(at))
}

fn nth_index_of(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let needle = chars(&text(c, 1)?);
    let n = c.int(2)?;
    if n == 0 {
        return Err(c.invalid(2, "must not be zero."));
    }
    let all = positions(&s, &needle);
    let found = if n > 0 {
        all.get((n - 1) as usize)
    } else {
        all.len().checked_sub(n.unsigned_abs() as usize).and_then(|i| all.get(i))
    };
    Ok(Value::from(found.map(|&i| i as i64).unwrap_or(-1)))
}

fn starts_with(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let p = chars(&text(c, 1)?);
    let yes = p.len() <= s.len() && s.iter().zip(&p).all(|(a, b)| eq_ignore_case(*a, *b));
    Ok(Value::Bool(yes))
}

fn ends_with(c: &mut Call) -> Result<Value, ExprError> {
    let s = chars(&text(c, 0)?);
    let p = chars(&text(c, 1)?);
    let yes = p.len() <= s.len()
        && s[s.len() - p.len()..].iter().zip(&p).all(|(a, b)| eq_ignore_case(*a, *b));
    Ok(Value::Bool(yes))
}

fn to_lower(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(text(c, 0)?.to_lowercase()))
}

fn to_upper(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(text(c, 0)?.to_uppercase()))
}

fn trim(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(text(c, 0)?.trim().to_string()))
}

fn split(c: &mut Call) -> Result<Value, ExprError> {
    let s = text(c, 0)?;
    let d = text(c, 1)?;
    if d.is_empty() {
        return Ok(Value::Array(vec![Value::String(s)]));
    }
    Ok(Value::Array(s.split(d.as_str()).map(|p| Value::String(p.to_string())).collect()))
}

fn guid(c: &mut Call) -> Result<Value, ExprError> {
    let format = c.opt_string(0)?.unwrap_or("D").to_string();
    let id = uuid::Uuid::new_v4();
    let d = id.hyphenated().to_string();
    let n = id.simple().to_string();
    let out = match format.as_str() {
        "" | "D" | "d" => d,
        "N" | "n" => n,
        "B" | "b" => format!("{{{d}}}"),
        "P" | "p" => format!("({d})"),
        "X" | "x" => {
            let b = id.as_bytes();
            let hex = |r: &[u8]| r.iter().map(|x| format!("{x:02x}")).collect::<String>();
            let tail: Vec<String> = b[8..].iter().map(|x| format!("0x{x:02x}")).collect();
            format!(
                "{{0x{},0x{},0x{},{{{}}}}}",
                hex(&b[0..4]),
                hex(&b[4..6]),
                hex(&b[6..8]),
                tail.join(",")
            )
        }
        _ => {
            return Err(c.invalid(
                0,
                "must be one of the GUID format specifiers 'N', 'D', 'B', 'P' or 'X'.",
            ));
        }
    };
    Ok(Value::String(out))
}
