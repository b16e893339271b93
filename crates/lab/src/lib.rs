//! The lab's configuration and where its tenant is, for `graphlab` and the
//! lab steps alike: one place that reads `.lab/lab.toml` and resolves the
//! identity platform, Graph and the tenant from flags, environment, that
//! file and one default, and that says where each came from; and one rule
//! for choosing among the signed-in accounts.
//!
//! Precedence, as careful CLIs do it (cargo, gh): command-line flags, then
//! `GRAPHLAB_*` variables, then the lab's config, then the default — the
//! embedded tenant that `cargo xtask setup-lab` starts on
//! <http://127.0.0.1:5580>. Microsoft's own endpoints and ids live in
//! [`graphlab_auth::microsoft`].
#![deny(missing_docs)]

use std::{
    fmt, fs,
    path::{Path, PathBuf},
};

use clap::Args;
use graphlab_auth::{Account, microsoft, write_private};
use serde::{Deserialize, Serialize};

mod dir;

pub use dir::{
    CACHE_FILE, CONFIG_FILE, CONNECTOR_DIR, EXPORT_DIR, LabDir, SECRET_FILE, TENANT_DIR,
    TENANT_LOG_FILE, TENANT_PID_FILE,
};

/// The embedded tenant's address when `cargo xtask setup-lab` starts it.
pub const EMULATOR_URL: &str = "http://127.0.0.1:5580";
/// The client id of "Graph Lab Studio", the single-page application the
/// emulated tenant has registered for `graphlab studio` (`spa` redirect URIs
/// `http://127.0.0.1` and `http://localhost`, any port; the admin consented
/// its delegated permissions). It lives here, with the emulator's address,
/// because it is a fact about the lab's default target that both the
/// emulator (which seeds it) and the studio (which signs in with it, and
/// must not import the emulator) read; on a real tenant the studio uses the
/// lab's own app registration instead.
pub const STUDIO_CLIENT_ID: &str = "5a7d1c3e-9b24-4f6a-8e1d-57ad10c0ffee";
/// The port `graphlab studio` serves on by default (127.0.0.1 only).
pub const STUDIO_PORT: u16 = 5590;

/// The studio's redirect URI on `port`: its page's own origin, which a
/// single-page application registers on the `spa` platform (step 3 adds the
/// default port's to the lab's app, for a real tenant).
pub fn studio_redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

/// The tenant segment used when none is configured.
pub const DEFAULT_TENANT: &str = "organizations";

/// What can go wrong with the lab's files or its accounts.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {message}")]
    Io {
        /// `read`, `write` or `create`.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// The system's reason.
        message: String,
    },
    /// `lab.toml` does not parse.
    #[error("{path} is not a valid lab config: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with its line and column.
        message: String,
    },
    /// No account, or no single one, to use.
    #[error("{0}")]
    Account(String),
}

fn io_error(action: &'static str, path: &Path, e: &std::io::Error) -> LabError {
    // The system's reason alone ("No such file or directory"), once: the
    // `(os error N)` suffix says nothing more to a reader.
    let text = e.to_string();
    let message = match text.rfind(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    LabError::Io { action, path: path.display().to_string(), message }
}

/// `.lab/lab.toml`: what the steps found out, for the steps and `graphlab`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LabConfig {
    /// Where the tenant is.
    pub target: Option<Target>,
    /// The app registered by step 2.
    pub app: Option<AppConfig>,
}

/// Identity platform, Graph and tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Identity-platform base URL.
    pub authority: String,
    /// Graph base URL.
    pub graph: String,
    /// Tenant segment used to sign in.
    pub tenant: String,
}

/// The lab's app registration. Its secret is in [`SECRET_FILE`] (0600).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppConfig {
    /// Display name.
    pub name: String,
    /// Application (client) id.
    pub client_id: String,
    /// Object id (for `/applications/{id}`).
    pub object_id: String,
    /// Loopback port of the `http://localhost:PORT` redirect URI with which
    /// the steps play the connector's part (step 3 registers it).
    #[serde(default = "default_redirect_port")]
    pub redirect_port: u16,
}

/// The loopback port registered for the lab's own sign-in.
pub const fn default_redirect_port() -> u16 {
    5581
}

impl LabConfig {
    /// Reads `dir/lab.toml`; an absent file is an empty config.
    pub fn load(dir: &Path) -> Result<LabConfig, LabError> {
        let path = LabDir::new(dir).config();
        match fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| LabError::Invalid {
                path: path.display().to_string(),
                message: e.to_string().trim_end().replace('\n', " "),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(LabConfig::default())
            }
            Err(e) => Err(io_error("read", &path, &e)),
        }
    }

    /// Writes `dir/lab.toml` atomically, owner-only, creating `dir`
    /// owner-only if needed.
    pub fn save(&self, dir: &Path) -> Result<(), LabError> {
        create_lab_dir(dir)?;
        let path = LabDir::new(dir).config();
        let body = toml::to_string(self).map_err(|e| LabError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let text = format!(
            "# The lab's state, written by the lab steps. The client secret is in {SECRET_FILE}.\n{}\n",
            body.trim_end()
        );
        write_private(&path, text.as_bytes()).map_err(|e| io_error("write", &path, &e))
    }
}

/// Creates the lab directory (and its parents) if needed; a directory it
/// creates is readable by its owner only (0700), as `setup-lab` makes it:
/// it holds a client secret and tokens.
pub fn create_lab_dir(dir: &Path) -> Result<(), LabError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_error("create", dir, &e))
}

/// The target options `graphlab` and every step take. Each may also come
/// from the environment (`GRAPHLAB_TENANT_URL`, `GRAPHLAB_AUTHORITY_URL`,
/// `GRAPHLAB_GRAPH_URL`); flags win over variables, variables over the
/// lab's config.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// An emulator's base URL, for both sign-in and Graph
    /// [env: GRAPHLAB_TENANT_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub tenant_url: Option<String>,
    /// Identity-platform base URL (overrides --tenant-url for sign-in)
    /// [env: GRAPHLAB_AUTHORITY_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub authority_url: Option<String>,
    /// Microsoft Graph base URL (overrides --tenant-url for Graph)
    /// [env: GRAPHLAB_GRAPH_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Use Microsoft's cloud: login.microsoftonline.com and graph.microsoft.com.
    #[arg(long, global = true, conflicts_with = "tenant_url")]
    pub real: bool,
}

/// Where the target came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, such as `--tenant-url`.
    Flag(&'static str),
    /// An environment variable, such as `GRAPHLAB_TENANT_URL`.
    Env(&'static str),
    /// The lab's config file.
    LabConfig(PathBuf),
    /// Nothing said otherwise: the embedded tenant.
    Default,
}

impl Source {
    fn rank(&self) -> u8 {
        match self {
            Source::Flag(_) => 3,
            Source::Env(_) => 2,
            Source::LabConfig(_) => 1,
            Source::Default => 0,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "from {flag}"),
            Source::Env(name) => write!(f, "from {name}"),
            Source::LabConfig(path) => write!(f, "from {}", path.display()),
            Source::Default => f.write_str("the default: the lab's embedded tenant"),
        }
    }
}

/// A resolved target and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Identity platform, Graph and tenant.
    pub target: Target,
    /// The strongest source among the endpoints' (a flag over a variable
    /// over the lab's config over the default).
    pub source: Source,
}

impl Resolved {
    /// Whether any endpoint is other than Microsoft's cloud.
    pub fn is_emulated(&self) -> bool {
        self.target.authority != microsoft::PUBLIC_AUTHORITY
            || self.target.graph != microsoft::GRAPH_URL
    }

    /// One line for people: what the commands talk to, and why.
    pub fn describe(&self) -> String {
        let Target { authority, graph, tenant } = &self.target;
        let what = if !self.is_emulated() {
            format!("Microsoft's cloud ({authority}, {graph}), tenant {tenant}")
        } else if authority == graph {
            format!("emulated tenant at {graph}")
        } else {
            format!("sign-in at {authority}, Graph at {graph}")
        };
        format!("{what} ({})", self.source)
    }
}

/// The environment as a function, so that resolution can be tested.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolves the target: flags, then environment (`env`), then `config`
/// (read from `config_path`), then the embedded tenant. `tenant` is the
/// `--tenant` flag, if the command has one; else the config's tenant is used
/// when the config's identity platform is, else `organizations`.
pub fn resolve(
    args: &TargetArgs,
    tenant: Option<&str>,
    config: &LabConfig,
    config_path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Resolved {
    let saved = config.target.as_ref();
    let pick = |flag: &Option<String>,
                flag_name: &'static str,
                env_name: &'static str,
                real: &str,
                saved: Option<&str>| {
        let candidates = [
            flag.clone().map(|v| (v, Source::Flag(flag_name))),
            args.tenant_url.clone().map(|v| (v, Source::Flag("--tenant-url"))),
            args.real.then(|| (real.to_owned(), Source::Flag("--real"))),
            env(env_name).map(|v| (v, Source::Env(env_name))),
            env("GRAPHLAB_TENANT_URL").map(|v| (v, Source::Env("GRAPHLAB_TENANT_URL"))),
            saved.map(|v| (v.to_owned(), Source::LabConfig(config_path.to_path_buf()))),
        ];
        let (value, source) = candidates
            .into_iter()
            .flatten()
            .next()
            .unwrap_or_else(|| (EMULATOR_URL.to_owned(), Source::Default));
        (value.trim_end_matches('/').to_owned(), source)
    };
    let (authority, from_a) = pick(
        &args.authority_url,
        "--authority-url",
        "GRAPHLAB_AUTHORITY_URL",
        microsoft::PUBLIC_AUTHORITY,
        saved.map(|t| t.authority.as_str()),
    );
    let (graph, from_g) = pick(
        &args.graph_url,
        "--graph-url",
        "GRAPHLAB_GRAPH_URL",
        microsoft::GRAPH_URL,
        saved.map(|t| t.graph.as_str()),
    );
    let tenant = tenant
        .map(str::to_owned)
        .or_else(|| {
            saved
                .filter(|t| t.authority.trim_end_matches('/') == authority)
                .map(|t| t.tenant.clone())
        })
        .unwrap_or_else(|| DEFAULT_TENANT.to_owned());
    let source = if from_a.rank() > from_g.rank() { from_a } else { from_g };
    Resolved { target: Target { authority, graph, tenant }, source }
}

/// Chooses the account to act as: `wanted` (a user name, compared without
/// regard to case) or the only one; several, or none, is an error that says
/// what to do — never a silent choice.
pub fn choose_account(
    accounts: Vec<Account>,
    wanted: Option<&str>,
) -> Result<Account, LabError> {
    let names = |accounts: &[Account]| {
        accounts.iter().map(|a| a.username.as_str()).collect::<Vec<_>>().join(", ")
    };
    match wanted {
        Some(name) => {
            let known = names(&accounts);
            accounts
                .into_iter()
                .find(|a| a.username.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    LabError::Account(if known.is_empty() {
                        format!("no account '{name}' is signed in (none is)")
                    } else {
                        format!("no account '{name}' is signed in (signed in: {known})")
                    })
                })
        }
        None if accounts.len() > 1 => Err(LabError::Account(format!(
            "{} accounts are signed in ({}): choose one with --account",
            accounts.len(),
            names(&accounts)
        ))),
        None => accounts
            .into_iter()
            .next()
            .ok_or_else(|| LabError::Account("no account is signed in".to_owned())),
    }
}

/// A failure's causes on one line, `: `-separated, each said once: a cause
/// whose text the line already holds (a context that quoted its source) is
/// left out. When the causes show that nothing listened at the address, a
/// hint says how to start the lab's tenant.
pub fn cause_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !line.contains(text.trim()) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(text.trim());
        }
        next = cause.source();
    }
    if line.to_ascii_lowercase().contains("connection refused") {
        line.push_str(
            " (is the tenant running? `cargo xtask tenant start` starts the lab's; \
             `cargo xtask tenant status` tells)",
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    fn saved(url: &str, tenant: &str) -> LabConfig {
        LabConfig {
            target: Some(Target {
                authority: url.into(),
                graph: url.into(),
                tenant: tenant.into(),
            }),
            app: None,
        }
    }

    #[test]
    fn flags_beat_variables_beat_the_config_beats_the_default() {
        let path = Path::new(".lab/lab.toml");
        let none = LabConfig::default();
        let r = resolve(&TargetArgs::default(), None, &none, path, &env_of(&[]));
        assert_eq!(r.target.graph, EMULATOR_URL);
        assert_eq!(r.source, Source::Default);
        assert_eq!(r.target.tenant, "organizations");

        let config = saved("http://127.0.0.1:6000/", "contoso.onmicrosoft.com");
        let r = resolve(&TargetArgs::default(), None, &config, path, &env_of(&[]));
        assert_eq!(r.target.authority, "http://127.0.0.1:6000");
        assert_eq!(r.target.tenant, "contoso.onmicrosoft.com");
        assert_eq!(r.source, Source::LabConfig(path.into()));
        assert!(r.describe().contains("from .lab/lab.toml"), "{}", r.describe());

        let env = env_of(&[("GRAPHLAB_TENANT_URL", "http://127.0.0.1:7000")]);
        let r = resolve(&TargetArgs::default(), None, &config, path, &env);
        assert_eq!(r.target.graph, "http://127.0.0.1:7000");
        assert_eq!(r.source, Source::Env("GRAPHLAB_TENANT_URL"));
        assert_eq!(r.target.tenant, "organizations", "the saved tenant is another's");

        let real = TargetArgs { real: true, ..TargetArgs::default() };
        let r = resolve(&real, Some("contoso.com"), &config, path, &env);
        assert!(!r.is_emulated());
        assert_eq!(r.source, Source::Flag("--real"));
        assert_eq!(r.target.tenant, "contoso.com");

        let split = TargetArgs {
            authority_url: Some("https://login.example".into()),
            ..TargetArgs::default()
        };
        let r = resolve(&split, None, &none, path, &env);
        assert_eq!(r.target.authority, "https://login.example");
        assert_eq!(r.target.graph, "http://127.0.0.1:7000");
        assert_eq!(r.source, Source::Flag("--authority-url"));
    }

    fn account(name: &str) -> Account {
        Account {
            home_account_id: format!("{name}.tid"),
            environment: "login".into(),
            realm: "tid".into(),
            local_account_id: name.into(),
            username: name.into(),
            name: String::new(),
            authority_type: String::new(),
        }
    }

    #[test]
    fn two_accounts_are_an_error_naming_both_and_the_option() {
        let two = vec![account("a@x"), account("b@x")];
        let err = choose_account(two.clone(), None).unwrap_err().to_string();
        assert!(err.contains("a@x, b@x") && err.contains("--account"), "{err}");
        assert_eq!(choose_account(two.clone(), Some("B@X")).unwrap().username, "b@x");
        let err = choose_account(two, Some("c@x")).unwrap_err().to_string();
        assert!(err.contains("'c@x'") && err.contains("a@x"), "{err}");
        assert!(choose_account(Vec::new(), None).is_err());
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn each_cause_is_said_once_and_a_refused_connection_gets_a_hint() {
        let os = "No such file or directory (os error 2)";
        let err = Layer(
            "cannot read big.jsonl",
            Some(Box::new(Layer(os, Some(Box::new(Layer(os, None)))))),
        );
        assert_eq!(cause_line(&err), format!("cannot read big.jsonl: {os}"));
        let err = Layer(
            "cannot reach http://127.0.0.1:5580",
            Some(Box::new(Layer("Connection refused (os error 111)", None))),
        );
        assert!(cause_line(&err).contains("cargo xtask tenant start"));
    }

    #[test]
    fn a_missing_config_is_empty_and_a_broken_one_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(LabConfig::load(dir.path()).unwrap().target.is_none());
        fs::write(dir.path().join(CONFIG_FILE), "[app\nname = 1\n").unwrap();
        let err = LabConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("lab.toml is not a valid lab config"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_lab_directory_is_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lab = dir.path().join("a").join(".lab");
        saved(EMULATOR_URL, "organizations").save(&lab).unwrap();
        let mode = fs::metadata(&lab).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let read = LabConfig::load(&lab).unwrap();
        assert_eq!(read.target.unwrap().graph, EMULATOR_URL);
    }
}
