//! The identity platform: discovery, the authorization code flow with PKCE,
//! consent, refresh rotation, device code, client credentials, v1.0, and
//! every error the lab can meet — all over HTTP against the emulator.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Harness;
use graphlab_tenant::{TenantConfig, seed};

const CLI: &str = seed::GRAPH_CLI_APP_ID;
const LOOPBACK: &str = "http://localhost:8400";
pub(crate) const WEB_REDIRECT: &str = "https://global.consent.azure-apim.net/redirect";

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

pub(crate) fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
        + "-extra-entropy-for-pkce";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every hidden input of a page, by name.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = part.split_once('"').unwrap();
        let value = rest.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
        out.push((unescape(name), unescape(value)));
    }
    out
}

pub(crate) fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    url_pairs(query)
}

fn url_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

/// Shows the sign-in page for `authorize_url`, then answers it.
pub(crate) async fn sign_in(
    h: &Harness,
    authorize_url: &str,
    login: &str,
    action: &str,
    for_org: bool,
) -> reqwest::Response {
    let http = client();
    let page = http.get(h.url(authorize_url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{authorize_url}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Pick an account"), "{html}");
    let mut form: Vec<(String, String)> = hidden_fields(&html);
    form.push(("login".into(), login.into()));
    form.push(("action".into(), action.into()));
    if for_org {
        form.push(("consent_org".into(), "true".into()));
    }
    let path = authorize_url.split('?').next().unwrap();
    http.post(h.url(path)).form(&form).send().await.unwrap()
}

pub(crate) fn authorize_url(
    version: &str,
    client_id: &str,
    redirect: &str,
    scope: &str,
    challenge: &str,
    extra: &str,
) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };
    let path = if version == "v1" { "oauth2/authorize" } else { "oauth2/v2.0/authorize" };
    format!(
        "/organizations/{path}?client_id={client_id}&response_type=code&redirect_uri={}&scope={}&state=xyz&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(redirect),
        enc(scope)
    )
}

pub(crate) async fn token(
    h: &Harness,
    version: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let path = if version == "v1" {
        "/common/oauth2/token"
    } else {
        "/common/oauth2/v2.0/token"
    };
    let r = client().post(h.url(path)).form(form).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) fn aadsts(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or(0)
}

/// Registers an app through Graph as step 2 of the lab does; returns (object id, app id, secret).
pub(crate) async fn register_app(
    h: &Harness,
    web: &[&str],
    public: &[&str],
    fallback: bool,
) -> (String, String, String) {
    let graph_sp =
        h.get(&format!("/v1.0/servicePrincipals/{}", seed::GRAPH_SP_ID)).await.body;
    let scope_id = |name: &str| {
        graph_sp["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["value"] == name)
            .unwrap()["id"]
            .clone()
    };
    let role_id = graph_sp["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["value"] == "User.Read.All")
        .unwrap()["id"]
        .clone();
    let app = h
        .post(
            "/v1.0/applications",
            json!({
                "displayName": "MS Graph Batch App",
                "signInAudience": "AzureADMultipleOrgs",
                "isFallbackPublicClient": fallback,
                "web": {"redirectUris": web},
                "publicClient": {"redirectUris": public},
                "requiredResourceAccess": [{"resourceAppId": graphlab_tenant::GRAPH_APP_ID, "resourceAccess": [
                    {"id": scope_id("Group.ReadWrite.All"), "type": "Scope"},
                    {"id": scope_id("User.Read"), "type": "Scope"},
                    {"id": role_id, "type": "Role"},
                ]}],
            }),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{:?}", app.body);
    let id = app.body["id"].as_str().unwrap().to_owned();
    let secret = h
        .post(
            &format!("/v1.0/applications/{id}/addPassword"),
            json!({"passwordCredential": {"displayName": "forever"}}),
        )
        .await;
    (
        id,
        app.body["appId"].as_str().unwrap().to_owned(),
        secret.body["secretText"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn discovery_and_jwks() {
    let h = Harness::start().await;
    let d: Value = client()
        .get(h.url("/common/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], format!("{}/{{tenantid}}/v2.0", h.running.base_url()));
    assert_eq!(d["token_endpoint"], h.url("/common/oauth2/v2.0/token"));
    let d: Value = client()
        .get(h.url(&format!(
            "/{}/v2.0/.well-known/openid-configuration",
            seed::TENANT_DOMAIN
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], format!("{}/{}/v2.0", h.running.base_url(), seed::TENANT_ID));
    let jwks: Value = client()
        .get(d["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], h.tenant.signing_key().kid());
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let bad = client()
        .get(h.url("/fabrikam.com/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(aadsts(&body), 90002);
    for field in [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(!body[field].is_null(), "{field} missing: {body}");
    }
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS90002:"));
}

#[tokio::test]
async fn public_client_auth_code_with_pkce_end_to_end() {
    let h = Harness::start().await;
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        "v2",
        CLI,
        LOOPBACK,
        "openid profile offline_access User.Read Mail.Read",
        &challenge,
        "&login_hint=admin@contoso.onmicrosoft.com",
    );
    let answer = sign_in(&h, &url, seed::ADMIN_UPN, "accept", false).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(LOOPBACK), "{location}");
    let q = query_of(&location);
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", CLI),
        ("code", &code),
        ("redirect_uri", LOOPBACK),
        ("code_verifier", &verifier),
    ];
    let (status, body) = token(&h, "v2", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["ext_expires_in"].is_number());
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());
    let scope = body["scope"].as_str().unwrap();
    assert!(scope.contains("Mail.Read") && scope.contains("User.Read"), "{scope}");

    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["tid"], seed::TENANT_ID);
    assert_eq!(claims["oid"], seed::ADMIN_ID);
    assert_eq!(claims["appid"], CLI);
    let id_claims = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(id_claims["aud"], CLI);
    assert_eq!(id_claims["nonce"], "n-1");
    assert_eq!(id_claims["preferred_username"], seed::ADMIN_UPN);
    assert_eq!(id_claims["ver"], "2.0");

    // The token works on Graph.
    let me = h
        .call(
            Method::GET,
            "/v1.0/me/messages",
            Some(body["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);

    // The code is single use.
    let (status, again) = token(&h, "v2", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(aadsts(&again), 54005);
}

pub(crate) fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn pkce_mismatch_unknown_client_and_unregistered_redirect() {
    let h = Harness::start().await;
    let (_, challenge) = pkce();
    let url = authorize_url("v2", CLI, LOOPBACK, "User.Read", &challenge, "");
    let answer = sign_in(&h, &url, seed::ADMIN_UPN, "accept", false).await;
    let code = query_of(answer.headers()["location"].to_str().unwrap())["code"].clone();
    let (status, body) = token(
        &h,
        "v2",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI),
            ("code", &code),
            ("redirect_uri", LOOPBACK),
            ("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), 501481, "{body}");

    let unknown = client()
        .get(h.url(&authorize_url(
            "v2",
            "11111111-2222-3333-4444-555555555555",
            LOOPBACK,
            "User.Read",
            &challenge,
            "",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("AADSTS700016"));
    let (_, body) = token(
        &h,
        "v2",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("client_secret", "x"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(aadsts(&body), 700016);

    let wrong_redirect = client()
        .get(h.url(&authorize_url(
            "v2",
            CLI,
            "https://evil.example/cb",
            "User.Read",
            &challenge,
            "",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_redirect.status(), StatusCode::BAD_REQUEST);
    assert!(wrong_redirect.text().await.unwrap().contains("AADSTS50011"));
}

#[tokio::test]
async fn confidential_client_needs_its_secret_and_the_redirect_on_the_app() {
    let h = Harness::start().await;
    let (object_id, app_id, secret) = register_app(&h, &[], &[], false).await;
    let (verifier, challenge) = pkce();
    // Step 3 of the lab: until the connector's redirect URL is on the app, sign-in fails with 50011.
    let before = client()
        .get(h.url(&authorize_url(
            "v2",
            &app_id,
            WEB_REDIRECT,
            "Group.ReadWrite.All offline_access",
            &challenge,
            "",
        )))
        .send()
        .await
        .unwrap();
    assert!(before.text().await.unwrap().contains("AADSTS50011"));
    let patch = h
        .call(
            Method::PATCH,
            &format!("/v1.0/applications/{object_id}"),
            Some(&h.token),
            Some(json!({"web": {"redirectUris": [WEB_REDIRECT]}})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NO_CONTENT);

    let url = authorize_url(
        "v2",
        &app_id,
        WEB_REDIRECT,
        "Group.ReadWrite.All offline_access",
        &challenge,
        "",
    );
    let answer = sign_in(&h, &url, seed::ADMIN_UPN, "accept", true).await;
    let code = query_of(answer.headers()["location"].to_str().unwrap())["code"].clone();
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", app_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", WEB_REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = token(&h, "v2", &base).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(aadsts(&body), 7000218, "{body}");
    // A failed redemption still consumed the code? No: the secret is checked after the code is claimed,
    // so get a fresh code for each attempt.
    let code = query_of(
        sign_in(&h, &url, seed::ADMIN_UPN, "accept", true).await.headers()["location"]
            .to_str()
            .unwrap(),
    )["code"]
        .clone();
    let mut wrong = base.to_vec();
    wrong[2] = ("code", code.as_str());
    wrong.push(("client_secret", "not-the-secret"));
    let (status, body) = token(&h, "v2", &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(aadsts(&body), 7000215);
    assert!(!body.to_string().contains("not-the-secret"), "errors never echo a secret");

    let code = query_of(
        sign_in(&h, &url, seed::ADMIN_UPN, "accept", true).await.headers()["location"]
            .to_str()
            .unwrap(),
    )["code"]
        .clone();
    let mut right = base.to_vec();
    right[2] = ("code", code.as_str());
    right.push(("client_secret", secret.as_str()));
    let (status, body) = token(&h, "v2", &right).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["scope"].as_str().unwrap().contains("Group.ReadWrite.All"));
    // Admin consent for the organisation was recorded as an AllPrincipals grant.
    let grants = h.tenant.objects("oauth2PermissionGrants");
    assert!(grants.iter().any(|g| g["consentType"] == "AllPrincipals"
        && g["scope"].as_str().unwrap().contains("Group.ReadWrite.All")));
    // ...so a non-admin now signs in without being asked.
    let (_, challenge2) = pkce();
    let url2 = authorize_url(
        "v2",
        &app_id,
        WEB_REDIRECT,
        "Group.ReadWrite.All",
        &challenge2,
        "",
    );
    let answer =
        sign_in(&h, &url2, "AdeleV@contoso.onmicrosoft.com", "accept", false).await;
    assert!(
        query_of(answer.headers()["location"].to_str().unwrap()).contains_key("code")
    );
}

#[tokio::test]
async fn consent_errors_decline_prompt_none_and_admin_only_scopes() {
    let h = Harness::start().await;
    let (_, app_id, _) = register_app(&h, &[], &[LOOPBACK], true).await;
    let (_, challenge) = pkce();
    // A non-admin asking for an admin-only scope without admin consent: AADSTS90094.
    let url =
        authorize_url("v2", &app_id, LOOPBACK, "Group.ReadWrite.All", &challenge, "");
    let answer =
        sign_in(&h, &url, "AdeleV@contoso.onmicrosoft.com", "accept", false).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer.text().await.unwrap().contains("AADSTS90094"));

    // Declining: access_denied with AADSTS65004, back at the redirect URI.
    let answer = sign_in(&h, &url, seed::ADMIN_UPN, "cancel", false).await;
    let q = query_of(answer.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert!(q["error_description"].starts_with("AADSTS65004"), "{q:?}");
    assert_eq!(q["state"], "xyz");

    // prompt=none without a session: login_required; with one but no consent: 65001.
    let silent =
        authorize_url("v2", &app_id, LOOPBACK, "User.Read", &challenge, "&prompt=none");
    let r = client().get(h.url(&silent)).send().await.unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "login_required"
    );
    let answer = sign_in(
        &h,
        &authorize_url("v2", &app_id, LOOPBACK, "User.Read", &challenge, ""),
        "AdeleV@contoso.onmicrosoft.com",
        "accept",
        false,
    )
    .await;
    let cookie = answer.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let ok = client().get(h.url(&silent)).header("cookie", &cookie).send().await.unwrap();
    assert!(
        query_of(ok.headers()["location"].to_str().unwrap()).contains_key("code"),
        "consented scope: silent"
    );
    let more =
        authorize_url("v2", &app_id, LOOPBACK, "Mail.Read", &challenge, "&prompt=none");
    let r = client().get(h.url(&more)).header("cookie", &cookie).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "consent_required");
    assert!(q["error_description"].starts_with("AADSTS65001"));

    // An unknown scope is refused.
    let bad = authorize_url("v2", &app_id, LOOPBACK, "Shoes.Read", &challenge, "");
    let r = client().get(h.url(&bad)).send().await.unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "invalid_scope"
    );

    // form_post answers with a page that posts the code.
    let post = authorize_url(
        "v2",
        &app_id,
        LOOPBACK,
        "User.Read",
        &challenge,
        "&response_mode=form_post&prompt=none",
    );
    let r = client().get(h.url(&post)).header("cookie", &cookie).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("method=\"post\"") && html.contains("name=\"code\""), "{html}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let h = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let (verifier, challenge) = pkce();
    let url =
        authorize_url("v2", CLI, LOOPBACK, "User.Read offline_access", &challenge, "");
    let r = client().get(h.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "unattended: straight back");
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (_, first) = token(
        &h,
        "v2",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI),
            ("code", &code),
            ("redirect_uri", LOOPBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();

    let (status, second) = token(
        &h,
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLI),
            ("refresh_token", &rt1),
            ("scope", "User.Read offline_access"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2, "rotated");

    let (status, reuse) = token(
        &h,
        "v2",
        &[("grant_type", "refresh_token"), ("client_id", CLI), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reuse["error"], "invalid_grant");
    let (_, after) = token(
        &h,
        "v2",
        &[("grant_type", "refresh_token"), ("client_id", CLI), ("refresh_token", &rt2)],
    )
    .await;
    assert_eq!(after["error"], "invalid_grant", "the whole family is revoked: {after}");
    let (_, unknown) = token(
        &h,
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLI),
            ("refresh_token", "1.Anonsense"),
        ],
    )
    .await;
    assert_eq!(unknown["error"], "invalid_grant");
    assert!(
        h.tenant.objects("refreshTokens").iter().all(|r| !r.to_string().contains(&rt2)),
        "only hashes are stored"
    );
}

#[tokio::test]
async fn device_code_interactive_unattended_slow_down_and_decline() {
    // A minute between polls: two polls in a row are too fast however
    // slow the machine, until the test moves the emulator's clock.
    let h = Harness::with(TenantConfig::in_memory().device_poll_interval(60)).await;
    let http = client();
    let start = |scope: &'static str| {
        let http = http.clone();
        let url = h.url("/organizations/oauth2/v2.0/devicecode");
        async move {
            http.post(url)
                .form(&[("client_id", CLI), ("scope", scope)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let dc = start("User.Read offline_access openid").await;
    assert_eq!(dc["interval"], 60);
    assert!(dc["message"].as_str().unwrap().contains(dc["user_code"].as_str().unwrap()));
    assert_eq!(dc["verification_uri"], h.url("/devicelogin"));
    let device_code = dc["device_code"].as_str().unwrap().to_owned();
    let poll = |code: String| {
        let h = &h;
        async move {
            token(
                h,
                "v2",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", CLI),
                    ("device_code", &code),
                ],
            )
            .await
        }
    };
    let (_, pending) = poll(device_code.clone()).await;
    assert_eq!(pending["error"], "authorization_pending");
    let (_, fast) = poll(device_code.clone()).await;
    assert_eq!(fast["error"], "slow_down");

    // The user enters the code and consents on /devicelogin.
    let user_code = dc["user_code"].as_str().unwrap();
    let wrong = http
        .post(h.url("/devicelogin"))
        .form(&[("otc", "NOPE")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        wrong.contains("didn&#39;t work") || wrong.contains("didn't work"),
        "{wrong}"
    );
    let page = http
        .post(h.url("/devicelogin"))
        .form(&[("otc", user_code)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Pick an account"));
    let done = http
        .post(h.url("/devicelogin"))
        .form(&[("otc", user_code), ("login", seed::ADMIN_UPN), ("action", "accept")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("signed in"), "{done}");
    // Past the poll interval on the emulator's clock.
    h.clock.advance(std::time::Duration::from_secs(61));
    let (status, tokens) = poll(device_code.clone()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string());
    let (_, again) = poll(device_code).await;
    assert_eq!(again["error"], "invalid_grant");

    // Declined.
    let dc = start("User.Read").await;
    let code = dc["user_code"].as_str().unwrap();
    http.post(h.url("/devicelogin"))
        .form(&[("otc", code), ("login", seed::ADMIN_UPN), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    let (_, declined) = poll(dc["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!(declined["error"], "authorization_declined");

    let (_, bad) = poll("not-a-device-code".to_owned()).await;
    assert_eq!(bad["error"], "bad_verification_code");

    // Unattended: approved at the first poll.
    let u = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let dc: Value = client()
        .post(u.url("/common/oauth2/v2.0/devicecode"))
        .form(&[("client_id", CLI), ("scope", "User.Read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, tokens) = token(
        &u,
        "v2",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", CLI),
            ("device_code", dc["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

pub(crate) async fn client_credentials(
    h: &Harness,
    app_id: &str,
    secret: Option<&str>,
    scope: &str,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", scope),
    ];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    token(h, "v2", &form).await
}

#[tokio::test]
async fn client_credentials_after_admin_consent() {
    let h = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let (_, app_id, secret) = register_app(&h, &[WEB_REDIRECT], &[], false).await;
    let (_, bad) = client_credentials(&h, &app_id, Some(&secret), "User.Read.All").await;
    assert_eq!(aadsts(&bad), 1002012);
    let (status, before) = client_credentials(
        &h,
        &app_id,
        Some(&secret),
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        jwt_claims(before["access_token"].as_str().unwrap())["roles"],
        json!([]),
        "no roles before admin consent"
    );

    let consent = client()
        .get(h.url(&format!(
            "/common/v2.0/adminconsent?client_id={app_id}&redirect_uri={}&state=s1",
            percent_encoding::utf8_percent_encode(
                WEB_REDIRECT,
                percent_encoding::NON_ALPHANUMERIC
            )
        )))
        .send()
        .await
        .unwrap();
    let q = query_of(consent.headers()["location"].to_str().unwrap());
    assert_eq!(q["admin_consent"], "True");
    assert_eq!(q["tenant"], seed::TENANT_ID);
    assert_eq!(q["state"], "s1");

    let (_, after) = client_credentials(
        &h,
        &app_id,
        Some(&secret),
        "https://graph.microsoft.com/.default",
    )
    .await;
    let access = after["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(access)["roles"], json!(["User.Read.All"]));
    assert!(after.get("refresh_token").is_none());
    assert_eq!(
        h.call(Method::GET, "/v1.0/users", Some(access), None).await.status,
        StatusCode::OK
    );

    let (status, no_secret) =
        client_credentials(&h, &app_id, None, "https://graph.microsoft.com/.default")
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(aadsts(&no_secret), 7000218);
}

#[tokio::test]
async fn v1_endpoints_use_resource_and_string_lifetimes_like_the_connector() {
    let h = Harness::with(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let (_, app_id, secret) = register_app(&h, &[WEB_REDIRECT], &[], false).await;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };
    let url = format!(
        "/common/oauth2/authorize?client_id={app_id}&response_type=code&redirect_uri={}&resource={}&state=v1&prompt=consent",
        enc(WEB_REDIRECT),
        enc("https://graph.microsoft.com")
    );
    let r = client().get(h.url(&url)).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    let (status, body) = token(
        &h,
        "v1",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &app_id),
            ("client_secret", &secret),
            ("code", &q["code"]),
            ("redirect_uri", WEB_REDIRECT),
            ("resource", "https://graph.microsoft.com"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["ext_expires_in"], "3599");
    assert!(body["expires_on"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    assert!(body["refresh_token"].is_string(), "v1 always returns a refresh token");
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert!(claims["scp"].as_str().unwrap().contains("Group.ReadWrite.All"), "{claims}");
    let group = h
        .call(Method::POST, "/v1.0/groups", Some(body["access_token"].as_str().unwrap()),
              Some(json!({"displayName": "ViaV1", "mailNickname": "ViaV1", "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false})))
        .await;
    assert_eq!(group.status, StatusCode::CREATED);

    let (status, refreshed) = token(
        &h,
        "v1",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &app_id),
            ("client_secret", &secret),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ("resource", "https://graph.microsoft.com"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(refreshed["expires_in"], "3599");

    let bad = format!(
        "/common/oauth2/authorize?client_id={app_id}&response_type=code&redirect_uri={}&resource={}",
        enc(WEB_REDIRECT),
        enc("https://management.azure.com")
    );
    let r = client().get(h.url(&bad)).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_resource");
}
