//! Request bodies: a JSON object extractor that answers Graph's errors, and
//! the property checks Graph applies to directory objects.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use serde_json::{Map, Value};

use crate::error::GraphError;

/// A request body that must be a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = GraphError;

    async fn from_request(req: Request, state: &S) -> Result<Self, GraphError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                GraphError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "Maximum request length exceeded: the request body is over 4 MB.",
                )
            } else {
                GraphError::bad_request(format!(
                    "The request body could not be read: {rejection}"
                ))
            }
        })?;
        if let Some(ct) = content_type
            && !ct.starts_with("application/json")
            && !ct.starts_with("text/plain")
        {
            return Err(GraphError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!("Content-Type '{ct}' is not supported; send application/json."),
            ));
        }
        parse_object(&bytes).map(JsonObject)
    }
}

/// Parses bytes as a JSON object, with Graph's error on failure.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, GraphError> {
    let unreadable = |detail: String| {
        GraphError::bad_request(format!(
            "Unable to read JSON request payload. Please ensure Content-Type header is set \
             and payload is of valid JSON format. ({detail})"
        ))
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(unreadable("the body is empty".to_owned()));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            Err(unreadable(format!("expected an object, found {}", kind_name(&other))))
        }
        Err(e) => Err(unreadable(json_error(&e))),
    }
}

/// A JSON parse error for a message: where it is and what; nesting deeper
/// than serde_json's recursion limit is said in words.
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        format!(
            "line {}, column {}: the JSON nests deeper than {} levels",
            e.line(),
            e.column(),
            crate::limits::MAX_JSON_DEPTH
        )
    } else {
        format!("line {}, column {}: {text}", e.line(), e.column())
    }
}

/// A JSON kind's name for messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON kind a property must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// A string or null.
    OptStr,
    /// A boolean.
    Bool,
    /// An array of strings.
    StrArray,
    /// An object.
    Object,
    /// An array.
    Array,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::OptStr => v.is_string() || v.is_null(),
            Kind::Bool => v.is_boolean(),
            Kind::StrArray => {
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            }
            Kind::Object => v.is_object(),
            Kind::Array => v.is_array(),
        }
    }
}

/// Checks every property of `body` is known (`props`) and of the right kind.
/// `entity` is the type name (`group`), `resource` the directory's (`Group`).
pub fn check_props(
    body: &Map<String, Value>,
    entity: &str,
    resource: &str,
    props: &[(&str, Kind)],
) -> Result<(), GraphError> {
    for (key, value) in body {
        if key.contains("@odata.") {
            continue;
        }
        match props.iter().find(|(name, _)| name == key) {
            None => {
                return Err(GraphError::bad_request(format!(
                    "The property '{key}' does not exist on type 'microsoft.graph.{entity}'. \
                     Make sure to only use property names that are defined by the type."
                )));
            }
            Some((_, kind)) if !kind.accepts(value) => {
                return Err(invalid_value(key, resource));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Graph's directory message for a missing or invalid property.
pub fn invalid_value(property: &str, resource: &str) -> GraphError {
    GraphError::directory_bad_request(format!(
        "Invalid value specified for property '{property}' of resource '{resource}'."
    ))
}

/// A required, non-empty string property.
pub fn required_str<'a>(
    body: &'a Map<String, Value>,
    property: &str,
    resource: &str,
) -> Result<&'a str, GraphError> {
    body.get(property)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid_value(property, resource))
}
