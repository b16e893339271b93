//! JSON paths for findings: `$.paths['/v1.0/$batch'].post.parameters[0]`.

use serde_json::Value;

/// A path from the document's root, rendered as it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JPath(String);

impl JPath {
    pub(crate) fn root() -> Self {
        JPath("$".to_owned())
    }

    /// The path to member `key` of this object.
    pub(crate) fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '@'));
        if plain {
            JPath(format!("{}.{key}", self.0))
        } else {
            JPath(format!(
                "{}['{}']",
                self.0,
                key.replace('\\', "\\\\").replace('\'', "\\'")
            ))
        }
    }

    /// The path to element `index` of this array.
    pub(crate) fn index(&self, index: usize) -> Self {
        JPath(format!("{}[{index}]", self.0))
    }

    /// Converts a JSON pointer into `doc` (`/paths/~1me/get`) to a path,
    /// using the document to tell array indices from object keys.
    pub(crate) fn from_pointer(doc: &Value, pointer: &str) -> Self {
        let mut path = JPath::root();
        let mut at = Some(doc);
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            match (at, token.parse::<usize>()) {
                (Some(Value::Array(items)), Ok(i)) => {
                    path = path.index(i);
                    at = items.get(i);
                }
                (current, _) => {
                    path = path.key(&token);
                    at = current.and_then(|v| v.get(&token));
                }
            }
        }
        path
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resolves a local JSON pointer (`/definitions/X`) in `doc`.
pub(crate) fn resolve<'a>(doc: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(doc);
    }
    let decoded = percent_decode(pointer)?;
    doc.pointer(&decoded)
}

/// `$ref` fragments may be percent-encoded (`%24batch`).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_indices_and_odd_names() {
        let p = JPath::root()
            .key("paths")
            .key("/v1.0/$batch")
            .key("post")
            .key("x-ms-visibility");
        assert_eq!(p.as_str(), "$.paths['/v1.0/$batch'].post.x-ms-visibility");
        assert_eq!(
            JPath::root().key("a").index(2).key("it's").as_str(),
            "$.a[2]['it\\'s']"
        );
        assert_eq!(JPath::root().key("200").as_str(), "$['200']");
    }

    #[test]
    fn pointers_use_the_document_for_indices() {
        let doc = json!({"a": [{"0": 1}], "m": {"0": true}});
        assert_eq!(JPath::from_pointer(&doc, "/a/0/0").as_str(), "$.a[0]['0']");
        assert_eq!(JPath::from_pointer(&doc, "/m/0").as_str(), "$.m['0']");
        assert_eq!(JPath::from_pointer(&doc, "/x~1y").as_str(), "$['x/y']");
        assert_eq!(JPath::from_pointer(&doc, "").as_str(), "$");
    }

    #[test]
    fn resolve_decodes_percent_escapes() {
        let doc = json!({"definitions": {"$b": 1}});
        assert_eq!(resolve(&doc, "/definitions/%24b"), Some(&json!(1)));
        assert_eq!(resolve(&doc, "/definitions/zz"), None);
        assert_eq!(resolve(&doc, "/definitions/%2"), None);
    }
}
