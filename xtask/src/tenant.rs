//! The background emulated tenant: start (or reuse), stop, status.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::root;

/// Where the lab lives and where the tenant listens.
#[derive(Debug, Clone, Args)]
pub struct TenantOptions {
    /// The lab directory (config, caches, emulator state).
    #[arg(long, env = "GRAPHLAB_LAB_DIR", default_value = ".lab")]
    lab_dir: PathBuf,
    /// Loopback port for the embedded tenant.
    #[arg(long, default_value_t = 5580)]
    port: u16,
}

impl TenantOptions {
    /// The lab directory, relative to the workspace root unless absolute.
    pub fn lab_dir(&self) -> PathBuf {
        if self.lab_dir.is_absolute() {
            self.lab_dir.clone()
        } else {
            root().join(&self.lab_dir)
        }
    }

    /// The tenant's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The tenant's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid_file(&self) -> PathBuf {
        self.lab_dir().join("tenant.pid")
    }

    fn log_file(&self) -> PathBuf {
        self.lab_dir().join("tenant.log")
    }
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Start the tenant in the background (reuses a healthy one).
    Start(TenantOptions),
    /// Stop the background tenant.
    Stop(TenantOptions),
    /// Report whether the tenant answers.
    Status(TenantOptions),
}

pub fn run(action: Action) -> anyhow::Result<()> {
    match action {
        Action::Start(o) => start(&o).map(|line| println!("{line}")),
        Action::Stop(o) => stop(&o).map(|line| println!("{line}")),
        Action::Status(o) => health_line(&o).map(|line| println!("{line}")),
    }
}

/// Creates the lab directory, owner-only (it will hold secrets).
pub fn ensure_lab_dir(dir: &Path) -> anyhow::Result<String> {
    let existed = dir.is_dir();
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    Ok(format!("{} ({})", dir.display(), if existed { "kept" } else { "created" }))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
}

/// Asks `/_graphlab/health`; `Ok(Some(tenant id))` when healthy.
pub fn probe(url: &str) -> anyhow::Result<Option<String>> {
    let health = format!("{url}/_graphlab/health");
    runtime()?.block_on(async {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let Ok(answer) = client.get(&health).send().await else { return Ok(None) };
        if !answer.status().is_success() {
            return Ok(None);
        }
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        Ok((body["status"] == "ok")
            .then(|| body["tenantId"].as_str().unwrap_or("?").to_owned()))
    })
}

/// The admin routes' bearer secret, which the tenant writes (0600) into its
/// state directory, `<lab-dir>/tenant/admin-secret`.
fn admin_secret(options: &TenantOptions) -> anyhow::Result<String> {
    let path = options.lab_dir().join("tenant").join("admin-secret");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("cannot read the admin secret {}", path.display()))?;
    Ok(text.trim().to_owned())
}

/// `GET /_graphlab/stats` with the admin secret: "N requests, M $batch calls".
fn stats(options: &TenantOptions) -> anyhow::Result<String> {
    let secret = admin_secret(options)?;
    let url = format!("{}/_graphlab/stats", options.url());
    runtime()?.block_on(async {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let answer = client.get(&url).bearer_auth(&secret).send().await?;
        if !answer.status().is_success() {
            bail!("{url} answered {}", answer.status());
        }
        let body: serde_json::Value = answer.json().await?;
        Ok(format!(
            "{} requests, {} $batch calls",
            body["requests"].as_u64().unwrap_or(0),
            body["batchCalls"].as_u64().unwrap_or(0)
        ))
    })
}

pub fn health_line(options: &TenantOptions) -> anyhow::Result<String> {
    match probe(&options.url())? {
        Some(tid) => Ok(match stats(options) {
            Ok(counts) => format!("ok: tenant {tid} at {} ({counts})", options.url()),
            Err(e) => {
                format!("ok: tenant {tid} at {} (no counters: {e:#})", options.url())
            }
        }),
        None => bail!(
            "no healthy tenant at {} (start it with `cargo xtask tenant start`)",
            options.url()
        ),
    }
}

/// Builds the debug `graphlab` binary.
pub fn build_graphlab() -> anyhow::Result<()> {
    crate::run_command(crate::cargo_command().args([
        "build",
        "--quiet",
        "-p",
        "graphlab-cli",
    ]))
}

pub fn binary() -> PathBuf {
    crate::cargo_target_dir()
        .join("debug")
        .join(format!("graphlab{}", std::env::consts::EXE_SUFFIX))
}

/// Starts the tenant in the background, or reports the healthy one already there.
pub fn start(options: &TenantOptions) -> anyhow::Result<String> {
    let url = options.url();
    if probe(&url)?.is_some() {
        return Ok(format!("already running at {url} (reused)"));
    }
    ensure_lab_dir(&options.lab_dir())?;
    if !binary().exists() {
        build_graphlab()?;
    }
    let log = fs::File::create(options.log_file())
        .with_context(|| format!("cannot create {}", options.log_file().display()))?;
    let mut command = Command::new(binary());
    command
        .args(["--lab-dir"])
        .arg(options.lab_dir())
        .args(["tenant", "serve", "--addr", &format!("127.0.0.1:{}", options.port)])
        // The lab's admin signs in with no page to click through, and device
        // codes are approved at the first poll, a second after they are issued.
        .args(["--unattended", "--device-poll-interval", "1"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0); // not killed by the terminal's Ctrl-C
    }
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {}", binary().display()))?;
    let pid = child.id();
    write_atomically(&options.pid_file(), &format!("{pid}\n"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if probe(&url)?.is_some() {
            return Ok(format!(
                "started at {url} (pid {pid}, log {})",
                options.log_file().display()
            ));
        }
        if !process_alive(pid) {
            let log = fs::read_to_string(options.log_file()).unwrap_or_default();
            let last = log.lines().last().unwrap_or("no output");
            bail!("the tenant exited at start-up: {last}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!(
        "the tenant did not answer at {url} within 20 s; see {}",
        options.log_file().display()
    )
}

fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.contains(") Z "))
}

/// Stops the background tenant named by the pid file.
pub fn stop(options: &TenantOptions) -> anyhow::Result<String> {
    let pid_file = options.pid_file();
    let Ok(text) = fs::read_to_string(&pid_file) else {
        return Ok("not running (no pid file)".to_owned());
    };
    let pid: u32 = text
        .trim()
        .parse()
        .with_context(|| format!("{} is not a pid", pid_file.display()))?;
    if process_alive(pid) {
        let ok =
            Command::new("kill").args(["-TERM", &pid.to_string()]).status()?.success();
        if !ok {
            bail!("cannot signal pid {pid}");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while process_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fs::remove_file(&pid_file).ok();
    Ok(format!("stopped (pid {pid})"))
}

/// Starts an unattended HTTPS emulator on a free port and runs
/// `xtask/checks/msal_check.py` against it.
pub fn msal_check() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    build_graphlab()?;
    let state = root().join("target").join("msal-check");
    let _ = fs::remove_dir_all(&state);
    let mut child = Command::new(binary())
        .args([
            "tenant",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls",
            "--unattended",
            "--device-poll-interval",
            "1",
        ])
        .arg("--state")
        .arg(&state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start graphlab")?;
    let mut first = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut first)?;
    }
    let url =
        first.trim().strip_prefix("graphlab tenant listening on ").map(str::to_owned);
    let outcome = match url {
        Some(url) => crate::run_command(
            Command::new("python3")
                .arg(root().join("xtask").join("checks").join("msal_check.py"))
                .arg(&url)
                .arg(state.join("tls-cert.pem"))
                .env("REQUESTS_CA_BUNDLE", state.join("tls-cert.pem")),
        ),
        None => Err(anyhow::anyhow!("graphlab did not announce its URL: {first:?}")),
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome
}
