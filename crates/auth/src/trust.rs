//! Which server certificates the workspace's HTTPS clients trust.
//!
//! Every client (this crate's, the batch client's, the CLI's and the lab
//! steps') is built from [`Trust::client_builder`]: rustls with Mozilla's
//! roots bundled in the binary, plus the platform's certificate store (as
//! rustls-native-certs reads it: when `SSL_CERT_FILE` or `SSL_CERT_DIR` is
//! set, those files replace the platform's own list, which is what OpenSSL
//! does too), plus any PEM file given with `--ca-cert FILE` or
//! `GRAPHLAB_CA_CERT` ([`CA_CERT_ENV`]), plus the certificate of an
//! emulator started with `--tls` from the lab directory
//! ([`Trust::with_lab_emulator`]). Nothing turns verification off.
//!
//! [`Trust::install`] makes a trust the process's default, which
//! [`crate::AuthClient::new`] and the batch client use.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use crate::AuthError;

/// The environment variable naming an extra CA certificate (PEM) to trust.
pub const CA_CERT_ENV: &str = "GRAPHLAB_CA_CERT";

/// The certificate an emulator started with `--tls` keeps in its state
/// directory (`<lab-dir>/tenant/tls-cert.pem` for the lab's emulator).
pub const EMULATOR_CERT: &str = "tls-cert.pem";

/// How long a Graph call (a `$batch` call, `graphlab graph`'s request) may
/// take, from sending to the end of the answer, before the client gives up.
pub const GRAPH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(100);

/// Certificates trusted beyond the platform's store.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    extra: Vec<Extra>,
}

#[derive(Debug, Clone)]
struct Extra {
    path: PathBuf,
    certs: Vec<reqwest::Certificate>,
}

static INSTALLED: RwLock<Option<Arc<Trust>>> = RwLock::new(None);

impl Trust {
    /// The platform's store (and `SSL_CERT_FILE` / `SSL_CERT_DIR`), plus the
    /// file named by `GRAPHLAB_CA_CERT` if it is set.
    pub fn from_env() -> Result<Trust, AuthError> {
        let mut trust = Trust::default();
        if let Some(path) = std::env::var_os(CA_CERT_ENV).filter(|p| !p.is_empty()) {
            trust.add_pem_file(Path::new(&path))?;
        }
        Ok(trust)
    }

    /// Trusts every certificate of the PEM file at `path` as a root.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), AuthError> {
        let bad = |message: String| {
            AuthError::Config(format!(
                "cannot use the CA certificate {}: {message}",
                path.display()
            ))
        };
        if self.extra.iter().any(|e| e.path == path) {
            return Ok(());
        }
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| bad("it is not a PEM certificate".into()))?;
        if certs.is_empty() {
            return Err(bad("it holds no PEM certificate".into()));
        }
        self.extra.push(Extra { path: path.to_owned(), certs });
        Ok(())
    }

    /// Also trusts the certificate of an emulator started with `--tls` from
    /// `lab_dir`, when there is one (`<lab_dir>/tenant/tls-cert.pem`).
    pub fn with_lab_emulator(mut self, lab_dir: &Path) -> Trust {
        let path = lab_dir.join("tenant").join(EMULATOR_CERT);
        if path.is_file() && self.add_pem_file(&path).is_err() {
            tracing::warn!(path = %path.display(), "the emulator's certificate is unreadable");
        }
        self
    }

    /// The extra files trusted, in the order given.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.extra.iter().map(|e| e.path.as_path())
    }

    /// A reqwest client builder that trusts this (verification always on).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let mut builder =
            reqwest::Client::builder().use_rustls_tls().tls_built_in_root_certs(true);
        for extra in &self.extra {
            for cert in &extra.certs {
                builder = builder.add_root_certificate(cert.clone());
            }
        }
        builder
    }

    /// Makes this the process's default trust ([`Trust::installed`]).
    pub fn install(self) {
        let mut slot = INSTALLED.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(Arc::new(self));
    }

    /// The process's default trust: what [`Trust::install`] set, else
    /// [`Trust::from_env`] (an unusable `GRAPHLAB_CA_CERT` is then logged
    /// and left out; a program that wants the error calls `from_env`).
    pub fn installed() -> Arc<Trust> {
        if let Some(trust) = INSTALLED.read().unwrap_or_else(|e| e.into_inner()).clone() {
            return trust;
        }
        Arc::new(Trust::from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "{CA_CERT_ENV} left out");
            Trust::default()
        }))
    }
}

/// The error's causes, outermost first, without repeats.
fn causes(error: &reqwest::Error) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = e.source();
    }
    causes
}

/// Whether the server's certificate was refused (not a transient failure:
/// trying again will not help).
pub fn is_untrusted(error: &reqwest::Error) -> bool {
    causes(error).iter().any(|c| {
        c.contains("invalid peer certificate") || c.contains("certificate verify failed")
    })
}

/// A transport error in words, without the URL: when the server's
/// certificate was refused, says so and how to trust it (reqwest's own text
/// is "error sending request"); otherwise the error and its causes.
pub fn explain(error: &reqwest::Error) -> String {
    let mut chain = causes(error);
    let top = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_request() {
        "error sending request"
    } else {
        "transport error"
    };
    chain.insert(0, top.to_owned());
    let chain = chain.join(": ");
    if is_untrusted(error) {
        format!(
            "the server's TLS certificate is not trusted ({chain}). To trust it, pass \
             --ca-cert FILE or set {CA_CERT_ENV}=FILE with its PEM certificate, or add it \
             to SSL_CERT_FILE or the system's certificate store; for the lab's emulator \
             started with --tls, FILE is <lab-dir>/tenant/{EMULATOR_CERT}"
        )
    } else {
        chain
    }
}
