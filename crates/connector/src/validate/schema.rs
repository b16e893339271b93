//! Layer 1: Microsoft's published JSON Schemas, compiled in.
//!
//! The three schemas (vendored unchanged in `schemas/`, see `SOURCE.md`) are
//! JSONC; their comments are stripped before parsing. `apiDefinition` is
//! draft-04, the two paconn schemas draft-07. The validators are built
//! offline: every `$ref` in them is local, and none is ever fetched.
//!
//! apiDefinition's references name definitions such as
//! `#/definitions/x-ms-api-annotation<info>`: `<` and `>` are not allowed in
//! a URI, so strict resolvers refuse them. [`encode_refs`] percent-encodes
//! such characters in the parsed `$ref` strings (`%3C`, `%3E`), which names
//! the same definitions (fragments are percent-decoded before the pointer is
//! followed). The vendored files stay byte for byte as published.

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::Value;

use super::Sink;
use crate::{Error, json_path::JPath, jsonc};

const API_DEFINITION: &str =
    include_str!("../../schemas/apiDefinition.swagger.schema.json");
const API_PROPERTIES: &str =
    include_str!("../../schemas/paconn-apiProperties.schema.json");
const SETTINGS: &str = include_str!("../../schemas/paconn-settings.schema.json");

type Compiled = Result<Validator, String>;

fn compile(text: &str, draft: Draft) -> Compiled {
    let mut schema = jsonc::parse(text).map_err(|e| e.to_string())?;
    encode_refs(&mut schema);
    jsonschema::options()
        .with_draft(draft)
        .offline()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| e.to_string())
}

fn get(
    cell: &'static OnceLock<Compiled>,
    name: &'static str,
    text: &str,
    draft: Draft,
) -> Result<&'static Validator, Error> {
    cell.get_or_init(|| compile(text, draft))
        .as_ref()
        .map_err(|message| Error::EmbeddedSchema { name, message: message.clone() })
}

pub(super) fn api_definition() -> Result<&'static Validator, Error> {
    static CELL: OnceLock<Compiled> = OnceLock::new();
    get(&CELL, "apiDefinition.swagger.schema.json", API_DEFINITION, Draft::Draft4)
}

pub(super) fn api_properties() -> Result<&'static Validator, Error> {
    static CELL: OnceLock<Compiled> = OnceLock::new();
    get(&CELL, "paconn-apiProperties.schema.json", API_PROPERTIES, Draft::Draft7)
}

pub(super) fn settings() -> Result<&'static Validator, Error> {
    static CELL: OnceLock<Compiled> = OnceLock::new();
    get(&CELL, "paconn-settings.schema.json", SETTINGS, Draft::Draft7)
}

/// Percent-encodes the characters of `$ref` strings that a URI cannot hold.
fn encode_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(r) if key == "$ref" => *r = encode_uri(r),
                    _ => encode_refs(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(encode_refs),
        _ => {}
    }
}

fn encode_uri(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let allowed = c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?#%".contains(c);
        if allowed {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// One `schema` error per violation, at the instance's JSON path. Messages
/// are masked: they describe the value's place, never its content (which
/// could be a secret, or a whole document for `oneOf`).
pub(super) fn check(validator: &Validator, doc: &Value, sink: &mut Sink<'_>) {
    for error in validator.iter_errors(doc) {
        let path = JPath::from_pointer(doc, error.instance_path().as_str());
        let keyword =
            error.schema_path().as_str().rsplit('/').next().unwrap_or("").to_owned();
        let message = match keyword.as_str() {
            // The masked text of `not` prints the whole forbidden schema.
            "not" => "value matches a schema it must not match".to_owned(),
            _ => error.masked_with("value").to_string(),
        };
        let schema_path = error.schema_path().as_str().to_owned();
        sink.error("schema", &path, format!("{message} (schema: {schema_path})"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_percent_encoded_where_uris_need_it() {
        assert_eq!(
            encode_uri("#/definitions/x-ms-api-annotation<info>"),
            "#/definitions/x-ms-api-annotation%3Cinfo%3E"
        );
        assert_eq!(encode_uri("#/definitions/a b"), "#/definitions/a%20b");
        assert_eq!(encode_uri("#/definitions/plain"), "#/definitions/plain");
    }

    #[test]
    fn remote_references_are_never_fetched() {
        let schema = r#"{"$ref": "https://example.invalid/schema.json"}"#;
        let err = compile(schema, Draft::Draft7).unwrap_err();
        assert!(err.contains("example.invalid"), "{err}");
    }

    #[test]
    fn the_three_schemas_compile() {
        api_definition().unwrap();
        api_properties().unwrap();
        settings().unwrap();
    }
}
