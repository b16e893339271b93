//! [`AuthClient`]: the flows, and how their results enter the cache.

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, PkceCodeChallenge, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardRevocableToken, TokenUrl,
    basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse},
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    Account, AuthError, MsErrorResponse, MsTokenResponse, Secret, TokenCache,
    cache::{CacheData, Credential, TokenQuery},
    loopback::Loopback,
};

/// Access tokens with less than this left are refreshed (as MSAL does).
pub const REFRESH_MARGIN_SECS: u64 = 300;

/// OIDC scopes added to every delegated request.
const OIDC: [&str; 3] = ["openid", "profile", "offline_access"];

type MsClient = oauth2::Client<
    MsErrorResponse,
    MsTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Where to sign in: an instance URL and a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    instance: String,
    tenant: String,
}

impl Authority {
    /// `instance` is `https://login.microsoftonline.com` or the emulator's
    /// URL; `tenant` is `common`, `organizations`, a tenant id or a domain.
    /// Plain http is accepted only for loopback hosts.
    pub fn new(instance: &str, tenant: &str) -> Result<Authority, AuthError> {
        let url = url::Url::parse(instance).map_err(|e| {
            AuthError::Config(format!("the authority URL '{instance}' is not valid: {e}"))
        })?;
        let loopback =
            matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(AuthError::Config(format!(
                "the authority '{instance}' must use https (plain http is allowed only on loopback)"
            )));
        }
        if tenant.is_empty() || tenant.contains('/') {
            return Err(AuthError::Config(format!("'{tenant}' is not a tenant")));
        }
        Ok(Authority {
            instance: instance.trim_end_matches('/').to_owned(),
            tenant: tenant.to_owned(),
        })
    }

    /// The host (and port) the cache keys tokens by.
    pub fn environment(&self) -> String {
        url::Url::parse(&self.instance)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            })
            .unwrap_or_default()
    }

    /// The tenant path segment.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    fn endpoint(&self, protocol: &Protocol, name: &str) -> String {
        match protocol {
            Protocol::V2 => {
                format!("{}/{}/oauth2/v2.0/{name}", self.instance, self.tenant)
            }
            Protocol::V1 { .. } => {
                format!("{}/{}/oauth2/{name}", self.instance, self.tenant)
            }
        }
    }
}

/// v2.0 (scopes) or v1.0 (a resource, as custom connectors use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `/oauth2/v2.0/...` with scopes.
    V2,
    /// `/oauth2/...` with `resource`.
    V1 {
        /// e.g. `https://graph.microsoft.com`.
        resource: String,
    },
}

/// A token, and whose.
#[derive(Debug, Clone)]
pub struct AuthResult {
    /// The access token.
    pub access_token: Secret,
    /// Expiry, seconds since the epoch.
    pub expires_on: u64,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The signed-in account (none for app-only tokens).
    pub account: Option<Account>,
    /// Whether it came from the cache without a request.
    pub from_cache: bool,
}

/// What the device code flow asks the user to do.
#[derive(Debug, Clone, Deserialize)]
pub struct DevicePrompt {
    /// The code to enter.
    pub user_code: String,
    /// Where to enter it.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// The platform's own sentence, to print as is.
    pub message: String,
    #[serde(deserialize_with = "number")]
    expires_in: u64,
    #[serde(default = "five", deserialize_with = "number")]
    interval: u64,
    device_code: Secret,
}

fn five() -> u64 {
    5
}

fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => {
            n.as_u64().ok_or_else(|| serde::de::Error::custom("not a whole number"))
        }
        Value::String(s) => s.trim().parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected a number")),
    }
}

/// How to run the interactive flow.
#[derive(Clone)]
pub struct Interactive {
    /// Pre-fills the account (`login_hint`).
    pub login_hint: Option<String>,
    /// `prompt` (`select_account`, `consent`, `admin_consent`, ...).
    pub prompt: Option<String>,
    /// Loopback port (0: any free one, allowed for `http://localhost` redirect URIs).
    pub port: u16,
    /// How long to wait for the redirect.
    pub timeout: Duration,
    /// Shows the authorization URL to the user (opens a browser, prints it, ...).
    pub open: Arc<dyn Fn(String) + Send + Sync>,
}

impl std::fmt::Debug for Interactive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interactive")
            .field("login_hint", &self.login_hint)
            .field("prompt", &self.prompt)
            .field("port", &self.port)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Interactive {
    /// Opens the system browser when it can, else prints the URL on stderr.
    pub fn with_system_browser() -> Interactive {
        Interactive {
            login_hint: None,
            prompt: None,
            port: 0,
            timeout: Duration::from_secs(300),
            open: Arc::new(|url: String| {
                let opened = ["xdg-open", "open"].iter().any(|cmd| {
                    std::process::Command::new(cmd)
                        .arg(&url)
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                });
                if !opened {
                    eprintln!("Open this URL in a browser to sign in:\n{url}");
                }
            }),
        }
    }
}

/// A public or confidential client of one authority, with a token cache.
#[derive(Debug, Clone)]
pub struct AuthClient {
    authority: Authority,
    protocol: Protocol,
    client_id: String,
    secret: Option<Secret>,
    cache: TokenCache,
    http: reqwest::Client,
}

pub(crate) fn claims_of(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn text(v: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|k| v[*k].as_str()).unwrap_or("").to_owned()
}

impl AuthClient {
    /// A public client (no secret) of `authority` using `cache`.
    pub fn new(authority: Authority, client_id: &str, cache: TokenCache) -> AuthClient {
        let http = crate::Trust::installed()
            .client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        AuthClient {
            authority,
            protocol: Protocol::V2,
            client_id: client_id.to_owned(),
            secret: None,
            cache,
            http,
        }
    }

    /// Makes it a confidential client.
    pub fn with_secret(mut self, secret: Secret) -> AuthClient {
        self.secret = Some(secret);
        self
    }

    /// Uses the v1.0 endpoints with `resource`.
    pub fn with_protocol(mut self, protocol: Protocol) -> AuthClient {
        self.protocol = protocol;
        self
    }

    /// Uses this HTTP client (e.g. one that trusts the emulator's certificate).
    pub fn with_http(mut self, http: reqwest::Client) -> AuthClient {
        self.http = http;
        self
    }

    /// The cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn oauth(&self, redirect: Option<&str>) -> Result<MsClient, AuthError> {
        let bad =
            |e: url::ParseError| AuthError::Config(format!("bad endpoint URL: {e}"));
        let mut client = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(self.authority.endpoint(&self.protocol, "authorize"))
                    .map_err(bad)?,
            )
            .set_token_uri(
                TokenUrl::new(self.authority.endpoint(&self.protocol, "token"))
                    .map_err(bad)?,
            )
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &self.secret {
            client =
                client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        if let Some(uri) = redirect {
            client =
                client.set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(bad)?);
        }
        Ok(client)
    }

    fn scopes_for_request(&self, scopes: &[&str]) -> Vec<Scope> {
        match self.protocol {
            Protocol::V2 => scopes
                .iter()
                .chain(OIDC.iter())
                .map(|s| Scope::new((*s).to_owned()))
                .collect(),
            Protocol::V1 { .. } => vec![Scope::new("openid".to_owned())],
        }
    }

    fn token_error(
        &self,
        e: RequestTokenError<HttpClientError<reqwest::Error>, MsErrorResponse>,
    ) -> AuthError {
        let url = self.authority.endpoint(&self.protocol, "token");
        match e {
            RequestTokenError::ServerResponse(error) => {
                AuthError::Server { status: 400, error: Box::new(error) }
            }
            RequestTokenError::Request(oauth2::HttpClientError::Reqwest(e)) => {
                AuthError::Http { url, message: crate::trust::explain(&e) }
            }
            RequestTokenError::Request(e) => {
                AuthError::Http { url, message: e.to_string() }
            }
            RequestTokenError::Parse(e, _) => AuthError::Http {
                url,
                message: format!("unreadable token response: {e}"),
            },
            RequestTokenError::Other(message) => AuthError::Http { url, message },
        }
    }

    /// Every account in the cache for this authority's environment.
    pub async fn accounts(&self) -> Result<Vec<Account>, AuthError> {
        let env = self.authority.environment();
        Ok(self
            .cache
            .read()
            .await?
            .accounts
            .into_values()
            .filter(|a| a.environment == env)
            .collect())
    }

    /// The accounts this client signed in (it holds an access or refresh
    /// token of theirs), at this authority's host.
    pub async fn signed_in_accounts(&self) -> Result<Vec<Account>, AuthError> {
        let env = self.authority.environment();
        let data = self.cache.read().await?;
        Ok(data
            .accounts
            .values()
            .filter(|a| a.environment == env)
            .filter(|a| data.client_holds(&a.home_account_id, &env, &self.client_id))
            .cloned()
            .collect())
    }

    /// Signs this client out of the account: removes only the tokens this
    /// client holds (another app's cached connection to the account stays),
    /// as MSAL's `remove_account` removes the app's own refresh tokens.
    pub async fn sign_out(&self, account: &Account) -> Result<bool, AuthError> {
        let mut guard = self.cache.lock().await?;
        let removed = guard.data.sign_out_client(
            &account.home_account_id,
            &account.environment,
            &self.client_id,
        );
        guard.save()?;
        Ok(removed)
    }

    /// Signs the account out of this cache: removes it and all its tokens.
    pub async fn remove_account(&self, account: &Account) -> Result<bool, AuthError> {
        let mut guard = self.cache.lock().await?;
        let removed =
            guard.data.remove_account(&account.home_account_id, &account.environment);
        guard.save()?;
        Ok(removed)
    }

    /// Puts a token response in the cache and describes it.
    fn remember(
        &self,
        data: &mut CacheData,
        response: &MsTokenResponse,
        asked: &[&str],
    ) -> AuthResult {
        let access = response.access_token.secret().to_owned();
        let claims = claims_of(&access);
        let id_claims = response
            .id_token
            .as_ref()
            .map(|t| claims_of(t.expose()))
            .unwrap_or(Value::Null);
        let env = self.authority.environment();
        let tid = text(&claims, &["tid"]);
        let now = now();
        let expires_on =
            response.expires_on.unwrap_or(now + response.expires_in.unwrap_or(3599));
        let mut scopes: Vec<String> = response
            .scope
            .as_ref()
            .map(|s| s.iter().map(|s| s.as_str().to_owned()).collect())
            .unwrap_or_else(|| asked.iter().map(|s| (*s).to_owned()).collect());
        scopes.sort();
        scopes.dedup();
        let user = claims["idtyp"] != "app"
            && !text(&claims, &["oid"]).is_empty()
            && claims.get("scp").is_some();
        let account = user.then(|| {
            let oid = text(&claims, &["oid"]);
            Account {
                home_account_id: format!("{oid}.{tid}"),
                environment: env.clone(),
                realm: tid.clone(),
                local_account_id: oid,
                username: Some(text(&id_claims, &["preferred_username"]))
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| text(&claims, &["upn", "unique_name"])),
                name: text(&claims, &["name"]),
                authority_type: "MSSTS".to_owned(),
            }
        });
        let home =
            account.as_ref().map(|a| a.home_account_id.clone()).unwrap_or_default();
        let credential = |kind: &str,
                          secret: Secret,
                          realm: &str,
                          target: &str,
                          expires: u64| Credential {
            home_account_id: home.clone(),
            environment: env.clone(),
            credential_type: kind.to_owned(),
            client_id: self.client_id.clone(),
            secret,
            realm: realm.to_owned(),
            target: target.to_owned(),
            cached_at: now.to_string(),
            expires_on: if expires == 0 { String::new() } else { expires.to_string() },
        };
        let target = scopes.join(" ").to_lowercase();
        data.put_credential(credential(
            "AccessToken",
            Secret::new(access.clone()),
            &tid,
            &target,
            expires_on,
        ));
        if let Some(rt) = &response.refresh_token {
            data.put_credential(credential(
                "RefreshToken",
                Secret::new(rt.secret().to_owned()),
                "",
                "",
                0,
            ));
        }
        if let Some(id) = &response.id_token {
            data.put_credential(credential("IdToken", id.clone(), &tid, "", 0));
        }
        if let Some(account) = &account {
            data.put_account(account.clone());
        }
        AuthResult {
            access_token: Secret::new(access),
            expires_on,
            scopes,
            account,
            from_cache: false,
        }
    }

    /// From the cache, or by refreshing; never shows a page.
    pub async fn acquire_token_silent(
        &self,
        account: &Account,
        scopes: &[&str],
        force_refresh: bool,
    ) -> Result<AuthResult, AuthError> {
        let wanted: BTreeSet<String> = scopes.iter().map(|s| s.to_lowercase()).collect();
        let mut guard = self.cache.lock().await?;
        if !force_refresh
            && let Some(at) = guard.data.find_access_token(
                &TokenQuery {
                    home_account_id: &account.home_account_id,
                    environment: &account.environment,
                    client_id: &self.client_id,
                    realm: &account.realm,
                    scopes: &wanted,
                },
                now() + REFRESH_MARGIN_SECS,
            )
        {
            tracing::debug!(account = %account.username, "access token served from the cache");
            return Ok(AuthResult {
                access_token: at.secret.clone(),
                expires_on: at.expires_at(),
                scopes: at.target.split_whitespace().map(str::to_owned).collect(),
                account: Some(account.clone()),
                from_cache: true,
            });
        }
        let Some(rt) = guard.data.find_refresh_token(
            &account.home_account_id,
            &account.environment,
            &self.client_id,
        ) else {
            return Err(AuthError::InteractionRequired(format!(
                "no refresh token for {} in the cache; sign in again",
                account.username
            )));
        };
        let rt = RefreshToken::new(rt.secret.expose().to_owned());
        let oauth = self.oauth(None)?;
        let mut request = oauth.exchange_refresh_token(&rt);
        match &self.protocol {
            Protocol::V2 => request = request.add_scopes(self.scopes_for_request(scopes)),
            Protocol::V1 { resource } => {
                request = request.add_extra_param("resource", resource.clone())
            }
        }
        tracing::debug!(account = %account.username, "refreshing the access token");
        tracing::trace!(grant = "refresh_token", refresh_token = ?rt, "token request");
        let response = match request.request_async(&self.http).await {
            Ok(r) => r,
            Err(RequestTokenError::ServerResponse(error))
                if matches!(
                    error.error.as_str(),
                    "invalid_grant" | "interaction_required" | "consent_required"
                ) =>
            {
                // The refresh token is dead: forget it so the next call asks at once.
                guard.data.refresh_tokens.retain(|_, c| {
                    !(c.home_account_id == account.home_account_id
                        && c.client_id == self.client_id)
                });
                guard.save()?;
                return Err(AuthError::InteractionRequired(error.summary()));
            }
            Err(e) => return Err(self.token_error(e)),
        };
        let result = self.remember(&mut guard.data, &response, scopes);
        guard.save()?;
        Ok(result)
    }

    /// Authorization code + PKCE (S256) with a loopback redirect listener.
    pub async fn acquire_token_interactive(
        &self,
        scopes: &[&str],
        options: &Interactive,
    ) -> Result<AuthResult, AuthError> {
        let csrf = CsrfToken::new_random();
        let loopback = Loopback::start(options.port, csrf.secret()).await?;
        let oauth = self.oauth(Some(&loopback.redirect_uri))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = csrf.clone();
        let mut request =
            oauth.authorize_url(move || state).set_pkce_challenge(challenge);
        match &self.protocol {
            Protocol::V2 => request = request.add_scopes(self.scopes_for_request(scopes)),
            Protocol::V1 { resource } => {
                request = request.add_extra_param("resource", resource.clone())
            }
        }
        if let Some(hint) = &options.login_hint {
            request = request.add_extra_param("login_hint", hint.clone());
        }
        if let Some(prompt) = &options.prompt {
            request = request.add_extra_param("prompt", prompt.clone());
        }
        let (url, _) = request.url();
        (options.open)(url.to_string());
        tracing::trace!(redirect_uri = %loopback.redirect_uri, "authorization request opened");
        let code = loopback.wait(options.timeout).await?;
        tracing::trace!(grant = "authorization_code", code = ?code, "token request");
        let mut exchange = oauth
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(verifier);
        if let Protocol::V1 { resource } = &self.protocol {
            exchange = exchange.add_extra_param("resource", resource.clone());
        }
        let response =
            exchange.request_async(&self.http).await.map_err(|e| self.token_error(e))?;
        let mut guard = self.cache.lock().await?;
        let result = self.remember(&mut guard.data, &response, scopes);
        guard.save()?;
        tracing::info!(account = ?result.account.as_ref().map(|a| &a.username), "signed in");
        Ok(result)
    }

    /// The device code flow: `prompt` shows the platform's message; then polls
    /// every `interval` until the user signs in, declines or the code expires.
    ///
    /// The interval is the server's, as RFC 8628 (section 3.5) has it: 5
    /// seconds when it names none, 5 more after each `slow_down`, and no
    /// wait when it says 0 (the emulator's unattended tests do).
    pub async fn acquire_token_device_code(
        &self,
        scopes: &[&str],
        prompt: impl FnOnce(&DevicePrompt),
    ) -> Result<AuthResult, AuthError> {
        let url = self.authority.endpoint(&self.protocol, "devicecode");
        let mut form = vec![("client_id", self.client_id.clone())];
        match &self.protocol {
            Protocol::V2 => {
                let all: Vec<String> = self
                    .scopes_for_request(scopes)
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect();
                form.push(("scope", all.join(" ")));
            }
            Protocol::V1 { resource } => form.push(("resource", resource.clone())),
        }
        let details: DevicePrompt = self.post_form(&url, &form).await?;
        prompt(&details);
        let token_url = self.authority.endpoint(&self.protocol, "token");
        let deadline =
            std::time::Instant::now() + Duration::from_secs(details.expires_in);
        let mut interval = Duration::from_secs(details.interval);
        loop {
            tokio::time::sleep(interval).await;
            if std::time::Instant::now() > deadline {
                return Err(AuthError::Expired);
            }
            let mut poll = vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".to_owned()),
                ("client_id", self.client_id.clone()),
                ("device_code", details.device_code.expose().to_owned()),
            ];
            if let Some(secret) = &self.secret {
                poll.push(("client_secret", secret.expose().to_owned()));
            }
            match self.post_form::<MsTokenResponse>(&token_url, &poll).await {
                Ok(response) => {
                    let mut guard = self.cache.lock().await?;
                    let result = self.remember(&mut guard.data, &response, scopes);
                    guard.save()?;
                    return Ok(result);
                }
                Err(AuthError::Server { error, status }) => match error.error.as_str() {
                    "authorization_pending" => {}
                    "slow_down" => interval += Duration::from_secs(5),
                    "authorization_declined" | "access_denied" => {
                        return Err(AuthError::Declined(error.summary()));
                    }
                    "expired_token" | "code_expired" => return Err(AuthError::Expired),
                    _ => return Err(AuthError::Server { error, status }),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Client credentials (app-only), from the cache when still valid.
    pub async fn acquire_token_for_client(&self) -> Result<AuthResult, AuthError> {
        if self.secret.is_none() {
            return Err(AuthError::Config(
                "client credentials need a client secret".into(),
            ));
        }
        let resource = match &self.protocol {
            Protocol::V2 => "https://graph.microsoft.com".to_owned(),
            Protocol::V1 { resource } => resource.clone(),
        };
        let target = format!("{resource}/.default").to_lowercase();
        let mut guard = self.cache.lock().await?;
        let env = self.authority.environment();
        let wanted: BTreeSet<String> = [target.clone()].into();
        if let Some(at) = guard.data.access_tokens.values().find(|c| {
            c.home_account_id.is_empty()
                && c.environment == env
                && c.client_id == self.client_id
                && wanted.is_subset(&c.scopes())
                && c.expires_at() > now() + REFRESH_MARGIN_SECS
        }) {
            return Ok(AuthResult {
                access_token: at.secret.clone(),
                expires_on: at.expires_at(),
                scopes: vec![target],
                account: None,
                from_cache: true,
            });
        }
        let oauth = self.oauth(None)?;
        let mut request = oauth.exchange_client_credentials();
        match &self.protocol {
            Protocol::V2 => {
                request = request.add_scope(Scope::new(format!("{resource}/.default")))
            }
            Protocol::V1 { resource } => {
                request = request.add_extra_param("resource", resource.clone())
            }
        }
        let mut response =
            request.request_async(&self.http).await.map_err(|e| self.token_error(e))?;
        response.scope = Some(vec![Scope::new(target.clone())]);
        let result = self.remember(&mut guard.data, &response, &[]);
        guard.save()?;
        Ok(result)
    }

    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<T, AuthError> {
        let http_err = |e: reqwest::Error| AuthError::Http {
            url: url.to_owned(),
            message: crate::trust::explain(&e),
        };
        let response = self.http.post(url).form(form).send().await.map_err(http_err)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(http_err)?;
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|e| AuthError::Http {
                url: url.to_owned(),
                message: format!("unreadable answer: {e}"),
            })
        } else {
            let error: MsErrorResponse =
                serde_json::from_slice(&bytes).map_err(|_| AuthError::Http {
                    url: url.to_owned(),
                    message: format!("answered {status} with no OAuth error"),
                })?;
            Err(AuthError::Server { status: status.as_u16(), error: Box::new(error) })
        }
    }
}
