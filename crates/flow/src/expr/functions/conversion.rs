//! Conversion functions, and the number parsing and formatting that
//! `float`, `isFloat`, `isInt` and `formatNumber` share.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{
    AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};
use serde_json::{Map, Value};

use super::{Call, ExprError, Function, Num, f, float_value, to_text, type_name};

pub(super) const FUNCTIONS: &[Function] = &[
    f("array", 1, Some(1), array),
    f("bool", 1, Some(1), bool_),
    f("createArray", 1, None, create_array),
    f("dataUri", 1, Some(1), data_uri),
    f("dataUriToString", 1, Some(1), data_uri_to_string),
    f("dataUriToBinary", 1, Some(1), data_uri_to_binary),
    f("decodeDataUri", 1, Some(1), data_uri_to_binary),
    f("base64", 1, Some(1), base64),
    f("base64ToString", 1, Some(1), base64_to_string),
    f("base64ToBinary", 1, Some(1), base64_to_binary),
    f("binary", 1, Some(1), binary),
    f("decodeBase64", 1, Some(1), base64_to_string),
    f("encodeUriComponent", 1, Some(1), uri_component),
    f("uriComponent", 1, Some(1), uri_component),
    f("decodeUriComponent", 1, Some(1), uri_component_to_string),
    f("uriComponentToString", 1, Some(1), uri_component_to_string),
    f("uriComponentToBinary", 1, Some(1), uri_component_to_binary),
    f("float", 1, Some(2), float),
    f("int", 1, Some(1), int),
    f("decimal", 1, Some(1), decimal),
    f("json", 1, Some(1), json),
    f("string", 1, Some(1), string),
    f("xml", 1, Some(1), not_supported),
    f("xpath", 2, Some(2), not_supported),
];

/// `xml()` and `xpath()` exist in the language (definitions that use them
/// parse) but return XML, which this runtime does not model.
fn not_supported(c: &mut Call) -> Result<Value, ExprError> {
    Err(c
        .error("is not supported by this runtime: XML values are not available locally."))
}

fn array(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Array(vec![c.take(0)]))
}

fn create_array(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Array(std::mem::take(&mut c.args)))
}

fn bool_(c: &mut Call) -> Result<Value, ExprError> {
    match c.arg(0) {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::Number(_) => {
            Ok(Value::Bool(Num::of(c.arg(0)).is_some_and(|n| n.as_f64() != 0.0)))
        }
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        Value::String(_) => Err(c.error(
            "was invoked with a parameter that is not valid. The value cannot be \
             converted to the target type.",
        )),
        _ => Err(c.type_error(0, "a boolean, an integer, a decimal number or a string")),
    }
}

/// The bytes of a value where the platform takes "the string": strings as
/// UTF-8, the binary envelope `{"$content": base64}` as its bytes, other
/// values as their text.
fn bytes(c: &Call, i: usize) -> Result<Vec<u8>, ExprError> {
    if let Value::Object(o) = c.arg(i)
        && let Some(Value::String(content)) = o.get("$content")
    {
        return STANDARD
            .decode(content)
            .map_err(|_| c.invalid(i, "has a '$content' that is not valid base64."));
    }
    Ok(to_text(c.arg(i)).into_bytes())
}

/// The platform's envelope for binary content.
fn binary_value(bytes: &[u8], content_type: &str) -> Value {
    let mut o = Map::new();
    o.insert("$content-type".into(), Value::String(content_type.into()));
    o.insert("$content".into(), Value::String(STANDARD.encode(bytes)));
    Value::Object(o)
}

fn utf8(c: &Call, bytes: Vec<u8>) -> Result<Value, ExprError> {
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        c.error("cannot be evaluated: the decoded content is not valid UTF-8 text.")
    })
}

fn data_uri(c: &mut Call) -> Result<Value, ExprError> {
    let b = bytes(c, 0)?;
    Ok(Value::String(format!(
        "data:text/plain;charset=utf-8;base64,{}",
        STANDARD.encode(b)
    )))
}

/// Decodes `data:[<media type>][;base64],<data>` to its media type and bytes.
fn decode_data_uri(c: &Call) -> Result<(String, Vec<u8>), ExprError> {
    let s = c.string(0)?;
    let bad = || {
        c.invalid(0, "is not a valid data URI ('data:[<media type>][;base64],<data>').")
    };
    let rest = s.strip_prefix("data:").ok_or_else(bad)?;
    let (meta, data) = rest.split_once(',').ok_or_else(bad)?;
    let (media, is_base64) = match meta.strip_suffix(";base64") {
        Some(m) => (m, true),
        None => (meta, false),
    };
    let media = media.split(';').next().unwrap_or("").to_string();
    let bytes = if is_base64 {
        STANDARD.decode(data.trim()).map_err(|_| bad())?
    } else {
        percent_decode_str(data).collect()
    };
    Ok((if media.is_empty() { "text/plain".into() } else { media }, bytes))
}

fn data_uri_to_string(c: &mut Call) -> Result<Value, ExprError> {
    let (_, b) = decode_data_uri(c)?;
    utf8(c, b)
}

fn data_uri_to_binary(c: &mut Call) -> Result<Value, ExprError> {
    let (media, b) = decode_data_uri(c)?;
    Ok(binary_value(&b, &media))
}

fn base64(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(STANDARD.encode(bytes(c, 0)?)))
}

fn decode_base64(c: &Call) -> Result<Vec<u8>, ExprError> {
    if let Value::Object(o) = c.arg(0)
        && o.contains_key("$content")
    {
        return bytes(c, 0);
    }
    let s = c.string(0)?;
    STANDARD.decode(s.trim()).map_err(|_| c.invalid(0, "is not a valid base64 string."))
}

fn base64_to_string(c: &mut Call) -> Result<Value, ExprError> {
    let b = decode_base64(c)?;
    utf8(c, b)
}

fn base64_to_binary(c: &mut Call) -> Result<Value, ExprError> {
    let b = decode_base64(c)?;
    Ok(binary_value(&b, "application/octet-stream"))
}

fn binary(c: &mut Call) -> Result<Value, ExprError> {
    Ok(binary_value(&bytes(c, 0)?, "application/octet-stream"))
}

/// What .NET's `Uri.EscapeDataString` escapes: all but `A-Z a-z 0-9 - _ . ~`.
const DATA: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn uri_component(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(utf8_percent_encode(&to_text(c.arg(0)), DATA).to_string()))
}

fn uri_component_to_string(c: &mut Call) -> Result<Value, ExprError> {
    let s = to_text(c.arg(0));
    Ok(Value::String(percent_decode_str(&s).decode_utf8_lossy().into_owned()))
}

fn uri_component_to_binary(c: &mut Call) -> Result<Value, ExprError> {
    let s = to_text(c.arg(0));
    let b: Vec<u8> = percent_decode_str(&s).collect();
    Ok(binary_value(&b, "application/octet-stream"))
}

fn not_convertible(c: &Call) -> ExprError {
    c.error(
        "was invoked with a parameter that is not valid. The value cannot be converted \
         to the target type.",
    )
}

fn float(c: &mut Call) -> Result<Value, ExprError> {
    let locale = c.opt_string(1)?.map(str::to_string);
    match c.arg(0) {
        Value::Number(_) => float_value(c.num(0)?.as_f64()),
        Value::String(s) => {
            let seps = super::number::separators(c, 1, locale.as_deref())?;
            match super::number::parse_float(s, seps) {
                Some(x) => float_value(x),
                None => Err(not_convertible(c)),
            }
        }
        _ => Err(c.type_error(0, "a string or a number")),
    }
}

fn int(c: &mut Call) -> Result<Value, ExprError> {
    match c.arg(0) {
        Value::Number(_) => match c.num(0)? {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                Ok(Value::from(f as i64))
            }
            Num::Float(_) => Err(not_convertible(c)),
        },
        Value::String(s) => {
            super::number::parse_int(s).map(Value::from).ok_or_else(|| not_convertible(c))
        }
        Value::Bool(b) => Ok(Value::from(i64::from(*b))),
        _ => Err(c.type_error(0, "a string or a number")),
    }
}

/// `decimal()`: .NET's 128-bit decimal has no JSON type here, so the
/// value is a double (precision beyond 15-17 digits is lost).
fn decimal(c: &mut Call) -> Result<Value, ExprError> {
    match c.arg(0) {
        Value::Number(_) => c.num(0)?.value(),
        Value::String(s) => match super::number::parse_float(s, (',', '.')) {
            Some(x) => float_value(x),
            None => Err(not_convertible(c)),
        },
        _ => Err(c.type_error(0, "a string or a number")),
    }
}

fn json(c: &mut Call) -> Result<Value, ExprError> {
    match c.take(0) {
        // The reference: "If the string is null, the function returns an
        // empty object."
        Value::Null => Ok(Value::Object(Map::new())),
        Value::String(s) => serde_json::from_str::<Value>(&s)
            .or_else(|e| super::lenient_json::parse(&s).map_err(|_| e))
            .map_err(|e| {
                ExprError::eval(format!(
                    "The template language function 'json' parameter is not valid. The \
                     provided value '{}' cannot be parsed: {e}.",
                    truncate(&s)
                ))
            }),
        Value::Object(o) if o.contains_key("$content") => {
            c.args[0] = Value::Object(o);
            let b = bytes(c, 0)?;
            serde_json::from_slice(&b).map_err(|e| {
                c.error(format!(
                    "parameter is not valid: the content cannot be parsed: {e}."
                ))
            })
        }
        other => {
            let t = type_name(&other);
            if matches!(other, Value::Object(_) | Value::Array(_)) {
                Ok(other)
            } else {
                Err(c.error(format!("expects its parameter to be a string. The provided value is of type '{t}'.")))
            }
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 100 {
        format!("{}...", s.chars().take(100).collect::<String>())
    } else {
        s.to_string()
    }
}

fn string(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(to_text(c.arg(0))))
}
