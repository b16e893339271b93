//! Fault injection and throttling, direct and inside batches.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Harness, by_id};
use graphlab_tenant::{ChaosConfig, TenantConfig};

fn config(text: &str) -> ChaosConfig {
    ChaosConfig::from_json(text).expect("valid chaos config")
}

#[tokio::test]
async fn thirty_percent_of_batch_items_get_429_with_retry_after() {
    let h = Harness::with(TenantConfig::in_memory().chaos(config(
        r#"{"seed": 42, "rules": [{"path": "/users/*", "scope": "batchItem", "rates": {"429": 0.3}, "retryAfterSecs": 1}]}"#,
    )))
    .await;
    let mut throttled = 0;
    let mut total = 0;
    for batch in 0..10 {
        let requests: Vec<_> = (0..20)
            .map(|i| json!({"id": format!("{i}"), "method": "GET", "url": format!("/users/AdeleV@contoso.onmicrosoft.com?b={batch}&i={i}")}))
            .collect();
        let answer = h.batch(json!({"requests": requests})).await;
        assert_eq!(answer.status, StatusCode::OK, "the batch itself succeeds");
        for (_, r) in by_id(&answer) {
            total += 1;
            match r["status"].as_u64() {
                Some(200) => {}
                Some(429) => {
                    throttled += 1;
                    assert_eq!(r["headers"]["Retry-After"], "1", "{r}");
                    assert_eq!(r["body"]["error"]["code"], "TooManyRequests");
                }
                other => panic!("unexpected status {other:?}: {r}"),
            }
        }
    }
    assert_eq!(total, 200);
    assert!(
        (40..=80).contains(&throttled),
        "{throttled} of 200 throttled, expected about 60"
    );
    assert_eq!(h.tenant.stats().faults, throttled);

    // Direct calls are out of the rule's scope.
    assert_eq!(
        h.get("/v1.0/users/AdeleV@contoso.onmicrosoft.com").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let rule = r#"{"seed": 9, "rules": [{"path": "*", "rates": {"500": 0.2, "503": 0.2, "504": 0.2}}]}"#;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let h = Harness::with(TenantConfig::in_memory().chaos(config(rule))).await;
        let mut statuses = Vec::new();
        for i in 0..30 {
            statuses.push(h.get(&format!("/v1.0/me?i={i}")).await.status.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&200));
    assert!(runs[0].iter().any(|s| *s >= 500));
    let h = Harness::with(TenantConfig::in_memory().chaos(config(rule))).await;
    let answer = loop {
        let a = h.get("/v1.0/me?x=1").await;
        if a.status == StatusCode::SERVICE_UNAVAILABLE {
            break a;
        }
    };
    assert_eq!(answer.code(), "serviceNotAvailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn retrying_before_retry_after_is_throttled_again() {
    let h = Harness::with(TenantConfig::in_memory().chaos(config(
        r#"{"rules": [{"method": "GET", "path": "/me", "rates": {"429": 1.0}, "retryAfterSecs": 30}]}"#,
    )))
    .await;
    let first = h.get("/v1.0/me").await;
    assert_eq!(first.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.header("retry-after"), Some("30"));
    // Turn faults off at run time through the admin route; the penalty stays.
    let off = h
        .http
        .delete(h.url("/_graphlab/chaos"))
        .bearer_auth(h.tenant.admin_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    let again = h.get("/v1.0/me").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = again.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait));
    assert_eq!(
        h.get("/v1.0/me?other=1").await.status,
        StatusCode::OK,
        "other requests pass"
    );
}

#[tokio::test]
async fn per_user_rate_limit_answers_429_with_ratelimit_headers() {
    let h = Harness::with(
        TenantConfig::in_memory()
            .chaos(config(r#"{"rateLimit": {"requests": 3, "perSeconds": 60}}"#)),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(h.get("/v1.0/me").await.status, StatusCode::OK);
    }
    let limited = h.get("/v1.0/me").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("ratelimit-limit"), Some("3"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Another user has their own bucket.
    let other =
        h.tenant.issue_token("AdeleV@contoso.onmicrosoft.com", &["User.Read"]).unwrap();
    assert_eq!(
        h.call(Method::GET, "/v1.0/me", Some(&other), None).await.status,
        StatusCode::OK
    );
    // Batch items count against the same bucket, item by item.
    let answer =
        h.batch(json!({"requests": [{"id": "1", "method": "GET", "url": "/me"}]})).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the batch call itself is throttled"
    );
    assert!(h.tenant.stats().throttled >= 2);
}

#[tokio::test]
async fn chaos_is_changed_at_run_time_through_the_admin_route() {
    let h = Harness::start().await;
    let put = h
        .http
        .put(h.url("/_graphlab/chaos"))
        .bearer_auth(h.tenant.admin_secret())
        .body(r#"{"rules": [{"path": "/me", "rates": {"504": 1.0}}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(h.get("/v1.0/me").await.status, StatusCode::GATEWAY_TIMEOUT);
    let bad = h
        .http
        .put(h.url("/_graphlab/chaos"))
        .bearer_auth(h.tenant.admin_secret())
        .body(r#"{"rules": [{"rates": {"200": 1}}]}"#)
        .send()
        .await
        .unwrap();
    let bad = crate::read(bad).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.message().contains("rules[0].rates"), "{}", bad.message());
    let current: serde_json::Value = h
        .http
        .get(h.url("/_graphlab/chaos"))
        .bearer_auth(h.tenant.admin_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Without the secret, over loopback too: 401, and nothing changes.
    for (method, path) in [
        (Method::GET, "/_graphlab/chaos"),
        (Method::PUT, "/_graphlab/chaos"),
        (Method::DELETE, "/_graphlab/chaos"),
        (Method::GET, "/_graphlab/stats"),
        (Method::DELETE, "/_graphlab/stats"),
        (Method::GET, "/_graphlab/keys"),
    ] {
        let answer = h.call(method.clone(), path, Some(&h.token), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.code(), "InvalidAuthenticationToken");
        assert!(answer.header("www-authenticate").is_some());
        let answer = h.call(method.clone(), path, None, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    assert_eq!(h.get("/v1.0/me").await.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        current["rules"][0]["rates"]["504"], 1.0,
        "the bad config did not replace the good one"
    );
}

#[tokio::test]
async fn batch_answers_are_paged_behind_next_links_for_their_caller_only() {
    let h =
        Harness::with(TenantConfig::in_memory().chaos(config(r#"{"batchPageSize": 8}"#)))
            .await;
    let requests: Vec<_> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me?$select=id"}))
        .collect();
    let first = h.batch_raw("beta", &json!({ "requests": requests }).to_string()).await;
    assert_eq!(first.status, StatusCode::OK);
    let mut seen: Vec<String> = Vec::new();
    let mut page = first.body;
    let mut pages = 1;
    loop {
        let responses = page["responses"].as_array().unwrap();
        assert!(responses.len() <= 8);
        seen.extend(responses.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        let Some(link) = page["@odata.nextLink"].as_str() else { break };
        let path = link.strip_prefix(h.running.base_url()).unwrap().to_owned();
        assert!(path.starts_with("/beta/$batch?$skiptoken="), "{path}");
        let stranger = h
            .tenant
            .issue_token("a0000000-0000-4000-8000-000000000002", &["User.Read"])
            .unwrap();
        let refused = h.call(Method::GET, &path, Some(&stranger), None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "not the caller's page");
        let next = h.call(Method::GET, &path, Some(&h.token), None).await;
        assert_eq!(next.status, StatusCode::OK);
        let again = h.call(Method::GET, &path, Some(&h.token), None).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "a page is served once");
        page = next.body;
        pages += 1;
    }
    assert_eq!(pages, 3);
    seen.sort_by_key(|id| id.parse::<u32>().unwrap());
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected, "every response once, across the pages");
    let plain_get = h.get("/v1.0/$batch").await;
    assert_eq!(plain_get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(ChaosConfig::from_json(r#"{"batchPageSize": 0}"#).is_err());
}
