//! Layer 3: the connector certification rules ("Get your connector
//! certified"): title, description, contact and metadata, operations and
//! parameters that explain themselves in the designer, https, no schema on
//! `default` responses, and the brand colour and icon.
//!
//! Each is reported through [`Sink::cert`]: a warning for a private custom
//! connector, an error with `--certification`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Sink, parse_hex_color};
use crate::{json_path::JPath, png};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
const VISIBILITY: [&str; 3] = ["important", "advanced", "internal"];

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// The rules on `apiDefinition.swagger.json`.
pub(super) fn definition(doc: &Value, sink: &mut Sink<'_>) {
    let root = JPath::root();
    let Some(doc_map) = doc.as_object() else { return };
    let empty = Map::new();
    let info = doc_map.get("info").and_then(Value::as_object).unwrap_or(&empty);
    let info_at = root.key("info");

    let title = text(info, "title").unwrap_or_default();
    let length = title.chars().count();
    if length > 30 {
        sink.cert(
            "cert.title-length",
            &info_at.key("title"),
            format!("the title has {length} characters; at most 30 are allowed"),
        );
    }
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        if word.eq_ignore_ascii_case("api") || word.eq_ignore_ascii_case("connector") {
            sink.cert(
                "cert.title-words",
                &info_at.key("title"),
                format!(
                    "the title contains the word \"{word}\", which titles may not use"
                ),
            );
        }
    }

    let description = text(info, "description").unwrap_or_default();
    let length = description.chars().count();
    if !(30..=500).contains(&length) {
        sink.cert(
            "cert.description-length",
            &info_at.key("description"),
            format!("info.description has {length} characters; 30 to 500 are required"),
        );
    }

    let contact = info.get("contact").and_then(Value::as_object);
    let missing: Vec<_> = ["name", "url", "email"]
        .into_iter()
        .filter(|k| contact.and_then(|c| text(c, k)).is_none_or(str::is_empty))
        .collect();
    if !missing.is_empty() {
        sink.cert(
            "cert.contact",
            &info_at.key("contact"),
            format!("info.contact needs {}", missing.join(", ")),
        );
    }

    let metadata = doc_map.get("x-ms-connector-metadata").and_then(Value::as_array);
    let names: BTreeSet<String> = metadata
        .into_iter()
        .flatten()
        .filter(|m| {
            m.get("propertyValue").and_then(Value::as_str).is_some_and(|v| !v.is_empty())
        })
        .filter_map(|m| m.get("propertyName").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect();
    let missing: Vec<_> = ["Website", "Privacy policy", "Categories"]
        .into_iter()
        .filter(|n| !names.contains(&n.to_ascii_lowercase()))
        .collect();
    if !missing.is_empty() {
        sink.cert(
            "cert.metadata",
            &root.key("x-ms-connector-metadata"),
            format!("x-ms-connector-metadata needs {}", missing.join(", ")),
        );
    }

    let schemes: Vec<&str> = doc_map
        .get("schemes")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if schemes != ["https"] {
        sink.cert(
            "cert.https",
            &root.key("schemes"),
            "schemes must be exactly [\"https\"]",
        );
    }

    let Some(paths) = doc_map.get("paths").and_then(Value::as_object) else { return };
    for (path, item) in paths {
        let item_at = root.key("paths").key(path);
        let Some(item) = item.as_object() else { continue };
        parameters(doc, item.get("parameters"), &item_at.key("parameters"), sink);
        for method in METHODS {
            let Some(op) = item.get(method).and_then(Value::as_object) else { continue };
            operation(doc, op, &item_at.key(method), sink);
        }
    }
    visibility(doc, &root, sink);
}

fn operation(doc: &Value, op: &Map<String, Value>, at: &JPath, sink: &mut Sink<'_>) {
    match text(op, "summary").map(str::trim) {
        None | Some("") => {
            sink.cert("cert.summary-missing", at, "the operation has no summary")
        }
        Some(summary) => {
            let length = summary.chars().count();
            if length > 80 {
                sink.cert(
                    "cert.summary-length",
                    &at.key("summary"),
                    format!(
                        "the summary has {length} characters; at most 80 are allowed"
                    ),
                );
            }
            if summary.ends_with(|c: char| c.is_ascii_punctuation() && c != ')') {
                sink.cert(
                    "cert.summary-punctuation",
                    &at.key("summary"),
                    "a summary must not end with punctuation",
                );
            }
        }
    }
    if text(op, "description").is_none_or(|d| d.trim().is_empty()) {
        sink.cert("cert.operation-description", at, "the operation has no description");
    }
    match text(op, "operationId") {
        None | Some("") => sink.cert("cert.operation-id", at, "the operation has no operationId"),
        Some(id) if !is_camel_case(id) => sink.cert(
            "cert.operation-id",
            &at.key("operationId"),
            format!("operationId {id} is not CamelCase (letters and digits, starting with a capital)"),
        ),
        Some(_) => {}
    }
    parameters(doc, op.get("parameters"), &at.key("parameters"), sink);
    if let Some(default) = op.get("responses").and_then(|r| r.get("default"))
        && default.get("schema").is_some()
    {
        sink.cert(
            "cert.default-response-schema",
            &at.key("responses").key("default").key("schema"),
            "a default response must not have a schema",
        );
    }
}

/// Letters and digits only, starting with an upper-case letter.
fn is_camel_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_uppercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
}

fn parameters(doc: &Value, list: Option<&Value>, at: &JPath, sink: &mut Sink<'_>) {
    let Some(list) = list.and_then(Value::as_array) else { return };
    for (i, p) in list.iter().enumerate() {
        let here = at.index(i);
        let p = match p.get("$ref").and_then(Value::as_str) {
            Some(r) => match r
                .strip_prefix('#')
                .and_then(|ptr| crate::json_path::resolve(doc, ptr))
            {
                Some(target) => target,
                None => continue, // reported by swagger.ref-unresolved
            },
            None => p,
        };
        let Some(p) = p.as_object() else { continue };
        let name = text(p, "name").unwrap_or("?");
        if text(p, "x-ms-summary").is_none_or(|s| s.trim().is_empty()) {
            sink.cert(
                "cert.param-summary",
                &here,
                format!("parameter {name} has no x-ms-summary"),
            );
        }
        if text(p, "description").is_none_or(|s| s.trim().is_empty()) {
            sink.cert(
                "cert.param-description",
                &here,
                format!("parameter {name} has no description"),
            );
        }
    }
}

/// Every `x-ms-visibility` anywhere in the document.
fn visibility(at_value: &Value, path: &JPath, sink: &mut Sink<'_>) {
    match at_value {
        Value::Object(map) => {
            for (key, value) in map {
                let here = path.key(key);
                if key == "x-ms-visibility" {
                    let ok = value.as_str().is_some_and(|v| VISIBILITY.contains(&v));
                    if !ok {
                        sink.cert(
                            "cert.visibility",
                            &here,
                            format!(
                                "x-ms-visibility must be one of {}",
                                VISIBILITY.join(", ")
                            ),
                        );
                    }
                } else {
                    visibility(value, &here, sink);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visibility(item, &path.index(i), sink);
            }
        }
        _ => {}
    }
}

/// The rules on `apiProperties.json`: the brand colour.
pub(super) fn properties(doc: &Value, sink: &mut Sink<'_>) {
    let at = JPath::root().key("properties").key("iconBrandColor");
    let Some(color) = doc.pointer("/properties/iconBrandColor").and_then(Value::as_str)
    else {
        sink.cert("cert.brand-color", &at, "iconBrandColor is missing");
        return;
    };
    match (color.len(), parse_hex_color(color)) {
        (7, Some([0xff, 0xff, 0xff])) => {
            sink.cert("cert.brand-color", &at, "the brand colour must not be white")
        }
        (7, Some([0x00, 0x7e, 0xe5])) => sink.cert(
            "cert.brand-color",
            &at,
            "the brand colour is the portal's default #007ee5; use your own",
        ),
        (7, Some(_)) => {}
        _ => sink.cert(
            "cert.brand-color",
            &at,
            format!("{color} is not a colour of the form #RRGGBB"),
        ),
    }
}

/// The icon: a PNG, square, 100 to 230 pixels, on a background that is
/// neither white nor transparent (judged by its four corners).
pub(super) fn icon(bytes: &[u8], sink: &mut Sink<'_>) {
    let root = JPath::root();
    let image = match png::decode(bytes) {
        Ok(image) => image,
        Err(why) => {
            return sink.cert(
                "cert.icon",
                &root,
                format!("the icon is not a valid PNG: {why}"),
            );
        }
    };
    let (w, h) = (image.width, image.height);
    if w != h || !(100..=230).contains(&w) {
        sink.cert(
            "cert.icon",
            &root,
            format!("the icon is {w}x{h}; it must be square, 100 to 230 pixels"),
        );
    }
    let corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)];
    let pixels: Vec<[u8; 4]> =
        corners.iter().filter_map(|&(x, y)| image.pixel(x, y)).collect();
    if pixels.iter().any(|p| p[3] < 0xff) {
        sink.cert("cert.icon", &root, "the icon's background is transparent");
    } else if pixels.iter().any(|p| p[0] > 0xf0 && p[1] > 0xf0 && p[2] > 0xf0) {
        sink.cert("cert.icon", &root, "the icon's background is white");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case() {
        assert!(is_camel_case("Batch"));
        assert!(is_camel_case("BatchBeta2"));
        assert!(!is_camel_case("batch"));
        assert!(!is_camel_case("Batch_Beta"));
        assert!(!is_camel_case("Batch-Beta"));
    }
}
