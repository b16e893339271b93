//! The wire format: requests written by hand (serde_json only escapes what
//! needs it), and pages of answers read borrowed from their text.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{
    BatchItem, Body,
    outcome::{Headers, JsonText, ResponseBody, Shared},
};

/// One item's answer: status, headers, body.
pub(super) type ItemAnswer = (u16, Headers, ResponseBody);

/// A page of a `$batch` answer, borrowed from its text.
#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(borrow, default)]
    responses: Vec<WireAnswer<'a>>,
    #[serde(rename = "@odata.nextLink", default)]
    next: Option<String>,
}

/// One item's answer, borrowed from the page's text: its headers and body
/// become slices of that text, shared, without a copy.
#[derive(Deserialize)]
struct WireAnswer<'a> {
    #[serde(borrow)]
    id: WireId<'a>,
    status: u16,
    #[serde(borrow, default)]
    headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

/// An item id as Graph echoes it: a string (borrowed unless it has escapes),
/// or a number if one was sent.
enum WireId<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for WireId<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WireId<'a>, D::Error> {
        struct Id<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Id<'a> {
            type Value = WireId<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id (string or number)")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<WireId<'a>, E> {
                Ok(WireId::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_owned()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_string()))
            }
        }
        d.deserialize_any(Id(std::marker::PhantomData))
    }
}

/// Reads a page of a `$batch` answer into `items`; returns its next link.
/// The text is checked as UTF-8 once and shared by every answer on the
/// page: ids, headers and bodies are slices of it, not copies.
pub(super) fn read_page(
    bytes: Vec<u8>,
    items: &mut Vec<(Shared, ItemAnswer)>,
) -> Result<Option<String>, String> {
    let text: Arc<String> = match String::from_utf8(bytes) {
        Ok(text) => Arc::new(text),
        Err(e) => {
            return Err(format!("not UTF-8 (at byte {})", e.utf8_error().valid_up_to()));
        }
    };
    let page: WirePage = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    items.reserve(page.responses.len());
    for answer in page.responses {
        let id = match answer.id {
            WireId::Borrowed(id) => Shared::within(&text, id),
            WireId::Owned(id) => Shared::copy(&id),
        };
        // `null` reads as `None`.
        let headers = match answer.headers {
            Some(raw) => Headers::raw(Shared::within(&text, raw.get())),
            None => Headers::default(),
        };
        let body = match answer.body.map(RawValue::get) {
            None => ResponseBody::Empty,
            // A string body with a non-JSON content type is base64.
            Some(raw)
                if raw.starts_with('"')
                    && headers.get("content-type").is_some_and(|v| {
                        !v.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"json"))
                    }) =>
            {
                match serde_json::from_str::<String>(raw)
                    .ok()
                    .and_then(|b64| STANDARD.decode(b64).ok())
                {
                    Some(bytes) => ResponseBody::Bytes(bytes),
                    None => {
                        ResponseBody::Json(JsonText::shared(Shared::within(&text, raw)))
                    }
                }
            }
            Some(raw) => ResponseBody::Json(JsonText::shared(Shared::within(&text, raw))),
        };
        items.push((id, (answer.status, headers, body)));
    }
    Ok(page.next)
}

/// [`read_page`] for the fuzz targets, reading every part of every answer.
pub(crate) fn read_page_for_fuzz(bytes: Vec<u8>) -> Result<usize, String> {
    let mut items = Vec::new();
    read_page(bytes, &mut items)?;
    for (id, (_, headers, body)) in &items {
        let _ = (id.as_str(), headers.get("content-type"), headers.iter().count());
        match body {
            ResponseBody::Json(text) => {
                let _ = text.to_value();
            }
            ResponseBody::Bytes(bytes) => {
                let _ = bytes.len();
            }
            ResponseBody::Empty => {}
        }
    }
    Ok(items.len())
}

/// Writes one request of a batch as JSON: `{"id", "method", "url",
/// "headers", "body", "dependsOn"}`, borrowing everything.
pub(super) fn write_request(
    out: &mut Vec<u8>,
    item: &BatchItem,
    depends_on: Option<&str>,
) {
    out.extend_from_slice(b"{\"id\":");
    json_string(out, &item.id);
    out.extend_from_slice(b",\"method\":\"");
    out.extend_from_slice(item.method.as_str().as_bytes());
    out.extend_from_slice(b"\",\"url\":");
    json_string(out, &item.url);
    // Serializing borrowed strings and values into a Vec cannot fail.
    if !item.headers.is_empty() {
        out.extend_from_slice(b",\"headers\":");
        let _ = serde_json::to_writer(&mut *out, &WireHeaders(&item.headers));
    }
    match &item.body {
        Some(Body::Json(v)) => {
            out.extend_from_slice(b",\"body\":");
            let _ = serde_json::to_writer(&mut *out, v);
        }
        Some(Body::Bytes(b)) => {
            out.extend_from_slice(b",\"body\":");
            json_string(out, &STANDARD.encode(b));
        }
        None => {}
    }
    if let Some(d) = depends_on {
        out.extend_from_slice(b",\"dependsOn\":[");
        json_string(out, d);
        out.push(b']');
    }
    out.push(b'}');
}

/// A JSON string, copied as it is when nothing in it needs escaping (the
/// usual case for ids and URLs); serde_json escapes the rest.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// An item's headers as a JSON object, in order.
struct WireHeaders<'a>(&'a [(String, String)]);

impl Serialize for WireHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}
#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Method;

    #[test]
    fn requests_are_written_as_graph_reads_them() {
        let odd = "q\"uote\\ \u{1}é/";
        let items = [
            BatchItem::get(odd, "/me?$select=id&x=\"y\""),
            BatchItem::post("2", "/groups", json!({"displayName": odd}))
                .set_header("If-Match", "*"),
            BatchItem::new("3", Method::Put, "/me/photo/$value")
                .bytes("image/png", vec![0, 1, 2]),
        ];
        let mut out = Vec::new();
        for (item, depends_on) in items.iter().zip([None, Some(odd), None]) {
            out.clear();
            write_request(&mut out, item, depends_on);
            let written: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(written["id"], item.id.as_str());
            assert_eq!(written["method"], item.method.as_str());
            assert_eq!(written["url"], item.url.as_str());
            for (name, value) in &item.headers {
                assert_eq!(written["headers"][name], value.as_str());
            }
            match &item.body {
                Some(Body::Json(v)) => assert_eq!(&written["body"], v),
                Some(Body::Bytes(_)) => assert_eq!(written["body"], "AAEC"),
                None => assert!(written.get("body").is_none()),
            }
            assert_eq!(written.get("dependsOn"), depends_on.map(|d| json!([d])).as_ref());
        }
    }

    #[test]
    fn a_page_is_read_into_shared_slices() {
        let page = br#"{"responses": [
            {"id": "a\u0041", "status": 201, "headers": {"Location": "/x", "Content-Type": "application/json"}, "body": {"id": "g1"}},
            {"body": "aGk=", "headers": {"content-type": "text/plain"}, "status": 200, "id": 7},
            {"id": "n", "status": 204, "body": null, "headers": null, "extra": [1]}
        ], "@odata.nextLink": "http://h/v1.0/$batch?$skiptoken=t"}"#;
        let mut items = Vec::new();
        let next = read_page(page.to_vec(), &mut items).unwrap();
        assert_eq!(next.as_deref(), Some("http://h/v1.0/$batch?$skiptoken=t"));
        let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["aA", "7", "n"]);
        let (status, headers, body) = &items[0].1;
        assert_eq!(*status, 201);
        assert_eq!(headers.get("location"), Some("/x"));
        assert_eq!(headers.len(), 2);
        let ResponseBody::Json(body) = body else { panic!("{body:?}") };
        assert_eq!(body.get(), r#"{"id": "g1"}"#, "the body's own text");
        assert_eq!(items[1].1.2, ResponseBody::Bytes(b"hi".to_vec()));
        assert_eq!(items[2].1.2, ResponseBody::Empty);
        assert!(items[2].1.1.is_empty());
    }

    #[test]
    fn an_unreadable_page_says_where() {
        let mut items = Vec::new();
        let cases: [(&[u8], &str); 5] = [
            (
                b"{\"responses\": [{\"id\": \"a\", \"status\": 200}",
                "EOF while parsing a list at line 1 column 41",
            ),
            (
                b"{\"responses\": [{\"status\": 200}]}",
                "missing field `id` at line 1 column 30",
            ),
            (
                b"{\"responses\": [{\"id\": \"a\", \"status\": \"ok\"}]}",
                "invalid type: string \"ok\", expected u16 at line 1 column 41",
            ),
            (
                b"{\"responses\": [{\"id\": true, \"status\": 200}]}",
                "invalid type: boolean `true`, expected an id (string or number) at line 1 column 26",
            ),
            (b"{\"responses\": []} x", "trailing characters at line 1 column 19"),
        ];
        for (page, expected) in cases {
            assert_eq!(read_page(page.to_vec(), &mut items).unwrap_err(), expected);
        }
        assert_eq!(
            read_page(b"{\"a\": \"\xff\"}".to_vec(), &mut items).unwrap_err(),
            "not UTF-8 (at byte 7)"
        );
    }
}
