//! HTTPS for the emulator (`graphlab tenant serve --tls`).
//!
//! MSAL and other Microsoft client libraries refuse an authority that is not
//! https. The emulator makes a self-signed certificate for `localhost`,
//! `127.0.0.1` and `::1` on first start, keeps it in the state directory
//! (`tls-cert.pem`, and the key in `tls-key.pem`, owner-only) and serves TLS
//! with rustls. Clients trust `tls-cert.pem`. A classroom server adds the
//! names trainees reach it by (`--tls-name`), recorded in `tls-names`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use tokio::{net::TcpListener, sync::oneshot};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
};

use graphlab_fs::Access;

use crate::{RunningTenant, Tenant, app};

/// Errors preparing TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing the certificate files failed.
    #[error("TLS certificate {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Generating or loading the certificate failed.
    #[error("TLS certificate: {0}")]
    Certificate(String),
}

/// The certificate and key files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate clients must trust (PEM).
    pub cert: PathBuf,
    /// The private key (PEM, mode 0600).
    pub key: PathBuf,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.display().to_string(), source }
}

/// Writes `bytes` to `path` atomically, readable by `access`.
fn write_atomically(path: &Path, bytes: &[u8], access: Access) -> Result<(), TlsError> {
    graphlab_fs::write_atomically(path, bytes, access).map_err(io_err(path))
}

/// Makes the certificate in `dir` unless it is already there.
pub fn ensure_certificate(dir: &Path) -> Result<TlsFiles, TlsError> {
    ensure_certificate_for(dir, &[])
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens.
fn is_host_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The names every certificate is valid for.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Makes the certificate in `dir`, valid for loopback and for `extra`
/// names (host names or IP addresses a classroom's trainees use), unless
/// the one there already has exactly these names (`tls-names` beside it
/// records them; a certificate without it has the loopback names only).
pub fn ensure_certificate_for(
    dir: &Path,
    extra: &[String],
) -> Result<TlsFiles, TlsError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let files = TlsFiles { cert: dir.join("tls-cert.pem"), key: dir.join("tls-key.pem") };
    let mut names: Vec<String> = LOCAL_NAMES.iter().map(|n| (*n).to_owned()).collect();
    for name in extra {
        let name = name.trim().to_ascii_lowercase();
        if !is_host_name(&name) && name.parse::<std::net::IpAddr>().is_err() {
            return Err(TlsError::Certificate(format!(
                "'{name}' is neither a host name nor an IP address"
            )));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let record = dir.join("tls-names");
    let recorded = match std::fs::read_to_string(&record) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => LOCAL_NAMES.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
    };
    if files.cert.exists() && files.key.exists() && recorded == names {
        return Ok(files);
    }
    let generated = rcgen::generate_simple_self_signed(names.clone()).map_err(|e| {
        TlsError::Certificate(format!("for the names {}: {e}", names.join(", ")))
    })?;
    write_atomically(
        &files.key,
        generated.signing_key.serialize_pem().as_bytes(),
        Access::Private,
    )?;
    write_atomically(&files.cert, generated.cert.pem().as_bytes(), Access::Shared)?;
    write_atomically(
        &record,
        format!("{}\n", names.join("\n")).as_bytes(),
        Access::Shared,
    )?;
    Ok(files)
}

fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificate(format!("{}: {e}", files.cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| TlsError::Certificate(format!("{}: {e}", files.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Certificate(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The host of the base URL: the first extra name, else `localhost`.
fn url_host(names: &[String]) -> String {
    match names.iter().map(|n| n.trim()).find(|n| !n.is_empty()) {
        Some(n) if n.parse::<std::net::Ipv6Addr>().is_ok() => format!("[{n}]"),
        Some(n) => n.to_ascii_lowercase(),
        None => "localhost".to_owned(),
    }
}

/// Serves the tenant over HTTPS with the certificate in `cert_dir`.
pub async fn serve_tls(
    tenant: Tenant,
    addr: SocketAddr,
    cert_dir: &Path,
) -> Result<(RunningTenant, TlsFiles), std::io::Error> {
    serve_tls_for(tenant, addr, cert_dir, &[]).await
}

/// [`serve_tls`] with a certificate also valid for `names` (see
/// [`ensure_certificate_for`]); the base URL names the first of them.
pub async fn serve_tls_for(
    tenant: Tenant,
    addr: SocketAddr,
    cert_dir: &Path,
    names: &[String],
) -> Result<(RunningTenant, TlsFiles), std::io::Error> {
    let files = ensure_certificate_for(cert_dir, names).map_err(std::io::Error::other)?;
    let config = server_config(&files).map_err(std::io::Error::other)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    tenant.0.tls.store(true, std::sync::atomic::Ordering::Relaxed);
    let timeouts = tenant.0.timeouts;
    let router = app(tenant);
    let (tx, rx) = oneshot::channel::<()>();
    let task =
        crate::server::spawn_server(listener, router, Some(acceptor), timeouts, rx);
    Ok((
        RunningTenant::new(
            format!("https://{}:{}", url_host(names), local_addr.port()),
            local_addr,
            tx,
            task,
        ),
        files,
    ))
}
