//! A table of malformed `$batch` payloads: each gets its expected status and
//! error code, a message, and never a 5xx.

use crate::Harness;

fn get(id: &str) -> String {
    format!(r#"{{"id":"{id}","method":"GET","url":"/me"}}"#)
}

fn many(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| get(&i.to_string())).collect();
    format!(r#"{{"requests":[{}]}}"#, items.join(","))
}

fn dep(id: &str, on: &str) -> String {
    format!(r#"{{"id":"{id}","method":"GET","url":"/me","dependsOn":["{on}"]}}"#)
}

/// (name, payload, status, code, a fragment of the message)
fn cases() -> Vec<(&'static str, String, u16, &'static str, &'static str)> {
    let bad = |name, payload: &str, fragment| {
        (name, payload.to_owned(), 400, "BadRequest", fragment)
    };
    vec![
        bad("empty body", "", "not valid JSON"),
        bad("not json", "hello", "not valid JSON"),
        bad("truncated", r#"{"requests":["#, "not valid JSON"),
        bad("array root", "[]", "'requests' is missing"),
        bad("string root", r#""requests""#, "'requests' is missing"),
        bad("no requests", r#"{}"#, "'requests' is missing"),
        bad("requests is object", r#"{"requests":{}}"#, "must be an array"),
        bad("requests is string", r#"{"requests":"x"}"#, "must be an array"),
        bad("requests is null", r#"{"requests":null}"#, "must be an array"),
        bad("zero requests", r#"{"requests":[]}"#, "no requests"),
        ("21 requests", many(21), 400, "BadRequest", "at most 20"),
        ("100 requests", many(100), 400, "BadRequest", "at most 20"),
        bad("item is a number", r#"{"requests":[1]}"#, "requests[0] must be an object"),
        bad("item is null", r#"{"requests":[null]}"#, "requests[0] must be an object"),
        bad(
            "missing id",
            r#"{"requests":[{"method":"GET","url":"/me"}]}"#,
            "'id' is missing",
        ),
        bad(
            "empty id",
            r#"{"requests":[{"id":"","method":"GET","url":"/me"}]}"#,
            "id is empty",
        ),
        bad(
            "blank id",
            r#"{"requests":[{"id":"  ","method":"GET","url":"/me"}]}"#,
            "id is empty",
        ),
        bad(
            "id is object",
            r#"{"requests":[{"id":{},"method":"GET","url":"/me"}]}"#,
            "id must be a string",
        ),
        bad(
            "id is bool",
            r#"{"requests":[{"id":true,"method":"GET","url":"/me"}]}"#,
            "id must be a string",
        ),
        bad(
            "duplicate ids",
            &format!(r#"{{"requests":[{},{}]}}"#, get("1"), get("1")),
            "has to be unique",
        ),
        bad(
            "ids differ in case",
            &format!(r#"{{"requests":[{},{}]}}"#, get("abc"), get("ABC")),
            "has to be unique",
        ),
        bad(
            "number and string id",
            r#"{"requests":[{"id":1,"method":"GET","url":"/me"},{"id":"1","method":"GET","url":"/me"}]}"#,
            "has to be unique",
        ),
        bad(
            "missing method",
            r#"{"requests":[{"id":"1","url":"/me"}]}"#,
            "'method' is missing",
        ),
        bad(
            "method is number",
            r#"{"requests":[{"id":"1","method":5,"url":"/me"}]}"#,
            "method must be a string",
        ),
        bad(
            "unknown method",
            r#"{"requests":[{"id":"1","method":"FETCH","url":"/me"}]}"#,
            "'FETCH' is not supported",
        ),
        bad(
            "missing url",
            r#"{"requests":[{"id":"1","method":"GET"}]}"#,
            "'url' is missing",
        ),
        bad(
            "empty url",
            r#"{"requests":[{"id":"1","method":"GET","url":""}]}"#,
            "url is empty",
        ),
        bad(
            "url is array",
            r#"{"requests":[{"id":"1","method":"GET","url":["/me"]}]}"#,
            "url must be a string",
        ),
        bad(
            "absolute url",
            r#"{"requests":[{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/me"}]}"#,
            "absolute",
        ),
        bad(
            "scheme-relative url",
            r#"{"requests":[{"id":"1","method":"GET","url":"//graph.microsoft.com/v1.0/me"}]}"#,
            "absolute",
        ),
        bad(
            "nested batch",
            r#"{"requests":[{"id":"1","method":"POST","url":"/$batch","headers":{"Content-Type":"application/json"},"body":{"requests":[]}}]}"#,
            "another $batch",
        ),
        bad(
            "body without headers",
            r#"{"requests":[{"id":"7","method":"POST","url":"/groups","body":{"displayName":"x"}}]}"#,
            "Write request id : 7 does not contain Content-Type",
        ),
        bad(
            "body without content-type",
            r#"{"requests":[{"id":"7","method":"POST","url":"/groups","headers":{"Accept":"application/json"},"body":{}}]}"#,
            "does not contain Content-Type",
        ),
        bad(
            "headers is array",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me","headers":["a"]}]}"#,
            "headers must be an object",
        ),
        bad(
            "header value is number",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me","headers":{"ConsistencyLevel":1}}]}"#,
            "must be a string",
        ),
        bad(
            "header name invalid",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me","headers":{"bad name":"x"}}]}"#,
            "not a valid HTTP header",
        ),
        bad(
            "bad base64 body",
            r#"{"requests":[{"id":"1","method":"PUT","url":"/me/photo/$value","headers":{"Content-Type":"image/png"},"body":"***"}]}"#,
            "not valid base64",
        ),
        bad(
            "dependsOn is string",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":"0"}]}"#,
            "dependsOn must be an array",
        ),
        bad(
            "dependsOn entry is object",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me","dependsOn":[{}]}]}"#,
            "dependsOn entries",
        ),
        bad(
            "depends on unknown id",
            &format!(r#"{{"requests":[{},{}]}}"#, get("1"), dep("2", "9")),
            "not a request of this batch",
        ),
        bad(
            "depends on itself",
            &format!(r#"{{"requests":[{}]}}"#, dep("1", "1")),
            "depends on itself",
        ),
        bad(
            "two dependencies",
            r#"{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me"},{"id":"3","method":"GET","url":"/me","dependsOn":["1","2"]}]}"#,
            "only one other request",
        ),
        bad(
            "mixed shape: free item beside a chain",
            &format!(r#"{{"requests":[{},{},{}]}}"#, get("1"), get("2"), dep("3", "2")),
            "dependsOn shape",
        ),
        bad(
            "mixed shape: chain then fan",
            &format!(
                r#"{{"requests":[{},{},{},{}]}}"#,
                get("1"),
                dep("2", "1"),
                dep("3", "2"),
                dep("4", "2")
            ),
            "dependsOn shape",
        ),
        bad(
            "mixed shape: two roots",
            &format!(
                r#"{{"requests":[{},{},{},{}]}}"#,
                get("1"),
                dep("2", "1"),
                get("3"),
                dep("4", "3")
            ),
            "dependsOn shape",
        ),
        ("xml content type", many(1), 415, "UnsupportedMediaType", "application/json"),
    ]
}

#[tokio::test]
async fn malformed_batches_are_refused_whole_with_a_precise_400() {
    let h = Harness::start().await;
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, payload, status, code, fragment) in cases {
        let mut request = h
            .http
            .post(h.url("/v1.0/$batch"))
            .bearer_auth(&h.token)
            .body(payload.clone());
        request = request.header(
            "content-type",
            if status == 415 { "application/xml" } else { "application/json" },
        );
        let answer = crate::read(request.send().await.unwrap()).await;
        assert!(answer.status.as_u16() < 500, "{name}: a 5xx");
        assert_eq!(answer.status.as_u16(), status, "{name}: {:?}", answer.body);
        assert_eq!(answer.code(), code, "{name}: {:?}", answer.body);
        assert!(
            answer.message().contains(fragment),
            "{name}: '{}' lacks '{fragment}'",
            answer.message()
        );
        assert!(answer.header("request-id").is_some(), "{name}");
    }
    assert_eq!(h.tenant.stats().batch_items, 0, "no item of a refused batch ran");
}

#[tokio::test]
async fn accepted_shapes_are_not_refused() {
    let h = Harness::start().await;
    let shapes = [
        format!(r#"{{"requests":[{},{},{}]}}"#, get("1"), get("2"), get("3")),
        format!(r#"{{"requests":[{},{},{}]}}"#, get("1"), dep("2", "1"), dep("3", "2")),
        format!(r#"{{"requests":[{},{},{}]}}"#, get("1"), dep("2", "1"), dep("3", "1")),
        format!(r#"{{"requests":[{},{}]}}"#, get("a"), dep("b", "A")),
        many(20),
    ];
    for payload in shapes {
        let answer = h.batch_raw("v1.0", &payload).await;
        assert_eq!(answer.status.as_u16(), 200, "{payload}: {:?}", answer.body);
    }
}
