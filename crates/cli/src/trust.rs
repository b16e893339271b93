//! Which certificates `graphlab`'s HTTPS clients trust: the system's store
//! (with `SSL_CERT_FILE` and `SSL_CERT_DIR`), Mozilla's roots, `--ca-cert
//! FILE` / `GRAPHLAB_CA_CERT`, and, when the endpoints are not Microsoft's,
//! the certificate of an emulator started with `--tls` from the lab
//! directory. See `graphlab_auth::trust`; there is no switch that turns
//! verification off.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use graphlab_auth::Trust;

use crate::options::Global;

/// The trust option every subcommand shares.
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    /// A CA certificate (PEM) to trust besides the system's store,
    /// SSL_CERT_FILE and SSL_CERT_DIR (e.g. a TLS-inspecting proxy's, or an
    /// emulator's tls-cert.pem).
    #[arg(long, env = "GRAPHLAB_CA_CERT", global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// Makes the trust of this run the process's default, which the auth and
/// batch clients use.
pub fn install(global: &Global, args: &TrustArgs) -> anyhow::Result<()> {
    let mut trust = Trust::default();
    if let Some(path) = &args.ca_cert {
        trust.add_pem_file(path).context("--ca-cert (or GRAPHLAB_CA_CERT)")?;
    }
    // A lab.toml that cannot be read is reported by the command itself.
    if global.resolve(None).is_ok_and(|r| r.is_emulated()) {
        trust = trust.with_lab_emulator(&global.lab_dir);
    }
    trust.install();
    Ok(())
}

/// An HTTP client with the installed trust, which gives up on an answer
/// after [`GRAPH_TIMEOUT`](graphlab_auth::trust::GRAPH_TIMEOUT).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Trust::installed()
        .client_builder()
        .timeout(graphlab_auth::trust::GRAPH_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")
}

/// A transport error in words (with how to trust a refused certificate).
pub fn explain(error: &reqwest::Error) -> anyhow::Error {
    anyhow::anyhow!(graphlab_auth::trust::explain(error))
}
