//! A token cache modelled on MSAL's: accounts, access tokens keyed by
//! account, environment, client id, realm and scopes, refresh tokens and ID
//! tokens, in MSAL's JSON layout.
//!
//! Persisted to one file, readable only by its owner (0600), written
//! atomically (temporary file, fsync, rename), and guarded by a cross-process
//! lock (`<file>.lock`) held for a whole read-modify-write — including a
//! refresh, so that two processes never redeem the same rotated refresh token.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{self, File, OpenOptions},
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use crate::{AuthError, Secret};

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// `{oid}.{tid}`.
    pub home_account_id: String,
    /// The authority host (`login.microsoftonline.com`, or the emulator's).
    pub environment: String,
    /// The tenant id.
    pub realm: String,
    /// The user's object id.
    pub local_account_id: String,
    /// The user principal name.
    pub username: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// `MSSTS`, as MSAL writes it.
    #[serde(default)]
    pub authority_type: String,
}

/// A cached token (access, refresh or ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The account's `home_account_id` (empty for app-only tokens).
    pub home_account_id: String,
    /// The authority host.
    pub environment: String,
    /// `AccessToken`, `RefreshToken` or `IdToken`.
    pub credential_type: String,
    /// The client application id.
    pub client_id: String,
    /// The token itself.
    pub secret: Secret,
    /// The tenant id (empty for refresh tokens).
    #[serde(default)]
    pub realm: String,
    /// Granted scopes, lower case, space separated (access tokens).
    #[serde(default)]
    pub target: String,
    /// When it was cached (seconds since the epoch).
    #[serde(default)]
    pub cached_at: String,
    /// When it expires (seconds since the epoch).
    #[serde(default)]
    pub expires_on: String,
}

impl Credential {
    /// Expiry in seconds since the epoch (0 when unknown).
    pub fn expires_at(&self) -> u64 {
        self.expires_on.parse().unwrap_or(0)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> BTreeSet<String> {
        self.target.split_whitespace().map(str::to_lowercase).collect()
    }
}

/// What an access token must match to be served from the cache.
#[derive(Debug, Clone, Copy)]
pub struct TokenQuery<'a> {
    /// The account's `home_account_id`.
    pub home_account_id: &'a str,
    /// The authority host.
    pub environment: &'a str,
    /// The client id.
    pub client_id: &'a str,
    /// The tenant id (empty: any).
    pub realm: &'a str,
    /// Scopes the token must include (lower case).
    pub scopes: &'a BTreeSet<String>,
}

/// Everything the cache holds, in MSAL's layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheData {
    /// Accounts by key.
    #[serde(rename = "Account", default)]
    pub accounts: BTreeMap<String, Account>,
    /// Access tokens by key.
    #[serde(rename = "AccessToken", default)]
    pub access_tokens: BTreeMap<String, Credential>,
    /// Refresh tokens by key.
    #[serde(rename = "RefreshToken", default)]
    pub refresh_tokens: BTreeMap<String, Credential>,
    /// ID tokens by key.
    #[serde(rename = "IdToken", default)]
    pub id_tokens: BTreeMap<String, Credential>,
}

/// `{home_account_id}-{environment}-{realm}`, lower case.
pub fn account_key(a: &Account) -> String {
    format!("{}-{}-{}", a.home_account_id, a.environment, a.realm).to_lowercase()
}

/// `{home}-{env}-{type}-{client}-{realm}-{target}`, lower case, as MSAL.
pub fn credential_key(c: &Credential) -> String {
    format!(
        "{}-{}-{}-{}-{}-{}",
        c.home_account_id,
        c.environment,
        c.credential_type,
        c.client_id,
        c.realm,
        c.target
    )
    .to_lowercase()
}

impl CacheData {
    /// Stores an account.
    pub fn put_account(&mut self, account: Account) {
        self.accounts.insert(account_key(&account), account);
    }

    /// Stores a credential, replacing the one with the same key. A new access
    /// token also replaces older ones of the same account, client and realm
    /// whose scopes overlap (as MSAL does).
    pub fn put_credential(&mut self, credential: Credential) {
        let key = credential_key(&credential);
        match credential.credential_type.as_str() {
            "AccessToken" => {
                let scopes = credential.scopes();
                self.access_tokens.retain(|_, old| {
                    !(old.home_account_id == credential.home_account_id
                        && old.environment == credential.environment
                        && old.client_id == credential.client_id
                        && old.realm == credential.realm
                        && !old.scopes().is_disjoint(&scopes))
                });
                self.access_tokens.insert(key, credential);
            }
            "RefreshToken" => {
                self.refresh_tokens.insert(key, credential);
            }
            _ => {
                self.id_tokens.insert(key, credential);
            }
        }
    }

    /// Removes an account and every token of it.
    pub fn remove_account(&mut self, home_account_id: &str, environment: &str) -> bool {
        let before = self.accounts.len();
        let keep = |c: &Credential| {
            !(c.home_account_id == home_account_id && c.environment == environment)
        };
        self.accounts.retain(|_, a| {
            !(a.home_account_id == home_account_id && a.environment == environment)
        });
        self.access_tokens.retain(|_, c| keep(c));
        self.refresh_tokens.retain(|_, c| keep(c));
        self.id_tokens.retain(|_, c| keep(c));
        self.accounts.len() != before
    }

    /// Signs one client out of an account: removes the tokens `client_id`
    /// holds for it, and the account itself once no other client holds any
    /// (another app's connection to the same account stays). Returns whether
    /// anything was removed.
    pub fn sign_out_client(
        &mut self,
        home_account_id: &str,
        environment: &str,
        client_id: &str,
    ) -> bool {
        let ours = |c: &Credential| {
            c.home_account_id == home_account_id
                && c.environment == environment
                && c.client_id == client_id
        };
        let before =
            self.access_tokens.len() + self.refresh_tokens.len() + self.id_tokens.len();
        self.access_tokens.retain(|_, c| !ours(c));
        self.refresh_tokens.retain(|_, c| !ours(c));
        self.id_tokens.retain(|_, c| !ours(c));
        let after =
            self.access_tokens.len() + self.refresh_tokens.len() + self.id_tokens.len();
        let others = self
            .access_tokens
            .values()
            .chain(self.refresh_tokens.values())
            .chain(self.id_tokens.values())
            .any(|c| {
                c.home_account_id == home_account_id && c.environment == environment
            });
        let accounts = self.accounts.len();
        if !others {
            self.accounts.retain(|_, a| {
                !(a.home_account_id == home_account_id && a.environment == environment)
            });
        }
        after != before || self.accounts.len() != accounts
    }

    /// Whether `client_id` holds a token of the account.
    pub fn client_holds(
        &self,
        home_account_id: &str,
        environment: &str,
        client_id: &str,
    ) -> bool {
        self.access_tokens.values().chain(self.refresh_tokens.values()).any(|c| {
            c.home_account_id == home_account_id
                && c.environment == environment
                && c.client_id == client_id
        })
    }

    /// An access token matching `query` that is still valid at `valid_until`
    /// (seconds since the epoch).
    pub fn find_access_token(
        &self,
        query: &TokenQuery<'_>,
        valid_until: u64,
    ) -> Option<&Credential> {
        self.access_tokens.values().find(|c| {
            c.home_account_id == query.home_account_id
                && c.environment == query.environment
                && c.client_id == query.client_id
                && (query.realm.is_empty() || c.realm.eq_ignore_ascii_case(query.realm))
                && query.scopes.is_subset(&c.scopes())
                && c.expires_at() > valid_until
        })
    }

    /// The refresh token for the account and client.
    pub fn find_refresh_token(
        &self,
        home_account_id: &str,
        environment: &str,
        client_id: &str,
    ) -> Option<&Credential> {
        self.refresh_tokens.values().find(|c| {
            c.home_account_id == home_account_id
                && c.environment == environment
                && c.client_id == client_id
        })
    }
}

/// Where the cache lives: a file, or memory only.
#[derive(Debug, Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: Option<PathBuf>,
    memory: tokio::sync::Mutex<CacheData>,
}

/// Exclusive access to the cache for one read-modify-write.
#[derive(Debug)]
pub struct CacheGuard<'a> {
    cache: &'a TokenCache,
    memory: tokio::sync::MutexGuard<'a, CacheData>,
    _lock: Option<File>,
    /// The data, as loaded; change it, then [`CacheGuard::save`].
    pub data: CacheData,
}

impl TokenCache {
    /// A cache kept in memory only.
    pub fn in_memory() -> TokenCache {
        TokenCache { inner: Arc::new(Inner { path: None, memory: Default::default() }) }
    }

    /// A cache persisted to `path` (created on first save).
    pub fn file(path: impl Into<PathBuf>) -> TokenCache {
        TokenCache {
            inner: Arc::new(Inner {
                path: Some(path.into()),
                memory: Default::default(),
            }),
        }
    }

    /// The file, if persisted.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Takes the in-process and cross-process locks and loads the data.
    pub async fn lock(&self) -> Result<CacheGuard<'_>, AuthError> {
        let memory = self.inner.memory.lock().await;
        let Some(path) = self.inner.path.clone() else {
            let data = memory.clone();
            return Ok(CacheGuard { cache: self, memory, _lock: None, data });
        };
        let lock = tokio::task::spawn_blocking(move || lock_file(&path)).await.map_err(
            |e| AuthError::Cache { path: String::new(), message: e.to_string() },
        )??;
        let data = load(self.inner.path.as_deref().unwrap_or(Path::new("")))?;
        Ok(CacheGuard { cache: self, memory, _lock: Some(lock), data })
    }

    /// Reads the data (under the lock, released at once).
    pub async fn read(&self) -> Result<CacheData, AuthError> {
        Ok(self.lock().await?.data)
    }
}

impl CacheGuard<'_> {
    /// Writes the data back (atomically, 0600) and keeps holding the lock.
    pub fn save(&mut self) -> Result<(), AuthError> {
        if let Some(path) = &self.cache.inner.path {
            store(path, &self.data)?;
        }
        *self.memory = self.data.clone();
        Ok(())
    }
}

fn cache_err(path: &Path, message: impl std::fmt::Display) -> AuthError {
    AuthError::Cache { path: path.display().to_string(), message: message.to_string() }
}

fn lock_file(path: &Path) -> Result<File, AuthError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        // A directory made for tokens is its owner's only (0700).
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(|e| cache_err(dir, e))?;
    }
    let lock_path = path.with_extension("lock");
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&lock_path).map_err(|e| cache_err(&lock_path, e))?;
    file.lock().map_err(|e| cache_err(&lock_path, e))?;
    Ok(file)
}

fn load(path: &Path) -> Result<CacheData, AuthError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(CacheData::default());
        }
        Err(e) => return Err(cache_err(path, e)),
    };
    if text.trim().is_empty() {
        return Ok(CacheData::default());
    }
    serde_json::from_str(&text).map_err(|e| {
        cache_err(
            path,
            format!(
                "the token cache is corrupted at line {}, column {} ({}); delete the file and sign in again",
                e.line(),
                e.column(),
                e.classify_name()
            ),
        )
    })
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "unexpected content",
            serde_json::error::Category::Eof => "the file ends too early",
        }
    }
}

/// Writes atomically, 0600 (see [`crate::write_private`]).
fn store(path: &Path, data: &CacheData) -> Result<(), AuthError> {
    let text = serde_json::to_vec_pretty(data).map_err(|e| cache_err(path, e))?;
    crate::write_private(path, &text).map_err(|e| cache_err(path, e))
}
