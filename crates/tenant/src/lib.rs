//! An emulated Microsoft Graph tenant, served over HTTP on loopback.
//!
//! The emulator is what most trainees use instead of a real Office 365 tenant.
//! It behaves like Microsoft Graph where the lab and its tools can tell:
//! the same routes under `/v1.0` and `/beta`, OData query options, the
//! permission each route needs, Graph's error bodies and status codes, JSON
//! batching with its limits and `dependsOn` rules, throttling with
//! `Retry-After`, and state that survives a restart.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use graphlab_tenant::{Tenant, TenantConfig};
//! let tenant = Tenant::open(&TenantConfig::in_memory())?;
//! let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse()?).await?;
//! let token = tenant.issue_token("admin@contoso.onmicrosoft.com", &["User.Read"])?;
//! println!("GET {}/v1.0/me with Bearer {}", running.base_url(), token.len());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod admin;
mod auth;
mod batch;
mod body;
pub mod chaos;
mod cors;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod identity;
pub mod limits;

mod odata;
pub mod perms;
mod routes;
pub mod seed;
mod server;
mod store;
mod tls;
mod token;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::Value;

pub use chaos::{ChaosConfig, FaultRule, RateLimit};
pub use error::GraphError;
pub use server::{RunningTenant, app, serve, serve_loopback};
pub use tls::{
    TlsError, TlsFiles, ensure_certificate, ensure_certificate_for, serve_tls,
    serve_tls_for,
};
pub use token::{AccessClaims, GRAPH_APP_ID, GRAPH_RESOURCE, SigningKey};

use store::{Col, Store};

/// How long the access tokens the token endpoint issues live (`expires_in`;
/// Entra answers 3599 for its default of one hour). [`Tenant::issue_token`]
/// mints tokens with the same lifetime.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// Default delay before a new group can get a team, like Graph's replication.
pub const DEFAULT_REPLICATION_DELAY: Duration = Duration::from_secs(3);

/// Where the emulator reads the time (the replication delay, Retry-After
/// penalties, rate buckets, token lifetimes, codes' and device codes'
/// expiry, device-code poll intervals): the system clock, or a function a
/// test gives so that the emulator and the code under test share one clock
/// (a test moves it instead of sleeping).
#[derive(Clone)]
pub struct Now(Arc<dyn Fn() -> std::time::SystemTime + Send + Sync>);

impl Now {
    /// The system clock.
    pub fn system() -> Now {
        Now(Arc::new(std::time::SystemTime::now))
    }

    /// A clock read through `f`.
    pub fn from_fn(f: impl Fn() -> std::time::SystemTime + Send + Sync + 'static) -> Now {
        Now(Arc::new(f))
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn millis(&self) -> u64 {
        (self.0)()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// How long ago `since_ms` (milliseconds since the epoch, read from this
    /// clock) was; zero if it is in the future.
    pub(crate) fn since(&self, since_ms: u64) -> Duration {
        Duration::from_millis(self.millis().saturating_sub(since_ms))
    }

    /// The time, as the `time` crate's date-time (UTC).
    pub(crate) fn date_time(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from((self.0)())
    }

    /// Seconds since the Unix epoch.
    pub(crate) fn secs(&self) -> u64 {
        self.millis() / 1000
    }
}

impl std::fmt::Debug for Now {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Now")
    }
}

/// How to open a tenant.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// Where state lives: a directory (SQLite `tenant.db` inside), or memory.
    pub state_dir: Option<PathBuf>,
    /// How long a new group waits before `PUT /groups/{id}/team` succeeds.
    pub replication_delay: Duration,
    /// Fault injection and rate limiting.
    pub chaos: ChaosConfig,
    /// Unattended mode: this user (UPN or id) signs in and consents without
    /// any page. A testing aid for scripts, CI and the smoke run.
    pub unattended: Option<String>,
    /// Seconds a device-code client must wait between polls (Entra says 5;
    /// 0, a test aid, lets a client poll at once and never answers
    /// `slow_down`).
    pub device_poll_interval: u64,
    /// The emulator's clock (see [`Now`]).
    pub now: Now,
    /// Sign with a key made once per process and shared by every tenant
    /// opened with this set, instead of a new one (see
    /// [`TenantConfig::reuse_key`]).
    pub reuse_key: bool,
    /// Read timeouts of the served emulator (slow clients).
    pub timeouts: limits::Timeouts,
}

impl TenantConfig {
    /// A tenant whose state lives in memory only (for tests).
    pub fn in_memory() -> TenantConfig {
        TenantConfig {
            state_dir: None,
            replication_delay: DEFAULT_REPLICATION_DELAY,
            chaos: ChaosConfig::default(),
            unattended: None,
            device_poll_interval: 5,
            now: Now::system(),
            reuse_key: false,
            timeouts: limits::Timeouts::default(),
        }
    }

    /// A tenant persisted in `dir` (created if missing).
    pub fn persistent(dir: impl Into<PathBuf>) -> TenantConfig {
        TenantConfig { state_dir: Some(dir.into()), ..TenantConfig::in_memory() }
    }

    /// Reads the time from `now` (see [`Now`]).
    pub fn clock(mut self, now: Now) -> TenantConfig {
        self.now = now;
        self
    }

    /// A new tenant (one whose state holds no key yet) signs with the
    /// process's one reused key instead of generating its own: for tests,
    /// which open hundreds of tenants, as making a 2048-bit RSA key takes
    /// from a tenth of a second to a second. Tenants opened without it keep
    /// keys of their own, so their tokens are refused by each other.
    pub fn reuse_key(mut self) -> TenantConfig {
        self.reuse_key = true;
        self
    }

    /// Sets the replication delay.
    pub fn replication_delay(mut self, delay: Duration) -> TenantConfig {
        self.replication_delay = delay;
        self
    }

    /// Turns on unattended sign-in as `user` (UPN or id).
    pub fn unattended(mut self, user: impl Into<String>) -> TenantConfig {
        self.unattended = Some(user.into());
        self
    }

    /// Sets the device-code polling interval, in seconds (0 in tests: see
    /// [`TenantConfig::device_poll_interval`](struct@TenantConfig)).
    pub fn device_poll_interval(mut self, secs: u64) -> TenantConfig {
        self.device_poll_interval = secs;
        self
    }

    /// Sets the read timeouts (tests shorten them).
    pub fn timeouts(mut self, timeouts: limits::Timeouts) -> TenantConfig {
        self.timeouts = timeouts;
        self
    }

    /// Sets the fault-injection configuration.
    pub fn chaos(mut self, chaos: ChaosConfig) -> TenantConfig {
        self.chaos = chaos;
        self
    }
}

/// Errors opening a tenant or issuing a token.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The state directory could not be created or secured.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The state database failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The signing key could not be made or loaded.
    #[error(transparent)]
    Key(#[from] token::KeyError),
    /// No such user.
    #[error("no user '{0}' in the tenant")]
    UnknownUser(String),
    /// No socket could be bound on loopback.
    #[error("cannot serve the tenant on 127.0.0.1: {0}")]
    Serve(#[source] std::io::Error),
}

impl From<store::StoreError> for GraphError {
    fn from(e: store::StoreError) -> Self {
        tracing::error!(error = %e, "state database write failed");
        GraphError::internal("The state database could not be written.")
    }
}

/// Counters kept by the emulator, readable at `/_graphlab/stats`.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    batch_calls: AtomicU64,
    batch_items: AtomicU64,
    faults: AtomicU64,
    throttled: AtomicU64,
    token_requests: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// HTTP requests received on Graph routes (a `$batch` call counts once).
    pub requests: u64,
    /// `$batch` calls accepted for processing.
    pub batch_calls: u64,
    /// Items executed inside batches.
    pub batch_items: u64,
    /// Injected faults (status codes from the chaos configuration).
    pub faults: u64,
    /// Requests refused by the rate limiter or an unexpired `Retry-After`.
    pub throttled: u64,
    /// Requests to the identity platform's token endpoints.
    pub token_requests: u64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            batch_calls: self.batch_calls.load(Ordering::Relaxed),
            batch_items: self.batch_items.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
        }
    }

    fn reset(&self) {
        for c in [
            &self.requests,
            &self.batch_calls,
            &self.batch_items,
            &self.faults,
            &self.throttled,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
pub(crate) struct TenantState {
    pub(crate) store: Store,
    pub(crate) admin_secret: String,
    pub(crate) key: SigningKey,
    pub(crate) verified: token::VerifiedCache,
    pub(crate) tenant_id: String,
    pub(crate) replication_delay: Duration,
    pub(crate) now: Now,
    pub(crate) chaos: chaos::Chaos,
    pub(crate) stats: Stats,
    pub(crate) tls: std::sync::atomic::AtomicBool,
    pub(crate) identity: identity::Identity,
    pub(crate) timeouts: limits::Timeouts,
}

/// A handle on an emulated tenant. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Tenant(pub(crate) Arc<TenantState>);

/// What to put in an access token (see [`Tenant::issue_token_with`]).
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The signed-in user (id or UPN); `None` for an app-only token.
    pub user: Option<String>,
    /// The client application id (`appid`).
    pub client_id: String,
    /// Delegated scopes (`scp`).
    pub scopes: Vec<String>,
    /// Application roles (`roles`).
    pub roles: Vec<String>,
    /// Lifetime from now; negative values are expressed with `expired`.
    pub lifetime: Duration,
    /// Issue a token that expired this long ago instead.
    pub expired: Option<Duration>,
    /// The audience (`aud`).
    pub audience: String,
}

impl TokenSpec {
    /// A delegated token for `user` through the Graph command-line tools client.
    pub fn delegated(user: &str, scopes: &[&str]) -> TokenSpec {
        TokenSpec {
            user: Some(user.to_owned()),
            client_id: seed::GRAPH_CLI_APP_ID.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            roles: Vec::new(),
            lifetime: ACCESS_TOKEN_LIFETIME,
            expired: None,
            audience: GRAPH_RESOURCE.to_owned(),
        }
    }
}

impl Tenant {
    /// Opens a tenant: loads (or creates and seeds) its state and signing key.
    pub fn open(config: &TenantConfig) -> Result<Tenant, TenantError> {
        let db_path = match &config.state_dir {
            Some(dir) => Some(prepare_state_dir(dir)?),
            None => None,
        };
        let store = Store::open(db_path.as_deref())?;
        if let Some(path) = &db_path {
            restrict_file(path)?;
        }
        let admin_secret = match &config.state_dir {
            Some(dir) => load_or_make_admin_secret(dir)?,
            None => new_admin_secret(),
        };
        let key = match store.meta("signing_key")? {
            Some(pem) => SigningKey::from_pem(&pem)?,
            None if config.reuse_key => SigningKey::process_wide()?,
            None => SigningKey::generate()?,
        };
        if store.meta("seeded")?.is_none() {
            store.write(|tx| {
                seed::seed(tx);
                tx.set_meta("seeded", "1");
                tx.set_meta("signing_key", key.private_pem());
                Ok::<_, TenantError>(())
            })?;
        }
        Ok(Tenant(Arc::new(TenantState {
            store,
            admin_secret,
            key,
            verified: token::VerifiedCache::default(),
            tenant_id: seed::TENANT_ID.to_owned(),
            replication_delay: config.replication_delay,
            now: config.now.clone(),
            chaos: chaos::Chaos::new(config.chaos.clone()),
            stats: Stats::default(),
            tls: std::sync::atomic::AtomicBool::new(false),
            identity: identity::Identity {
                unattended: config.unattended.clone(),
                device_interval: config.device_poll_interval,
                ..identity::Identity::default()
            },
            timeouts: config.timeouts,
        })))
    }

    /// The secret the admin routes (`/_graphlab/...` but `health`) want as
    /// `Authorization: Bearer SECRET`. A persistent tenant keeps it in
    /// `STATE/admin-secret` ([`ADMIN_SECRET_FILE`], 0600), where tools read it
    /// ([`read_admin_secret`]); an in-memory tenant only here.
    pub fn admin_secret(&self) -> &str {
        &self.0.admin_secret
    }

    /// Seconds since the Unix epoch on the tenant's clock.
    pub(crate) fn now_secs(&self) -> u64 {
        self.0.now.secs()
    }

    /// The tenant id (`tid`).
    pub fn tenant_id(&self) -> &str {
        &self.0.tenant_id
    }

    /// The tenant's token-signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.0.key
    }

    /// Signs a delegated access token for `user` (id or UPN) with `scopes`,
    /// exactly as the token endpoint will issue it.
    pub fn issue_token(
        &self,
        user: &str,
        scopes: &[&str],
    ) -> Result<String, TenantError> {
        self.issue_token_with(&TokenSpec::delegated(user, scopes))
    }

    /// Signs an app-only access token for `client_id` with application `roles`.
    pub fn issue_app_token(
        &self,
        client_id: &str,
        roles: &[&str],
    ) -> Result<String, TenantError> {
        self.issue_token_with(&TokenSpec {
            user: None,
            client_id: client_id.to_owned(),
            scopes: Vec::new(),
            roles: roles.iter().map(|s| (*s).to_owned()).collect(),
            ..TokenSpec::delegated("", &[])
        })
    }

    /// Signs an access token from a full specification.
    pub fn issue_token_with(&self, spec: &TokenSpec) -> Result<String, TenantError> {
        let now = self.now_secs();
        let (iat, exp) = match spec.expired {
            Some(ago) => {
                let exp = now.saturating_sub(ago.as_secs());
                (exp.saturating_sub(ACCESS_TOKEN_LIFETIME.as_secs()), exp)
            }
            None => (now, now + spec.lifetime.as_secs()),
        };
        let mut claims = AccessClaims {
            aud: spec.audience.clone(),
            iss: format!("https://sts.windows.net/{}/", self.0.tenant_id),
            iat,
            nbf: iat,
            exp,
            tid: self.0.tenant_id.clone(),
            appid: spec.client_id.clone(),
            app_displayname: self.app_display_name(&spec.client_id),
            ver: "1.0".to_owned(),
            uti: uuid::Uuid::new_v4().simple().to_string(),
            ..AccessClaims::default()
        };
        match &spec.user {
            Some(user) => {
                let u = self
                    .find_user(user)
                    .ok_or_else(|| TenantError::UnknownUser(user.clone()))?;
                let text = |k: &str| u.get(k).and_then(Value::as_str).map(str::to_owned);
                claims.oid = text("id").unwrap_or_default();
                claims.sub = claims.oid.clone();
                claims.upn = text("userPrincipalName");
                claims.unique_name = claims.upn.clone();
                claims.name = text("displayName");
                claims.idtyp = "user".to_owned();
                claims.scp = Some(spec.scopes.join(" "));
                claims.wids = roles_of(&u);
            }
            None => {
                let sp = self.service_principal_of(&spec.client_id);
                claims.oid = sp.unwrap_or_else(|| spec.client_id.clone());
                claims.sub = claims.oid.clone();
                claims.idtyp = "app".to_owned();
                claims.roles = Some(spec.roles.clone());
            }
        }
        Ok(self.0.key.sign(&claims)?)
    }

    /// A user by object id or user principal name (case-insensitive).
    pub fn find_user(&self, id_or_upn: &str) -> Option<Value> {
        routes::find_user(&self.0.store, id_or_upn)
    }

    fn app_display_name(&self, app_id: &str) -> String {
        self.0.store.scan(Col::ServicePrincipals, |m| {
            m.values()
                .find(|sp| sp["appId"] == app_id)
                .and_then(|sp| sp["displayName"].as_str().map(str::to_owned))
                .unwrap_or_default()
        })
    }

    fn service_principal_of(&self, app_id: &str) -> Option<String> {
        self.0.store.scan(Col::ServicePrincipals, |m| {
            m.values()
                .find(|sp| sp["appId"] == app_id)
                .and_then(|sp| sp["id"].as_str().map(str::to_owned))
        })
    }

    /// Every object of a collection (`users`, `groups`, `teams`, `channels`,
    /// `applications`, ...), internal fields included, for tests and tools
    /// that check the emulator's state directly.
    pub fn objects(&self, collection: &str) -> Vec<Value> {
        Col::ALL
            .into_iter()
            .find(|c| c.name() == collection)
            .map(|col| self.0.store.scan(col, |m| m.values().cloned().collect()))
            .unwrap_or_default()
    }

    /// The emulator's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.0.stats.snapshot()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.0.stats.reset();
    }

    /// Replaces the fault-injection configuration at run time.
    pub fn set_chaos(&self, config: ChaosConfig) {
        self.0.chaos.replace(config);
    }

    /// The current fault-injection configuration.
    pub fn chaos(&self) -> ChaosConfig {
        self.0.chaos.config()
    }
}

pub(crate) fn roles_of(user: &Value) -> Vec<String> {
    user.get("_roles")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Creates the state directory (0700) and returns the database path.
fn prepare_state_dir(dir: &Path) -> Result<PathBuf, TenantError> {
    let err = |source| TenantError::StateDir { path: dir.display().to_string(), source };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(err)?;
    }
    Ok(dir.join("tenant.db"))
}

/// The admin secret's file in a state directory.
pub const ADMIN_SECRET_FILE: &str = "admin-secret";

/// Reads the admin secret of the tenant whose state is in `state_dir`.
pub fn read_admin_secret(state_dir: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(state_dir.join(ADMIN_SECRET_FILE))?;
    Ok(text.trim().to_owned())
}

/// 256 random bits (two v4 UUIDs' 244, in hex).
fn new_admin_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The secret in `dir`, made (0600, atomically) if it is not there yet: a
/// second process opening the same state (`graphlab tenant token`) keeps
/// the running emulator's.
fn load_or_make_admin_secret(dir: &Path) -> Result<String, TenantError> {
    let path = dir.join(ADMIN_SECRET_FILE);
    let err = |source| TenantError::StateDir { path: path.display().to_string(), source };
    match read_admin_secret(dir) {
        Ok(secret) if secret.len() >= 32 => return Ok(secret),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let secret = new_admin_secret();
    graphlab_fs::write_private(&path, format!("{secret}\n").as_bytes()).map_err(err)?;
    Ok(secret)
}

/// The database holds the signing key: owner-only.
fn restrict_file(path: &Path) -> Result<(), TenantError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| TenantError::StateDir { path: path.display().to_string(), source },
        )?;
    }
    Ok(())
}
