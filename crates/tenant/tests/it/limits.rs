//! Hostile input within reach of one request: nesting that would overflow a
//! recursive parser, and every size limit. Each gets Graph's error shape and
//! a 4xx, and the emulator keeps answering afterwards.

use reqwest::StatusCode;
use serde_json::json;

use crate::{Answer, Harness};

/// The emulator still answers: a request right after the hostile one.
async fn alive(h: &Harness) {
    let me = h.get("/v1.0/me").await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
}

fn graph_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status.as_u16(), status, "{:?}", answer.body);
    assert!(!answer.code().is_empty(), "no Graph error code: {:?}", answer.body);
    assert!(answer.body["error"]["innerError"]["request-id"].is_string());
}

fn parens(depth: usize) -> String {
    format!("{}importance eq 'high'{}", "(".repeat(depth), ")".repeat(depth))
}

#[tokio::test]
async fn a_filter_nested_10_000_parentheses_deep_is_a_400_and_the_tenant_lives() {
    let h = Harness::start().await;
    let answer = h.get(&format!("/v1.0/me/messages?$filter={}", parens(10_000))).await;
    graph_error(&answer, 400);
    assert_eq!(answer.code(), "BadRequest");
    assert!(
        answer.message().contains("nests deeper than 100 levels"),
        "{}",
        answer.message()
    );
    alive(&h).await;

    // 100 levels are fine; 101 are not.
    let ok = h.get(&format!("/v1.0/me/messages?$filter={}", parens(100))).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    let deep = h.get(&format!("/v1.0/me/messages?$filter={}", parens(101))).await;
    graph_error(&deep, 400);

    // `not` nests too.
    let nots = format!("{}importance eq 'high'", "not ".repeat(5_000));
    let answer = h.get(&format!("/v1.0/me/messages?$filter={nots}")).await;
    graph_error(&answer, 400);
    alive(&h).await;
}

#[tokio::test]
async fn a_long_chain_of_and_is_refused_by_the_node_count() {
    let h = Harness::start().await;
    let chain = vec!["importance eq 'high'"; 200].join(" and ");
    let answer = h.get(&format!("/v1.0/me/messages?$filter={chain}")).await;
    graph_error(&answer, 400);
    assert!(
        answer.message().contains("node count limit of '100'"),
        "{}",
        answer.message()
    );
    alive(&h).await;
}

#[tokio::test]
async fn the_same_filter_inside_a_batch_item_is_an_item_400() {
    let h = Harness::start().await;
    let answer = h
        .batch(json!({"requests": [
            {"id": "1", "method": "GET", "url": format!("/me/messages?$filter={}", parens(10_000))},
            {"id": "2", "method": "GET", "url": "/me"},
        ]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let items = crate::by_id(&answer);
    assert_eq!(items["1"]["status"], 400, "{:?}", items["1"]);
    assert_eq!(items["1"]["body"]["error"]["code"], "BadRequest");
    assert_eq!(items["2"]["status"], 200);
    alive(&h).await;
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn a_batch_body_nested_10_000_deep_is_a_400_in_graph_shape() {
    let h = Harness::start().await;
    // The whole payload…
    let answer = h.batch_raw("v1.0", &nested(10_000)).await;
    graph_error(&answer, 400);
    assert!(
        answer.message().contains("nests deeper than 128 levels"),
        "{}",
        answer.message()
    );
    // …and one item's body inside a well-formed envelope.
    let payload = format!(
        r#"{{"requests":[{{"id":"1","method":"POST","url":"/groups",
            "headers":{{"Content-Type":"application/json"}},"body":{{"x":{}}}}}]}}"#,
        nested(10_000)
    );
    let answer = h.batch_raw("v1.0", &payload).await;
    graph_error(&answer, 400);
    assert!(
        answer.message().contains("nests deeper than 128 levels"),
        "{}",
        answer.message()
    );
    alive(&h).await;
}

#[tokio::test]
async fn a_resource_body_nested_10_000_deep_is_a_400_in_graph_shape() {
    let h = Harness::start().await;
    let response = h
        .http
        .post(h.url("/v1.0/groups"))
        .bearer_auth(&h.token)
        .header("content-type", "application/json")
        .body(format!(r#"{{"displayName":{}}}"#, nested(10_000)))
        .send()
        .await
        .unwrap();
    let answer = crate::read(response).await;
    graph_error(&answer, 400);
    assert!(
        answer.message().contains("nests deeper than 128 levels"),
        "{}",
        answer.message()
    );
    alive(&h).await;
}

#[tokio::test]
async fn an_overlong_url_is_a_414_in_graph_shape() {
    let h = Harness::start().await;
    let long = "a".repeat(graphlab_tenant::limits::MAX_URL_BYTES);
    let answer = h.get(&format!("/v1.0/me?x={long}")).await;
    graph_error(&answer, 414);
    assert_eq!(answer.code(), "RequestUriTooLong");
    // Inside a batch the item's URL has the same limit.
    let answer = h
        .batch(json!({"requests": [{"id": "1", "method": "GET", "url": format!("/me?x={long}")}]}))
        .await;
    graph_error(&answer, 400);
    assert!(answer.message().contains("bytes long"), "{}", answer.message());
    alive(&h).await;
}

#[tokio::test]
async fn oversized_headers_are_a_431_in_graph_shape() {
    let h = Harness::start().await;
    let response = h
        .http
        .get(h.url("/v1.0/me"))
        .bearer_auth(&h.token)
        .header("x-padding", "p".repeat(graphlab_tenant::limits::MAX_HEADER_BYTES))
        .send()
        .await
        .unwrap();
    let answer = crate::read(response).await;
    graph_error(&answer, 431);
    assert_eq!(answer.code(), "RequestHeaderFieldsTooLarge");
    alive(&h).await;
}

#[tokio::test]
async fn a_body_over_4_mb_is_a_413_and_a_batch_over_4_mb_too() {
    let h = Harness::start().await;
    let big = format!(r#"{{"displayName":"{}"}}"#, "x".repeat(4 * 1024 * 1024));
    for path in ["/v1.0/groups", "/v1.0/$batch", "/common/oauth2/v2.0/token"] {
        let response = h
            .http
            .post(h.url(path))
            .bearer_auth(&h.token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let answer = crate::read(response).await;
        graph_error(&answer, 413);
        assert_eq!(answer.code(), "RequestEntityTooLarge", "{path}");
        assert!(answer.message().starts_with("Maximum request length exceeded"));
    }
    alive(&h).await;
}

#[tokio::test]
async fn select_and_top_have_graphs_bounds() {
    let h = Harness::start().await;
    let many = vec!["id"; graphlab_tenant::limits::MAX_SELECT_FIELDS + 1].join(",");
    let answer = h.get(&format!("/v1.0/users?$select={many}")).await;
    graph_error(&answer, 400);
    assert!(answer.message().contains("at most 100"), "{}", answer.message());
    for top in ["0", "1000", "-1", "99999999999999999999999"] {
        let answer = h.get(&format!("/v1.0/users?$top={top}")).await;
        graph_error(&answer, 400);
    }
    assert_eq!(h.get("/v1.0/users?$top=999").await.status, StatusCode::OK);
    assert_eq!(h.get("/v1.0/users?$top=1").await.status, StatusCode::OK);
}

mod slow {
    //! Slow clients (slowloris): the read timeouts are shortened for the
    //! test, and the test polls with a deadline rather than sleeping.

    use std::time::{Duration, Instant};

    use graphlab_tenant::{TenantConfig, limits::Timeouts};
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };

    use crate::Harness;

    const SHORT: Duration = Duration::from_millis(300);

    async fn harness() -> Harness {
        Harness::with(TenantConfig::in_memory().timeouts(Timeouts {
            header_read: SHORT,
            body_read: SHORT,
            tls_handshake: SHORT,
        }))
        .await
    }

    /// Writes a byte, then waits up to 20 ms for the server, again and
    /// again until the server closes the connection; returns what it
    /// answered. Fails if the connection is still open at the deadline.
    async fn trickle(stream: &mut TcpStream) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf))
                .await
            {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        assert!(Instant::now() < deadline, "the server kept the connection open");
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn headers_sent_too_slowly_close_the_connection() {
        let h = harness().await;
        let mut stream = TcpStream::connect(h.running.local_addr()).await.unwrap();
        stream
            .write_all(b"GET /v1.0/me HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        let answer = trickle(&mut stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
        super::alive(&h).await;
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_too() {
        let h = harness().await;
        let mut stream = TcpStream::connect(h.running.local_addr()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 64];
        loop {
            assert!(Instant::now() < deadline, "the idle connection stayed open");
            match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf))
                .await
            {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                _ => {}
            }
        }
    }

    #[tokio::test]
    async fn a_body_sent_too_slowly_is_a_408_in_graph_shape() {
        let h = harness().await;
        let mut stream = TcpStream::connect(h.running.local_addr()).await.unwrap();
        let head = format!(
            "POST /v1.0/groups HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{",
            h.token
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = trickle(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"RequestTimeout\""), "{answer}");
        super::alive(&h).await;
    }
}
