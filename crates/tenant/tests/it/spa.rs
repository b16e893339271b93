//! Single-page applications over real HTTP: CORS preflights and headers on
//! Graph and the token endpoint, the `spa` redirect platform (seeded for the
//! studio, and set through Graph), and the token endpoint's cross-origin
//! rules (AADSTS9002325, 9002326, 9002327) — Microsoft Learn, "Microsoft
//! identity platform and OAuth 2.0 authorization code flow".

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    Harness,
    identity::{aadsts, authorize_url, client, pkce, query_of, register_app, sign_in},
    read,
};
use graphlab_tenant::seed;

const STUDIO: &str = graphlab_lab::STUDIO_CLIENT_ID;
/// The studio on some loopback port: the registered `http://127.0.0.1`
/// matches any port.
const STUDIO_ORIGIN: &str = "http://127.0.0.1:43217";
const TOKEN: &str = "/organizations/oauth2/v2.0/token";

/// Signs the admin in to `client_id` at `redirect` and returns the code.
async fn code_for(
    h: &Harness,
    client_id: &str,
    redirect: &str,
    challenge: Option<&str>,
) -> String {
    let mut url = authorize_url(
        "v2",
        client_id,
        redirect,
        "openid offline_access User.Read",
        "x",
        "",
    );
    if challenge.is_none() {
        url = url.replace("&code_challenge=x&code_challenge_method=S256", "");
    } else if let Some(c) = challenge {
        url = url.replace("code_challenge=x", &format!("code_challenge={c}"));
    }
    let answer = sign_in(h, &url, seed::ADMIN_UPN, "accept", false).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(redirect), "{location}");
    query_of(&location)["code"].clone()
}

/// POSTs to the token endpoint, as a browser at `origin` when given.
async fn redeem(
    h: &Harness,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = client().post(h.url(TOKEN)).form(form);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    if origin.is_some() {
        assert_eq!(
            r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
            origin,
            "the browser may read the token endpoint's answer, errors included"
        );
    }
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn preflight(
    h: &Harness,
    path: &str,
    method: &str,
    headers: &str,
) -> reqwest::Response {
    client()
        .request(Method::OPTIONS, h.url(path))
        .header("origin", STUDIO_ORIGIN)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn cors_preflights_and_answers_on_graph_and_the_token_endpoint() {
    let h = Harness::start().await;
    for path in ["/v1.0/me", "/beta/groups", "/v1.0/$batch"] {
        let r = preflight(
            &h,
            path,
            "PATCH",
            "authorization,content-type,consistencylevel,client-request-id",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), STUDIO_ORIGIN);
        let methods = header(&r, "access-control-allow-methods");
        assert!(methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
        let allowed = header(&r, "access-control-allow-headers").to_ascii_lowercase();
        for name in
            ["authorization", "content-type", "client-request-id", "consistencylevel"]
        {
            assert!(allowed.contains(name), "{path}: {allowed}");
        }
        assert!(header(&r, "access-control-max-age").parse::<u32>().unwrap() > 0);
        assert!(
            header(&r, "access-control-allow-credentials").is_empty(),
            "tokens, not cookies"
        );
    }
    // The token endpoint: MSAL.js's telemetry headers are allowed too.
    let r = preflight(&h, TOKEN, "POST", "content-type,x-client-sku,x-client-ver").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "access-control-allow-origin"), STUDIO_ORIGIN);
    assert!(header(&r, "access-control-allow-headers").contains("x-client-sku"));
    // The emulator's admin routes are not open to other origins.
    let r = preflight(&h, "/_graphlab/stats", "GET", "authorization").await;
    assert!(header(&r, "access-control-allow-origin").is_empty());

    // The actual request: the origin echoed, Graph's headers readable.
    let r = client()
        .get(h.url("/v1.0/me"))
        .bearer_auth(&h.token)
        .header("origin", STUDIO_ORIGIN)
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000001")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "access-control-allow-origin"), STUDIO_ORIGIN);
    let exposed = header(&r, "access-control-expose-headers").to_ascii_lowercase();
    for name in ["request-id", "client-request-id", "retry-after", "location"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert!(header(&r, "vary").to_ascii_lowercase().contains("origin"));
    // Errors carry the headers too, so the page can read them.
    let r = client()
        .get(h.url("/v1.0/me"))
        .header("origin", STUDIO_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "access-control-allow-origin"), STUDIO_ORIGIN);
    // No Origin, no CORS headers.
    let plain =
        read(client().get(h.url("/v1.0/me")).bearer_auth(&h.token).send().await.unwrap())
            .await;
    assert!(plain.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_studio_redeems_cross_origin_with_pkce_and_its_refresh_tokens_last_a_day() {
    let h = Harness::start().await;
    let (verifier, challenge) = pkce();
    let code = code_for(&h, STUDIO, STUDIO_ORIGIN, Some(&challenge)).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", STUDIO),
        ("code", code.as_str()),
        ("redirect_uri", STUDIO_ORIGIN),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = redeem(&h, Some(STUDIO_ORIGIN), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let me = h.call(Method::GET, "/v1.0/me", Some(access), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["userPrincipalName"], seed::ADMIN_UPN);

    // Refresh tokens of a SPA: 24 hours, fixed at sign-in, not extended.
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let expiries = |h: &Harness| -> Vec<u64> {
        h.tenant
            .objects("refreshTokens")
            .iter()
            .map(|r| r["expiresAt"].as_u64().unwrap())
            .collect()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let first = expiries(&h);
    assert_eq!(first.len(), 1);
    assert!(first[0] <= now + 24 * 3600 && first[0] + 60 > now + 24 * 3600, "{first:?}");

    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", STUDIO),
        ("refresh_token", refresh.as_str()),
    ];
    // Not from the browser: refused, and the token stays usable.
    let (status, body) = redeem(&h, None, &form).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 9002327), "{body}");
    let (status, body) = redeem(&h, Some(STUDIO_ORIGIN), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = expiries(&h);
    assert_eq!(after.len(), 2);
    assert!(
        after.iter().all(|e| *e == first[0]),
        "rotation keeps the sign-in's expiry: {after:?}"
    );
}

#[tokio::test]
async fn spa_redemption_needs_pkce_the_browser_and_a_registered_origin() {
    let h = Harness::start().await;
    // Without PKCE: AADSTS9002325.
    let code = code_for(&h, STUDIO, STUDIO_ORIGIN, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", STUDIO),
        ("code", code.as_str()),
        ("redirect_uri", STUDIO_ORIGIN),
    ];
    let (status, body) = redeem(&h, Some(STUDIO_ORIGIN), &form).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 9002325), "{body}");

    let (verifier, challenge) = pkce();
    let with_pkce = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", STUDIO.to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", STUDIO_ORIGIN.to_owned()),
            ("code_verifier", verifier.clone()),
        ]
    };
    // From an origin the studio did not register: AADSTS9002326.
    let code = code_for(&h, STUDIO, STUDIO_ORIGIN, Some(&challenge)).await;
    let form = with_pkce(&code);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = redeem(&h, Some("https://attacker.example"), &form).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 9002326), "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("https://attacker.example")
    );
    // Not from a browser at all: AADSTS9002327.
    let code = code_for(&h, STUDIO, STUDIO_ORIGIN, Some(&challenge)).await;
    let form = with_pkce(&code);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = redeem(&h, None, &form).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 9002327), "{body}");
}

#[tokio::test]
async fn a_non_spa_client_may_not_redeem_cross_origin() {
    let h = Harness::start().await;
    let (verifier, challenge) = pkce();
    let loopback = "http://localhost:8400";
    let code = code_for(&h, seed::GRAPH_CLI_APP_ID, loopback, Some(&challenge)).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", seed::GRAPH_CLI_APP_ID),
        ("code", code.as_str()),
        ("redirect_uri", loopback),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = redeem(&h, Some("http://localhost:8400"), &form).await;
    assert_eq!((status, aadsts(&body)), (StatusCode::BAD_REQUEST, 9002326), "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("Single-Page Application")
    );
}

#[tokio::test]
async fn spa_redirect_uris_set_through_graph_are_honoured() {
    let h = Harness::start().await;
    let (id, app_id, _secret) =
        register_app(&h, &["https://contoso.example/web"], &[], false).await;
    let spa = "http://localhost:3000/studio";
    let patched = h
        .call(
            Method::PATCH,
            &format!("/v1.0/applications/{id}"),
            Some(&h.token),
            Some(json!({"spa": {"redirectUris": [spa]}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{:?}", patched.body);
    let app = h.get(&format!("/v1.0/applications/{id}")).await;
    assert_eq!(app.body["spa"]["redirectUris"], json!([spa]));

    let (verifier, challenge) = pkce();
    let code = code_for(&h, &app_id, spa, Some(&challenge)).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", app_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", spa),
        ("code_verifier", verifier.as_str()),
    ];
    // No secret: a SPA is a public client.
    let (status, body) = redeem(&h, Some("http://localhost:3000"), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
}
