//! The background emulated tenant: start (or reuse), stop, status.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use graphlab_lab::LabDir;

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
        LabDir::new(self.lab_dir()).tenant_pid()
    }

    fn log_file(&self) -> PathBuf {
        LabDir::new(self.lab_dir()).tenant_log()
    }
}

/// `cargo xtask tenant start` options.
#[derive(Debug, Clone, Args)]
pub struct StartOptions {
    #[command(flatten)]
    pub tenant: TenantOptions,
    /// Show the sign-in and consent pages (and wait for device codes to be
    /// entered) as Microsoft's platform does, instead of signing the admin in
    /// with no page. `setup-lab` needs the unattended tenant.
    #[arg(long)]
    pub attended: bool,
}

/// What the pid file records besides the pid: where the tenant listens
/// and how it signs people in, so that `status` and `setup-lab` need not guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub pid: u32,
    pub url: Option<String>,
    pub attended: Option<bool>,
}

impl Recorded {
    fn text(&self) -> String {
        let mut text = format!("{}\n", self.pid);
        if let Some(url) = &self.url {
            text.push_str(&format!("url={url}\n"));
        }
        if let Some(attended) = self.attended {
            let mode = if attended { "attended" } else { "unattended" };
            text.push_str(&format!("sign-in={mode}\n"));
        }
        text
    }

    fn parse(text: &str) -> Option<Recorded> {
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let mut recorded = Recorded { pid, url: None, attended: None };
        for line in lines {
            match line.split_once('=') {
                Some(("url", url)) => recorded.url = Some(url.trim().to_owned()),
                Some(("sign-in", mode)) => {
                    recorded.attended = Some(mode.trim() == "attended")
                }
                _ => {}
            }
        }
        Some(recorded)
    }
}

/// The pid file's record, if there is one.
pub fn recorded(options: &TenantOptions) -> Option<Recorded> {
    Recorded::parse(&fs::read_to_string(options.pid_file()).ok()?)
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Start the tenant in the background (reuses a healthy one).
    Start(StartOptions),
    /// Stop the background tenant.
    Stop(TenantOptions),
    /// Report whether the tenant answers.
    Status(TenantOptions),
}

pub fn run(action: Action) -> anyhow::Result<()> {
    match action {
        Action::Start(o) => start(&o.tenant, o.attended).map(|line| println!("{line}")),
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

/// What a healthy tenant says of itself.
#[derive(Debug, Clone)]
pub struct Health {
    pub tenant_id: String,
    /// The user signed in with no page, if the tenant was started unattended.
    pub unattended: Option<String>,
}

/// Asks `/_graphlab/health`; `Ok(Some(health))` when healthy.
pub fn probe(url: &str) -> anyhow::Result<Option<Health>> {
    let health = format!("{url}/_graphlab/health");
    runtime()?.block_on(async {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let Ok(answer) = client.get(&health).send().await else { return Ok(None) };
        if !answer.status().is_success() {
            return Ok(None);
        }
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        Ok((body["status"] == "ok").then(|| Health {
            tenant_id: body["tenantId"].as_str().unwrap_or("?").to_owned(),
            unattended: body["unattended"].as_str().map(str::to_owned),
        }))
    })
}

/// The admin routes' bearer secret, which the tenant writes (0600) into its
/// state directory, `<lab-dir>/tenant/admin-secret`.
fn admin_secret(options: &TenantOptions) -> anyhow::Result<String> {
    let path = LabDir::new(options.lab_dir()).tenant_state().join("admin-secret");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("cannot read the admin secret {}", path.display()))?;
    Ok(text.trim().to_owned())
}

/// `GET /_graphlab/stats` with the admin secret: "N requests, M $batch calls".
fn stats(options: &TenantOptions, base: &str) -> anyhow::Result<String> {
    let secret = admin_secret(options)?;
    let url = format!("{base}/_graphlab/stats");
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

/// The lab's tenant's URL: the one its pid file records, else `--port`'s.
pub fn lab_url(options: &TenantOptions) -> String {
    recorded(options).and_then(|r| r.url).unwrap_or_else(|| options.url())
}

pub fn health_line(options: &TenantOptions) -> anyhow::Result<String> {
    let url = lab_url(options);
    match probe(&url)? {
        Some(health) => {
            let mode = match &health.unattended {
                Some(user) => format!("unattended: {user} signs in with no page"),
                None => "attended: sign-in and consent pages".to_owned(),
            };
            let counts = match stats(options, &url) {
                Ok(counts) => counts,
                Err(e) => format!("no counters: {e:#}"),
            };
            Ok(format!("ok: tenant {} at {url} ({mode}; {counts})", health.tenant_id))
        }
        None => {
            bail!("no healthy tenant at {url} (start it with `cargo xtask tenant start`)")
        }
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

/// Starts the tenant in the background, or reports the healthy one already
/// there (saying when it signs people in otherwise than asked).
pub fn start(options: &TenantOptions, attended: bool) -> anyhow::Result<String> {
    let url = options.url();
    if let Some(health) = probe(&url)? {
        let mode = match (&health.unattended, attended) {
            (Some(_), false) => "unattended",
            (None, true) => "attended",
            (Some(_), true) => {
                "unattended, not attended as asked: `cargo xtask tenant stop` first"
            }
            (None, false) => {
                "attended, not unattended as asked: `cargo xtask tenant stop` first"
            }
        };
        return Ok(format!("already running at {url} (reused; {mode})"));
    }
    ensure_lab_dir(&options.lab_dir())?;
    if !binary().exists() {
        build_graphlab()?;
    }
    let log = fs::File::create(options.log_file())
        .with_context(|| format!("cannot create {}", options.log_file().display()))?;
    let mut command = Command::new(binary());
    command.args(["--lab-dir"]).arg(options.lab_dir()).args([
        "tenant",
        "serve",
        "--addr",
        &format!("127.0.0.1:{}", options.port),
    ]);
    if !attended {
        // The lab's admin signs in with no page to click through, and device
        // codes are approved at the first poll, a second after they are issued.
        command.args(["--unattended", "--device-poll-interval", "1"]);
    }
    command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0); // not killed by the terminal's Ctrl-C
    }
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {}", binary().display()))?;
    let pid = child.id();
    let record = Recorded { pid, url: Some(url.clone()), attended: Some(attended) };
    write_atomically(&options.pid_file(), &record.text())?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if probe(&url)?.is_some() {
            let mode = if attended { "attended" } else { "unattended" };
            return Ok(format!(
                "started at {url} ({mode}; pid {pid}, log {})",
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
    graphlab_fs::write_atomically(path, text.as_bytes(), graphlab_fs::Access::Shared)
        .with_context(|| format!("cannot write {}", path.display()))
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
    let pid = Recorded::parse(&text)
        .with_context(|| format!("{} holds no pid", pid_file.display()))?
        .pid;
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

#[cfg(test)]
mod tests {
    use super::Recorded;

    #[test]
    fn the_pid_file_records_the_url_and_the_sign_in_mode_and_reads_old_ones() {
        let record = Recorded {
            pid: 42,
            url: Some("http://127.0.0.1:5590".into()),
            attended: Some(true),
        };
        assert_eq!(Recorded::parse(&record.text()), Some(record));
        let old = Recorded::parse("1234\n").unwrap();
        assert_eq!((old.pid, old.url, old.attended), (1234, None, None));
        assert_eq!(Recorded::parse("nope\n"), None);
    }
}
