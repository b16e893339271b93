//! `graphlab tenant ...`: serve the emulator, check it, mint test tokens.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use graphlab_tenant::{ChaosConfig, Tenant, TenantConfig, TokenSpec, seed};

use crate::options::Global;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Start the emulated tenant (Microsoft Graph under /v1.0 and /beta).
    Serve(ServeArgs),
    /// Ask a running emulator for its health.
    Status,
    /// Print an access token signed by the emulator's key (a testing aid).
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback needs --allow-remote and
    /// --tls, and refuses --unattended.
    #[arg(long, default_value = "127.0.0.1:5580")]
    addr: SocketAddr,
    /// Accept a non-loopback --addr (a classroom server): trainees on the
    /// network can then reach the tenant, over TLS only.
    #[arg(long)]
    allow_remote: bool,
    /// Loopback port to listen on: `--addr 127.0.0.1:PORT`, as `cargo xtask
    /// tenant start --port` takes it.
    #[arg(long, conflicts_with = "addr")]
    port: Option<u16>,
    /// State directory (default: <lab-dir>/tenant).
    #[arg(long, conflicts_with = "in_memory", value_name = "DIR")]
    state: Option<PathBuf>,
    /// Keep state in memory only (lost on exit).
    #[arg(long)]
    in_memory: bool,
    /// Fault-injection configuration (JSON; see the emulator reference).
    #[arg(long, value_name = "FILE")]
    chaos: Option<PathBuf>,
    /// Seconds before a new group can get a team (Graph's replication delay).
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    replication_delay: f64,
    /// Testing aid: USER (default: the admin) signs in and consents with no
    /// page; device codes are approved at their first poll.
    #[arg(long, value_name = "USER", num_args = 0..=1, default_missing_value = seed::ADMIN_UPN)]
    unattended: Option<String>,
    /// Serve HTTPS with a self-signed certificate for localhost (kept in the
    /// state directory; its path is printed at start-up).
    #[arg(long)]
    tls: bool,
    /// With --tls: also make the certificate valid for NAME, a host name or
    /// an IP address trainees reach a classroom server by (repeatable).
    #[arg(long, value_name = "NAME", requires = "tls")]
    tls_name: Vec<String>,
    /// Seconds device-code clients must wait between polls.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    device_poll_interval: u64,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// State directory of the emulator (default: <lab-dir>/tenant).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// The signed-in user (UPN or id).
    #[arg(long, default_value = seed::ADMIN_UPN)]
    user: String,
    /// Delegated scopes to put in `scp`.
    #[arg(long, num_args = 1.., default_values_t = ["User.Read".to_owned()])]
    scopes: Vec<String>,
    /// Issue an app-only token for this client id (with --roles) instead.
    #[arg(long, value_name = "CLIENT_ID")]
    app: Option<String>,
    /// Application roles for an app-only token.
    #[arg(long, num_args = 1..)]
    roles: Vec<String>,
}

pub async fn run(global: &Global, command: TenantCommand) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Serve(args) => serve(global, args).await,
        TenantCommand::Status => status(global).await,
        TenantCommand::Token(args) => token(global, args),
    }
}

fn read_chaos(path: &Path) -> anyhow::Result<ChaosConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read chaos file {}", path.display()))?;
    ChaosConfig::from_json(&text)
        .with_context(|| format!("chaos file {}", path.display()))
}

async fn serve(global: &Global, mut args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(port) = args.port {
        args.addr = SocketAddr::from(([127, 0, 0, 1], port));
    }
    if !(0.0..=3600.0).contains(&args.replication_delay) {
        bail!("--replication-delay must be between 0 and 3600 seconds");
    }
    check_exposure(&args)?;
    let mut config = if args.in_memory {
        TenantConfig::in_memory()
    } else {
        TenantConfig::persistent(
            args.state.unwrap_or_else(|| global.lab().tenant_state()),
        )
    };
    config.replication_delay = Duration::from_secs_f64(args.replication_delay);
    if let Some(path) = &args.chaos {
        config.chaos = read_chaos(path)?;
    }
    if let Some(user) = &args.unattended {
        config = config.unattended(user.clone());
    }
    config = config.device_poll_interval(args.device_poll_interval);
    let tenant = Tenant::open(&config).context("cannot open the tenant state")?;
    if let Some(user) = &config.unattended {
        if tenant.find_user(user).is_none() {
            bail!("--unattended {user}: no such user in the tenant");
        }
        eprintln!(
            "graphlab: unattended mode: {user} signs in and consents without a page"
        );
    }
    // Signal handlers go in before the URL is announced: a client that reads
    // the announcement and at once sends SIGTERM must get a clean stop.
    let signals = Signals::install()?;
    let mut running = if args.tls {
        let cert_dir = match &config.state_dir {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir()
                .join(format!("graphlab-tenant-tls-{}", std::process::id())),
        };
        let (running, files) =
            graphlab_tenant::serve_tls_for(tenant, args.addr, &cert_dir, &args.tls_name)
                .await
                .with_context(|| format!("cannot serve HTTPS on {}", args.addr))?;
        eprintln!(
            "graphlab: TLS certificate: {} (trust it in your client)",
            files.cert.display()
        );
        running
    } else {
        graphlab_tenant::serve(tenant, args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?
    };
    // The announcement is the only line on stdout (callers read it and may
    // close the pipe); everything else goes to stderr.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "graphlab tenant listening on {}", running.base_url());
        let _ = out.flush();
    }
    match &config.state_dir {
        Some(dir) => eprintln!(
            "graphlab: state in {} (admin routes: bearer secret in {})",
            dir.display(),
            dir.join(graphlab_tenant::ADMIN_SECRET_FILE).display()
        ),
        None => eprintln!("graphlab: state in memory (admin routes closed)"),
    }
    let stop = running.take_shutdown();
    tokio::spawn(async move {
        signals.wait().await;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    });
    running.wait().await.context("the server failed")?;
    eprintln!("graphlab: tenant stopped");
    Ok(ExitCode::SUCCESS)
}

/// The rules for listening beyond loopback: asked for explicitly, over TLS,
/// and never with unattended sign-in.
fn check_exposure(args: &ServeArgs) -> anyhow::Result<()> {
    if args.addr.ip().is_loopback() {
        return Ok(());
    }
    let addr = args.addr;
    if !args.allow_remote {
        bail!(
            "refusing to listen on {addr}: it is not a loopback address, so anyone who can \
             reach this machine could use the emulated tenant. Use 127.0.0.1 for yourself; \
             to serve a classroom, pass --allow-remote --tls (see \"Classroom server\" in \
             the emulator reference)"
        );
    }
    if !args.tls {
        bail!(
            "refusing to listen on {addr} without --tls: trainees' tokens, codes and \
             secrets would cross the network in clear text. Add --tls"
        );
    }
    if args.unattended.is_some() {
        bail!(
            "refusing --unattended on {addr}: unattended sign-in hands the user's tokens to \
             anyone who asks, without a credential. Leave --unattended out when serving \
             beyond loopback"
        );
    }
    eprintln!(
        "graphlab: listening on {addr}, beyond loopback (--allow-remote): trainees sign in \
         on the account picker; the admin routes need {}",
        graphlab_tenant::ADMIN_SECRET_FILE
    );
    Ok(())
}

/// SIGINT and SIGTERM, registered eagerly.
struct Signals {
    #[cfg(unix)]
    streams: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
            let term =
                signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
            Ok(Signals { streams: (int, term) })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let (mut int, mut term) = self.streams;
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn status(global: &Global) -> anyhow::Result<ExitCode> {
    let resolved = global.resolve(None)?;
    let url = &resolved.target.graph;
    let health = format!("{url}/_graphlab/health");
    let answer = crate::trust::client()?
        .get(&health)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| crate::trust::explain(&e))
        .with_context(|| format!("no tenant answers at {url} ({})", resolved.source))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    if !status.is_success() || body["status"] != "ok" {
        bail!("{health} answered {status}: {body}");
    }
    println!("tenant {} at {url}: ok", body["tenantId"].as_str().unwrap_or("?"));
    Ok(ExitCode::SUCCESS)
}

fn token(global: &Global, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let dir = args.state.unwrap_or_else(|| global.lab().tenant_state());
    if !dir.join("tenant.db").exists() {
        bail!(
            "no emulator state in {} (start it once with `graphlab tenant serve`)",
            dir.display()
        );
    }
    let tenant = Tenant::open(&TenantConfig::persistent(&dir))
        .context("cannot open the tenant state")?;
    let token = match &args.app {
        Some(client) => {
            let roles: Vec<&str> = args.roles.iter().map(String::as_str).collect();
            tenant.issue_app_token(client, &roles)?
        }
        None => {
            let scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
            tenant.issue_token_with(&TokenSpec::delegated(&args.user, &scopes))?
        }
    };
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
