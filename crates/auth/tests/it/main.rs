//! graphlab-auth against the emulator over real HTTP: every flow, the cache
//! across restarts and under concurrency, and no secret in logs or errors.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use graphlab_auth::{
    AuthClient, AuthError, Authority, Interactive, Protocol, Secret, TokenCache,
    TokenProvider,
};
use graphlab_tenant::{RunningTenant, Tenant, TenantConfig, seed};
use serde_json::{Value, json};

const CLI: &str = seed::GRAPH_CLI_APP_ID;

struct Emulator {
    tenant: Tenant,
    running: RunningTenant,
}

async fn emulator(config: TenantConfig) -> Emulator {
    let tenant = Tenant::open(&config.reuse_key()).unwrap();
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Emulator { tenant, running }
}

fn authority(e: &Emulator) -> Authority {
    Authority::new(e.running.base_url(), "organizations").unwrap()
}

/// A "browser" that follows every redirect, as a user's would after signing in
/// (the emulator runs unattended, so no page is shown).
fn browser() -> Interactive {
    Interactive {
        login_hint: None,
        prompt: None,
        port: 0,
        timeout: Duration::from_secs(10),
        open: Arc::new(|url: String| {
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        }),
    }
}

#[tokio::test]
async fn interactive_sign_in_then_silent_from_the_cache_after_a_restart() {
    let e = emulator(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token-cache.json");
    let client = AuthClient::new(authority(&e), CLI, TokenCache::file(&path));
    let result = client
        .acquire_token_interactive(&["User.Read", "Mail.Read"], &browser())
        .await
        .unwrap();
    let account = result.account.clone().unwrap();
    assert_eq!(account.username, seed::ADMIN_UPN);
    assert!(result.scopes.iter().any(|s| s == "Mail.Read"), "{:?}", result.scopes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // A new process: a new client on the same file serves silently, with no token request.
    let before = e.tenant.stats().token_requests;
    let again = AuthClient::new(authority(&e), CLI, TokenCache::file(&path));
    let accounts = again.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    let silent =
        again.acquire_token_silent(&accounts[0], &["User.Read"], false).await.unwrap();
    assert!(silent.from_cache);
    assert_eq!(silent.access_token, result.access_token);
    assert_eq!(
        e.tenant.stats().token_requests,
        before,
        "no request reached the token endpoint"
    );

    // Forced refresh: a new token and a rotated refresh token, kept in the file.
    let rt_before = again.cache().read().await.unwrap().refresh_tokens;
    let refreshed =
        again.acquire_token_silent(&accounts[0], &["User.Read"], true).await.unwrap();
    assert!(!refreshed.from_cache);
    assert_eq!(e.tenant.stats().token_requests, before + 1);
    let rt_after = again.cache().read().await.unwrap().refresh_tokens;
    assert_ne!(rt_before, rt_after, "the rotated refresh token replaced the old one");
    // The refreshed token works on Graph.
    let me = reqwest::Client::new()
        .get(format!("{}/v1.0/me", e.running.base_url()))
        .bearer_auth(refreshed.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Logout removes the account and its tokens.
    assert!(again.remove_account(&accounts[0]).await.unwrap());
    let data = again.cache().read().await.unwrap();
    assert!(
        data.accounts.is_empty()
            && data.access_tokens.is_empty()
            && data.refresh_tokens.is_empty()
    );
    let err = again
        .acquire_token_silent(&accounts[0], &["User.Read"], false)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InteractionRequired(_)), "{err}");
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_and_unconsented_scopes_need_interaction() {
    let e = emulator(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let client = AuthClient::new(authority(&e), CLI, TokenCache::in_memory());
    let first =
        client.acquire_token_interactive(&["User.Read"], &browser()).await.unwrap();
    let account = first.account.unwrap();
    // Age the cached token to 4 minutes left: under MSAL's 5-minute margin.
    {
        let mut guard = client.cache().lock().await.unwrap();
        for at in guard.data.access_tokens.values_mut() {
            at.expires_on = (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 240)
                .to_string();
        }
        guard.save().unwrap();
    }
    let second =
        client.acquire_token_silent(&account, &["User.Read"], false).await.unwrap();
    assert!(!second.from_cache, "refreshed, not served");
    // A scope never consented to: the refresh is refused (AADSTS65001), so sign in again.
    let err = client
        .acquire_token_silent(&account, &["Notes.ReadWrite.All"], false)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InteractionRequired(_)), "{err}");
    assert!(err.to_string().contains("AADSTS65001"), "{err}");
}

/// A user at `/devicelogin`: enters `code`, picks `login`, accepts or cancels.
async fn answer_devicelogin(
    base: String,
    code: String,
    login: String,
    action: &'static str,
) {
    reqwest::Client::new()
        .post(format!("{base}/devicelogin"))
        .form(&[("otc", code.as_str()), ("login", login.as_str()), ("action", action)])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn device_code_flow_with_a_user_at_the_devicelogin_page() {
    let e = emulator(TenantConfig::in_memory().device_poll_interval(0)).await;
    let client = AuthClient::new(authority(&e), CLI, TokenCache::in_memory());
    let base = e.running.base_url().to_owned();
    let shown = Arc::new(Mutex::new(String::new()));
    let seen = shown.clone();
    let result = client
        .acquire_token_device_code(&["User.Read"], move |prompt| {
            *seen.lock().unwrap() = prompt.message.clone();
            let code = prompt.user_code.clone();
            tokio::spawn(answer_devicelogin(
                base,
                code,
                seed::ADMIN_UPN.to_owned(),
                "accept",
            ));
        })
        .await
        .unwrap();
    assert!(shown.lock().unwrap().contains("/devicelogin"));
    assert_eq!(result.account.unwrap().username, seed::ADMIN_UPN);

    // Declined.
    let base = e.running.base_url().to_owned();
    let err = client
        .acquire_token_device_code(&["User.Read"], move |prompt| {
            let code = prompt.user_code.clone();
            tokio::spawn(answer_devicelogin(
                base,
                code,
                seed::ADMIN_UPN.to_owned(),
                "cancel",
            ));
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Declined(_)), "{err}");
}

async fn register_lab_app(e: &Emulator) -> (String, String, Secret) {
    let token =
        e.tenant.issue_token(seed::ADMIN_UPN, &["Application.ReadWrite.All"]).unwrap();
    let http = reqwest::Client::new();
    let base = e.running.base_url();
    let graph: Value = http
        .get(format!("{base}/v1.0/servicePrincipals/{}", seed::GRAPH_SP_ID))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_of = |list: &str, name: &str| {
        graph[list].as_array().unwrap().iter().find(|p| p["value"] == name).unwrap()["id"]
            .clone()
    };
    let app: Value = http
        .post(format!("{base}/v1.0/applications"))
        .bearer_auth(&token)
        .json(&json!({
            "displayName": "MS Graph Batch App", "signInAudience": "AzureADMultipleOrgs",
            "web": {"redirectUris": ["https://global.consent.azure-apim.net/redirect"]},
            "publicClient": {"redirectUris": ["http://localhost"]},
            "requiredResourceAccess": [{"resourceAppId": graphlab_tenant::GRAPH_APP_ID, "resourceAccess": [
                {"id": id_of("oauth2PermissionScopes", "Group.ReadWrite.All"), "type": "Scope"},
                {"id": id_of("appRoles", "Group.Read.All"), "type": "Role"}]}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let object_id = app["id"].as_str().unwrap();
    let secret: Value = http
        .post(format!("{base}/v1.0/applications/{object_id}/addPassword"))
        .bearer_auth(&token)
        .json(&json!({"passwordCredential": {"displayName": "forever"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        object_id.to_owned(),
        app["appId"].as_str().unwrap().to_owned(),
        Secret::new(secret["secretText"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn confidential_v1_like_the_connector_and_client_credentials() {
    let e = emulator(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let (_, app_id, secret) = register_lab_app(&e).await;
    // v1 with `resource`, as the connector's security settings do.
    let v1 = AuthClient::new(
        Authority::new(e.running.base_url(), "common").unwrap(),
        &app_id,
        TokenCache::in_memory(),
    )
    .with_secret(secret.clone())
    .with_protocol(Protocol::V1 { resource: "https://graph.microsoft.com".into() });
    let result = v1.acquire_token_interactive(&[], &browser()).await.unwrap();
    assert!(
        result.scopes.iter().any(|s| s == "Group.ReadWrite.All"),
        "{:?}",
        result.scopes
    );
    let account = result.account.unwrap();
    let refreshed = v1.acquire_token_silent(&account, &[], true).await.unwrap();
    assert!(!refreshed.from_cache);

    // Client credentials, after admin consent, then from the cache.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = http
        .get(format!("{}/common/v2.0/adminconsent?client_id={app_id}&redirect_uri=https%3A%2F%2Fglobal.consent.azure-apim.net%2Fredirect", e.running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 303);
    let app = AuthClient::new(authority(&e), &app_id, TokenCache::in_memory())
        .with_secret(secret.clone());
    let token = app.acquire_token_for_client().await.unwrap();
    assert!(token.account.is_none());
    let groups = reqwest::Client::new()
        .get(format!("{}/v1.0/groups", e.running.base_url()))
        .bearer_auth(token.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(groups.status(), 200);
    assert!(app.acquire_token_for_client().await.unwrap().from_cache);

    let wrong = AuthClient::new(authority(&e), &app_id, TokenCache::in_memory())
        .with_secret(Secret::new("nope"));
    let err = wrong.acquire_token_for_client().await.unwrap_err();
    assert_eq!(err.aadsts(), &[7000215]);
    assert!(!err.to_string().contains("nope"));
}

#[tokio::test]
async fn redirect_state_mismatch_timeout_and_unknown_client() {
    let e = emulator(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let client = AuthClient::new(authority(&e), CLI, TokenCache::in_memory());
    let mut forged = browser();
    forged.open = Arc::new(|url: String| {
        let redirect = url
            .split("redirect_uri=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let redirect = percent_decode(&redirect);
        tokio::spawn(async move {
            let _ =
                reqwest::get(format!("{redirect}/?code=stolen&state=not-yours")).await;
        });
    });
    let err =
        client.acquire_token_interactive(&["User.Read"], &forged).await.unwrap_err();
    assert!(matches!(err, AuthError::StateMismatch), "{err}");

    let mut nobody = browser();
    nobody.timeout = Duration::from_millis(300);
    nobody.open = Arc::new(|_| {});
    let err =
        client.acquire_token_interactive(&["User.Read"], &nobody).await.unwrap_err();
    assert!(matches!(err, AuthError::Timeout(_)), "{err}");

    let unknown = AuthClient::new(
        authority(&e),
        "11111111-2222-3333-4444-555555555555",
        TokenCache::in_memory(),
    );
    let err =
        unknown.acquire_token_device_code(&["User.Read"], |_| {}).await.unwrap_err();
    assert_eq!(err.aadsts(), &[700016], "{err}");
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn a_corrupted_cache_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token-cache.json");
    std::fs::write(&path, "{\n  \"Account\": {,\n}").unwrap();
    let cache = TokenCache::file(&path);
    let err = cache.read().await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("token-cache.json") && text.contains("line 2"), "{text}");
}

#[tokio::test]
async fn sixteen_concurrent_refreshers_leave_a_valid_cache_and_every_account() {
    let e = emulator(TenantConfig::in_memory().device_poll_interval(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token-cache.json");
    // Two accounts, signed in by device code as two different users.
    for user in [seed::ADMIN_UPN, "AdeleV@contoso.onmicrosoft.com"] {
        let client = AuthClient::new(authority(&e), CLI, TokenCache::file(&path));
        let base = e.running.base_url().to_owned();
        let user = user.to_owned();
        client
            .acquire_token_device_code(&["User.Read"], move |p| {
                let code = p.user_code.clone();
                tokio::spawn(answer_devicelogin(base, code, user, "accept"));
            })
            .await
            .unwrap();
    }
    let accounts = AuthClient::new(authority(&e), CLI, TokenCache::file(&path))
        .accounts()
        .await
        .unwrap();
    assert_eq!(accounts.len(), 2);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let client = AuthClient::new(authority(&e), CLI, TokenCache::file(&path));
        let account = accounts[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            client.acquire_token_silent(&account, &["User.Read"], true).await
        }));
    }
    for t in tasks {
        t.await
            .unwrap()
            .expect("every refresh succeeds: no refresh token is redeemed twice");
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let data: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(data["Account"].as_object().unwrap().len(), 2, "no account lost");
    assert_eq!(data["RefreshToken"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn token_providers_serve_and_refresh() {
    let e = emulator(TenantConfig::in_memory().unattended(seed::ADMIN_UPN)).await;
    let client = AuthClient::new(authority(&e), CLI, TokenCache::in_memory());
    let account = client
        .acquire_token_interactive(&["User.Read"], &browser())
        .await
        .unwrap()
        .account
        .unwrap();
    let provider = graphlab_auth::SilentTokenProvider {
        client,
        account,
        scopes: vec!["User.Read".into()],
    };
    let a = provider.access_token(false).await.unwrap();
    let b = provider.access_token(true).await.unwrap();
    assert_ne!(a, b);
    let fixed = graphlab_auth::StaticToken(Secret::new("t"));
    assert_eq!(fixed.access_token(false).await.unwrap().expose(), "t");
    assert!(fixed.access_token(true).await.is_err());
}
