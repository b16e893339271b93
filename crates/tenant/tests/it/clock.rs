//! The emulator's clock: token lifetimes, authorization codes' and device
//! codes' expiry, refresh-token and client-secret expiry and the rest of a
//! paged `$batch` answer read the tenant's clock, so tests move it instead
//! of sleeping; the token endpoint and `issue_token` mint
//! tokens with one lifetime.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    Harness,
    identity::{
        WEB_REDIRECT, aadsts, authorize_url, client, client_credentials, jwt_claims,
        pkce, query_of, register_app, token,
    },
};
use graphlab_tenant::{ACCESS_TOKEN_LIFETIME, ChaosConfig, TenantConfig, seed};

const CLI: &str = seed::GRAPH_CLI_APP_ID;
const LOOPBACK: &str = "http://localhost:8400";

/// An unattended sign-in's code and its PKCE verifier.
async fn code(h: &Harness) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url =
        authorize_url("v2", CLI, LOOPBACK, "User.Read offline_access", &challenge, "");
    let r = client().get(h.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    (query_of(r.headers()["location"].to_str().unwrap())["code"].clone(), verifier)
}

async fn redeem(h: &Harness, code: &str, verifier: &str) -> (StatusCode, Value) {
    token(
        h,
        "v2",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI),
            ("code", code),
            ("redirect_uri", LOOPBACK),
            ("code_verifier", verifier),
        ],
    )
    .await
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn tokens_are_dated_by_the_tenant_clock_and_expire_on_it() {
    let h = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let lifetime = ACCESS_TOKEN_LIFETIME.as_secs();
    // `issue_token` mints what the token endpoint mints.
    let minted = jwt_claims(&h.token);
    assert_eq!(
        minted["exp"].as_u64().unwrap() - minted["iat"].as_u64().unwrap(),
        lifetime
    );

    h.clock.advance(Duration::from_secs(86_400));
    let (code, verifier) = code(&h).await;
    let (status, body) = redeem(&h, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], lifetime);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let claims = jwt_claims(&access);
    let iat = claims["iat"].as_u64().unwrap();
    let tomorrow = unix(SystemTime::now()) + 86_400;
    assert!(iat + 5 >= tomorrow && iat <= tomorrow + 5, "iat {iat} is the tenant's time");
    assert_eq!(claims["exp"].as_u64().unwrap() - iat, lifetime);

    let me = h.call(Method::GET, "/v1.0/me", Some(&access), None).await;
    assert_eq!(me.status, StatusCode::OK);
    // Past its lifetime and the 60 s leeway, on the tenant's clock: refused.
    h.clock.advance(Duration::from_secs(lifetime + 61));
    let me = h.call(Method::GET, "/v1.0/me", Some(&access), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{:?}", me.body);

    // Refresh tokens expire on the same clock (90 days of inactivity).
    let refresh = body["refresh_token"].as_str().unwrap();
    h.clock.advance(Duration::from_secs(91 * 86_400));
    let (status, body) = token(
        &h,
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLI),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 700082), "{body}");
}

#[tokio::test]
async fn authorization_codes_expire_after_ten_minutes_on_the_tenant_clock() {
    let h = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let (fresh, verifier) = code(&h).await;
    h.clock.advance(Duration::from_secs(9 * 60));
    let (status, body) = redeem(&h, &fresh, &verifier).await;
    assert_eq!(status, StatusCode::OK, "nine minutes is in time: {body}");

    let (stale, verifier) = code(&h).await;
    h.clock.advance(Duration::from_secs(10 * 60 + 1));
    let (status, body) = redeem(&h, &stale, &verifier).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 70008), "{body}");
}

#[tokio::test]
async fn device_codes_pace_and_expire_on_the_tenant_clock() {
    let h = Harness::with(TenantConfig::in_memory().device_poll_interval(5)).await;
    let dc: Value = client()
        .post(h.url("/organizations/oauth2/v2.0/devicecode"))
        .form(&[("client_id", CLI), ("scope", "User.Read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_code = dc["device_code"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", CLI),
        ("device_code", device_code.as_str()),
    ];
    let poll = || token(&h, "v2", &form);
    assert_eq!(poll().await.1["error"], "authorization_pending");
    assert_eq!(poll().await.1["error"], "slow_down", "polled again at once");
    h.clock.advance(Duration::from_secs(5));
    assert_eq!(poll().await.1["error"], "authorization_pending", "waited the interval");
    h.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(poll().await.1["error"], "expired_token");
}

#[tokio::test]
async fn client_secrets_expire_on_the_tenant_clock() {
    let h = Harness::start().await;
    // addPassword's default: two years from now, on the tenant's clock.
    let (_, app_id, secret) = register_app(&h, &[WEB_REDIRECT], &[], false).await;
    let graph = "https://graph.microsoft.com/.default";
    let (status, body) = client_credentials(&h, &app_id, Some(&secret), graph).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.clock.advance(Duration::from_secs(731 * 86_400));
    let (status, body) = client_credentials(&h, &app_id, Some(&secret), graph).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::UNAUTHORIZED, 7000215), "{body}");
}

/// Regression: the rest of a paged `$batch` answer expired after five
/// minutes of real time (`Instant`), whatever the tenant's clock said.
#[tokio::test]
async fn a_paged_batch_answer_expires_on_the_tenant_clock() {
    let chaos = ChaosConfig::from_json(r#"{"batchPageSize": 1}"#).unwrap();
    let h = Harness::with(TenantConfig::in_memory().chaos(chaos)).await;
    let requests: Vec<Value> = (1..=3)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me?$select=id"}))
        .collect();
    let first = h.batch_raw("v1.0", &json!({ "requests": requests }).to_string()).await;
    assert_eq!(first.status, StatusCode::OK);
    let next = |page: &Value| {
        let link = page["@odata.nextLink"].as_str().expect("a next link");
        link.strip_prefix(h.running.base_url()).unwrap().to_owned()
    };
    // Kept five minutes from the batch's answer: 299 s later, the second
    // page is served; 301 s later, the third is gone.
    h.clock.advance(Duration::from_secs(299));
    let second = h.call(Method::GET, &next(&first.body), Some(&h.token), None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    h.clock.advance(Duration::from_secs(2));
    let third = h.call(Method::GET, &next(&second.body), Some(&h.token), None).await;
    assert_eq!(third.status, StatusCode::BAD_REQUEST, "{}", third.body);
    assert!(third.message().contains("expired"), "{}", third.message());
}
