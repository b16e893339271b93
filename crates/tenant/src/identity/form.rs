//! Form bodies and query strings as the identity endpoints read and write
//! them (`application/x-www-form-urlencoded`, through `form_urlencoded`), and
//! the random values and hashes codes and tokens are made of.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A request's parameters, by name (the last of a repeated name wins).
pub(crate) type Params = HashMap<String, String>;

/// A parameter's trimmed value, if present and not blank.
pub(crate) fn param<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Parses `application/x-www-form-urlencoded` (invalid UTF-8 is replaced, as
/// the WHATWG URL standard's decoder does).
pub(crate) fn parse_form(bytes: &[u8]) -> Params {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// A sign-in or consent page's answer: the page's own form, and the request
/// the page was shown for (its hidden `request` field, as [`encode_pairs`]
/// wrote it).
pub(crate) fn page_answer(body: &[u8]) -> (Params, Params) {
    let form = parse_form(body);
    let request =
        parse_form(form.get("request").map(String::as_bytes).unwrap_or_default());
    (form, request)
}

/// Encodes `pairs` as `application/x-www-form-urlencoded`.
pub(crate) fn encode_pairs(pairs: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

/// `bytes` random bytes, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut raw = Vec::with_capacity(bytes + 16);
    while raw.len() < bytes {
        raw.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    raw.truncate(bytes);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The key a code or token is stored under (SHA-256, base64url): the value
/// itself is never kept.
pub(crate) fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trips() {
        let pairs = [
            ("a b", "x&y=z+é".to_owned()),
            ("redirect_uri", "http://127.0.0.1:8080/cb?q=1".to_owned()),
        ];
        let encoded = encode_pairs(&pairs);
        let parsed = parse_form(encoded.as_bytes());
        assert_eq!(parsed["a b"], "x&y=z+é");
        assert_eq!(parsed["redirect_uri"], "http://127.0.0.1:8080/cb?q=1");
        assert_eq!(parse_form(b"k=a+b%20c&&=&x")["k"], "a b c");
        assert_eq!(parse_form(b"x")["x"], "");
    }
}
