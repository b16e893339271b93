//! Entry points for the fuzz targets (`crates/fuzz`): the emulator's
//! parsers of untrusted input, callable on bytes. Not an API.

use serde_json::{Value, json};

use crate::{body, identity, odata::QueryOptions};

/// The `$batch` payload checks: the number of items, or the 400's message.
pub fn batch_payload(bytes: &[u8]) -> Result<usize, String> {
    crate::batch::parse_for_fuzz(bytes)
}

/// A resource body (a JSON object): its number of properties, or the 400.
pub fn json_object(bytes: &[u8]) -> Result<usize, String> {
    body::parse_object(bytes).map(|m| m.len()).map_err(|e| e.to_string())
}

/// OData query options, then the filter run and the projection applied to
/// a few objects: the number of matches, or the 400's message.
pub fn query(query: &str) -> Result<usize, String> {
    let options = QueryOptions::parse(query).map_err(|e| e.to_string())?;
    let objects = [
        json!({"id": "1", "displayName": "Adele", "mail": null, "accountEnabled": true,
               "n": 3, "nested": {"x": "y"}, "importance": "high"}),
        json!({"id": "2", "displayName": "", "n": -1.5, "tags": ["a"]}),
        json!("not an object"),
        Value::Null,
    ];
    let mut matches = 0;
    for object in &objects {
        if options.filter.as_ref().is_none_or(|f| f.matches(object)) {
            matches += 1;
        }
        if let Some(filter) = &options.filter {
            let _ = filter.is_advanced();
        }
        let _ = crate::odata::project(object, options.select.as_deref(), None, "user");
    }
    Ok(matches)
}

/// The identity platform's form decoding: the number of parameters.
pub fn form(bytes: &[u8]) -> usize {
    identity::parse_form_for_fuzz(bytes)
}
