//! The lab as a whole: `setup-lab` (prepare, run steps 2 and 3, build the
//! book, smoke-run steps 4–8), `lab reset`, `lab outputs`, which runs the
//! steps against a fresh emulator and writes what they print, and the
//! pictures of their flows, into the book, and `lab screenshots` (see
//! `pictures.rs`).

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use graphlab_lab::LabDir;
use serde_json::Value;

use crate::{
    cargo_command, pictures, root, run_command,
    tenant::{self, TenantOptions},
};

/// The lab steps, in order, with the arguments each takes in a run.
const STEPS: [&str; 7] = [
    "step02-register-app",
    "step03-create-connector",
    "step04-authorize-connector",
    "step05-explore-batch",
    "step06-create-flow",
    "step07-use-batch",
    "step08-export",
];

/// `cargo xtask setup-lab` options.
#[derive(Debug, Args)]
pub struct SetupOptions {
    #[command(flatten)]
    local: TenantOptions,
    /// Skip the smoke run of steps 4–7.
    #[arg(long)]
    no_smoke: bool,
    /// Skip building the book.
    #[arg(long)]
    no_docs: bool,
    /// A real tenant (id or domain) instead of the embedded one.
    #[arg(long, value_name = "ID", requires = "client_id")]
    tenant: Option<String>,
    /// The app registration to use in that real tenant (step 2 adds it a secret).
    #[arg(long, value_name = "ID", requires = "tenant")]
    client_id: Option<String>,
    /// The group and team the flow creates.
    #[arg(long, default_value = "GraphBatchLab")]
    name: String,
}

/// `cargo xtask lab ...`
#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Stop the embedded tenant and delete the lab directory (its state,
    /// config, secret and token cache). Registrations in a real tenant stay.
    Reset(TenantOptions),
    /// Run steps 2–8 against a fresh emulator and write what they print to
    /// docs/src/outputs/, and the lab's flows drawn with and without the
    /// runs of steps 6 and 7 to docs/src/images/flows/ (`--check`: fail if
    /// those files are stale).
    Outputs {
        /// Compare instead of writing.
        #[arg(long)]
        check: bool,
    },
    /// Take the studio's screenshots for the book with its browser test
    /// (Chromium and chromedriver) into docs/src/images/studio/
    /// (`--check`: fail if they are missing or older than the studio).
    Screenshots {
        /// Check instead of taking them.
        #[arg(long)]
        check: bool,
    },
}

pub fn run(action: LabAction) -> anyhow::Result<()> {
    match action {
        LabAction::Reset(options) => reset(&options),
        LabAction::Outputs { check } => outputs(check),
        LabAction::Screenshots { check } => pictures::screenshots(check),
    }
}

struct Row {
    step: String,
    outcome: String,
    changed: bool,
    secs: f64,
}

/// Builds `graphlab` and the lab steps, one package per cargo command: the
/// features cargo unifies depend on which packages a command selects, so
/// `-p graphlab-cli -p lab-steps` would build dependencies that a trainee's
/// next `cargo run -p lab-steps ...` builds again with other features.
pub fn build_binaries() -> anyhow::Result<()> {
    for package in ["lab-steps", "graphlab-cli"] {
        run_command(cargo_command().args(["build", "--quiet", "-p", package]))?;
    }
    Ok(())
}

fn step_binary(name: &str) -> PathBuf {
    crate::cargo_target_dir()
        .join("debug")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs a step with `--json`; its readable lines are lost, its document kept.
fn run_step(
    name: &str,
    dir: &Path,
    env: &[(&str, String)],
    args: &[String],
) -> anyhow::Result<Value> {
    let mut command = Command::new(step_binary(name));
    command.current_dir(dir).arg("--json").args(args).stdin(Stdio::null());
    // Only what setup-lab decided: not a stray GRAPHLAB_* of the caller's shell.
    for key in ["GRAPHLAB_TENANT_URL", "GRAPHLAB_AUTHORITY_URL", "GRAPHLAB_GRAPH_URL"] {
        command.env_remove(key);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().with_context(|| format!("cannot run {name}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let cause = stderr.lines().rfind(|l| l.starts_with("error:")).unwrap_or("failed");
        bail!("{name}: {cause}");
    }
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("{name} printed no JSON document"))
}

/// One line saying what a step did, from its JSON document.
fn outcome_of(name: &str, doc: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    match name {
        "step02-register-app" => {
            format!("app {} ({})", s(&doc["app"]["clientId"]), s(&doc["signedInAs"]))
        }
        "step03-create-connector" => {
            let counts: Vec<String> = doc["packages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let findings = p["report"]["findings"].as_array().map_or(0, Vec::len);
                    format!("{} valid, {findings} finding(s)", s(&p["package"]))
                })
                .collect();
            counts.join("; ")
        }
        "step04-authorize-connector" => format!("connection for {}", s(&doc["account"])),
        "step05-explore-batch" => format!(
            "3 GETs ok; beta +{} properties; OneNote {} {}",
            doc["betaOnly"].as_array().map_or(0, Vec::len),
            doc["onenote"]["status"],
            s(&doc["onenote"]["code"])
        ),
        "step06-create-flow" => {
            format!("team {} ({})", s(&doc["name"]), doc["teamStatus"])
        }
        "step07-use-batch" => format!(
            "{} + {} items created",
            doc["channelsCreated"], doc["variant"]["created"]
        ),
        "step08-export" => {
            let exports = doc["exports"].as_array().map_or(&[][..], Vec::as_slice);
            let warnings: u64 =
                exports.iter().filter_map(|e| e["warnings"].as_u64()).sum();
            format!(
                "{} exports in {}, {warnings} warning(s)",
                exports.len(),
                s(&doc["dir"])
            )
        }
        _ => String::new(),
    }
}

pub fn setup_lab(options: &SetupOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let lab_dir = options.local.lab_dir();
    let mut rows: Vec<Row> = Vec::new();
    let mut timed =
        |step: &str, f: &mut dyn FnMut() -> anyhow::Result<(String, bool)>| {
            let t = Instant::now();
            let (outcome, changed) = f().with_context(|| format!("setup-lab: {step}"))?;
            eprintln!("  {step}: {outcome}");
            rows.push(Row {
                step: step.to_owned(),
                outcome,
                changed,
                secs: t.elapsed().as_secs_f64(),
            });
            anyhow::Ok(())
        };
    timed("prerequisites", &mut || Ok((prerequisites()?, false)))?;
    timed("lab directory", &mut || {
        let line = tenant::ensure_lab_dir(&lab_dir)?;
        let created = line.ends_with("(created)");
        Ok((line, created))
    })?;
    timed("build", &mut || {
        build_binaries()?;
        Ok(("graphlab and the lab steps (target/debug)".to_owned(), false))
    })?;
    let mut env = vec![("GRAPHLAB_LAB_DIR", lab_dir.display().to_string())];
    let mut common: Vec<String> = Vec::new();
    match (&options.tenant, &options.client_id) {
        (Some(tenant_id), Some(_)) => {
            common.extend([
                "--real".to_owned(),
                "--tenant".to_owned(),
                tenant_id.clone(),
            ]);
            timed("tenant", &mut || Ok((format!("real tenant {tenant_id}"), false)))?;
        }
        _ => {
            let url = options.local.url();
            timed("embedded tenant", &mut || {
                let line = tenant::start(&options.local, false)?;
                let reused = line.contains("(reused");
                refuse_attended(&url)?;
                Ok((line, !reused))
            })?;
            env.push(("GRAPHLAB_TENANT_URL", url));
        }
    }
    let mut steps: Vec<&str> = STEPS[..2].to_vec();
    if !options.no_smoke {
        steps.extend(&STEPS[2..]);
    }
    for (i, name) in steps.iter().enumerate() {
        if i == 2 && !options.no_docs {
            timed("book", &mut || build_book())?;
        }
        let mut args = common.clone();
        match *name {
            "step02-register-app" => {
                if let Some(id) = &options.client_id {
                    args.extend(["--client-id".to_owned(), id.clone()]);
                }
            }
            "step03-create-connector" => {
                let port = options.local.port().wrapping_add(1);
                args.extend(["--redirect-port".to_owned(), port.to_string()]);
            }
            "step06-create-flow" | "step07-use-batch" => {
                args.extend(["--name".to_owned(), options.name.clone()]);
            }
            _ => {}
        }
        timed(name, &mut || {
            let doc = run_step(name, &root(), &env, &args)?;
            Ok((outcome_of(name, &doc), doc["changed"] == true))
        })?;
    }
    if options.no_smoke && !options.no_docs {
        timed("book", &mut || build_book())?;
    }

    println!();
    println!("{:<28} {:<62} {:>7}", "step", "outcome", "time");
    for row in &rows {
        let mark = if row.changed { "*" } else { " " };
        println!(
            "{:<28} {:<62} {:>6.1}s",
            format!("{mark}{}", row.step),
            truncate(&row.outcome, 62),
            row.secs
        );
    }
    let changed: Vec<&str> =
        rows.iter().filter(|r| r.changed).map(|r| r.step.as_str()).collect();
    println!();
    if changed.is_empty() {
        println!(
            "setup-lab: no change (everything was already in place) in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "setup-lab: {} step(s) changed something (marked *): {} — {:.1}s",
            changed.len(),
            changed.join(", "),
            started.elapsed().as_secs_f64()
        );
    }
    println!();
    println!("Next:");
    println!("  - read the tutorial: target/book/index.html (cargo xtask docs --serve)");
    println!(
        "  - run a step yourself: cargo run -p lab-steps --bin step05-explore-batch"
    );
    println!(
        "  - talk to the tenant (graphlab reads .lab/lab.toml): target/debug/graphlab whoami"
    );
    println!("    target/debug/graphlab batch run my-batch.json");
    if options.tenant.is_none() {
        println!(
            "  - the sign-in pages: cargo xtask tenant stop && cargo xtask tenant start --attended"
        );
        println!(
            "  - stop it: cargo xtask tenant stop; start over: cargo xtask lab reset"
        );
    }
    Ok(())
}

/// The steps sign the admin in with no page: an attended tenant (started
/// without `--unattended`) would wait, unseen, for someone to click. Its
/// health route says which it is.
fn refuse_attended(url: &str) -> anyhow::Result<()> {
    if tenant::probe(url)?.is_some_and(|h| h.unattended.is_none()) {
        bail!(
            "the tenant at {url} runs attended (it shows sign-in and consent pages and \
             waits for someone to use them), and setup-lab signs the admin in with no \
             page: stop it (`cargo xtask tenant stop`, or Ctrl-C where you started it) \
             and run setup-lab again, which starts it unattended; afterwards `cargo \
             xtask tenant start --attended` gives you the pages"
        );
    }
    Ok(())
}

/// The toolchain is new enough for the workspace (`rust-version`).
fn prerequisites() -> anyhow::Result<String> {
    const MINIMUM: (u32, u32) = (1, 90);
    let out = Command::new("rustc")
        .arg("--version")
        .output()
        .context("rustc is not on PATH: install Rust with rustup")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let numbers: Vec<u32> = version
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split(['.', '-'])
        .take(2)
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers.as_slice() {
        [major, minor] if (*major, *minor) >= MINIMUM => Ok(version),
        _ => bail!(
            "{version}: the workspace needs Rust {}.{} or newer (rustup update)",
            MINIMUM.0,
            MINIMUM.1
        ),
    }
}

fn build_book() -> anyhow::Result<(String, bool)> {
    let report = crate::docs::build(&root())?;
    let pages: Vec<String> =
        report.languages.iter().map(|(l, n)| format!("{l} {n}")).collect();
    Ok((format!("target/book ({} pages)", pages.join(", ")), false))
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

/// Stops the tenant and removes the lab directory, if it is one.
fn reset(options: &TenantOptions) -> anyhow::Result<()> {
    let dir = options.lab_dir();
    println!("tenant: {}", tenant::stop(options)?);
    if !dir.exists() {
        println!("{} does not exist: nothing to remove", dir.display());
        return Ok(());
    }
    let looks_like_lab = LabDir::new(&dir).has_lab_files()
        || fs::read_dir(&dir).map(|mut d| d.next().is_none()).unwrap_or(false);
    if !looks_like_lab {
        bail!(
            "{} does not look like a lab directory (no lab.toml, tenant/ or token cache); not removing it",
            dir.display()
        );
    }
    fs::remove_dir_all(&dir)
        .with_context(|| format!("cannot remove {}", dir.display()))?;
    println!("removed {}", dir.display());
    Ok(())
}

/// Where the book includes the steps' outputs from.
pub fn outputs_dir() -> PathBuf {
    root().join("docs").join("src").join("outputs")
}

/// A process killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A file `lab outputs` makes: where it goes and what it holds.
struct Generated {
    path: PathBuf,
    text: String,
    /// A picture of a run, whose durations may differ from one run to the
    /// next (compared without them).
    timed: bool,
}

impl Generated {
    /// Whether `current` (the file as it is) says what this one says.
    fn matches(&self, current: &str) -> bool {
        if self.timed {
            pictures::without_durations(current)
                == pictures::without_durations(&self.text)
        } else {
            current == self.text
        }
    }
}

/// Runs the steps against a fresh in-memory emulator, as a trainee would with
/// `cargo xtask setup-lab` (port 5580, loopback redirect 5581), and returns
/// what each printed, with the run's own ids and ports made stable, and the
/// lab's flows drawn, with the runs of steps 6 and 7 over theirs.
fn generate_outputs() -> anyhow::Result<Vec<Generated>> {
    build_binaries()?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = Command::new(tenant::binary());
    serve
        .args(["tenant", "serve", "--in-memory", "--unattended", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        // As `setup-lab` starts it (`cargo xtask tenant start`): unattended,
        // device codes polled each second, and the default 3-second
        // replication delay, which step 7's output shows.
        .args(["--device-poll-interval", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _tenant = Guard(serve.spawn().context("cannot start the emulator")?);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tenant::probe(&url)?.is_none() {
        if Instant::now() > deadline {
            bail!("the emulator did not answer at {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let work = root().join("target").join("lab-outputs");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let redirect_port = free_port()?;
    let mut outputs = Vec::new();
    let mut ids = Vec::new();
    for name in STEPS {
        let mut command = Command::new(step_binary(name));
        command
            .current_dir(&work)
            .env("GRAPHLAB_TENANT_URL", &url)
            .env("GRAPHLAB_LAB_DIR", ".lab")
            .env_remove("GRAPHLAB_AUTHORITY_URL")
            .env_remove("GRAPHLAB_GRAPH_URL")
            .stdin(Stdio::null());
        match name {
            "step03-create-connector" => {
                command.args(["--redirect-port", &redirect_port.to_string()]);
            }
            "step06-create-flow" | "step07-use-batch" => {
                command.args(["--name", "LabTeam"]);
            }
            _ => {}
        }
        let output = command.output().with_context(|| format!("cannot run {name}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("{name} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        let text = stdout
            .replace(&url, EMULATOR_URL)
            .replace(&format!("localhost:{redirect_port}"), "localhost:5581");
        let short = name.split('-').next().unwrap_or(name).to_owned();
        outputs.push(Generated {
            path: outputs_dir().join(format!("{short}.txt")),
            text: stable_ids(&text, &mut ids),
            timed: false,
        });
        // The run the step just made, drawn over its flow.
        let ran = match name {
            "step06-create-flow" => Some("create-team"),
            "step07-use-batch" => Some("create-team-channels"),
            _ => None,
        };
        if let Some(flow) = ran {
            outputs.push(Generated {
                path: pictures::flows_dir().join(format!("{flow}.run.svg")),
                text: pictures::draw(&tenant::binary(), &work, flow, true)?,
                timed: true,
            });
        }
    }
    for flow in pictures::FLOWS {
        outputs.push(Generated {
            path: pictures::flows_dir().join(format!("{flow}.svg")),
            text: pictures::draw(&tenant::binary(), &work, flow, false)?,
            timed: false,
        });
    }
    Ok(outputs)
}

const EMULATOR_URL: &str = "http://127.0.0.1:5580";

/// Replaces each GUID that the run made up (not one of the seeded tenant's)
/// by a numbered placeholder, the same one at each occurrence.
fn stable_ids(text: &str, seen: &mut Vec<String>) -> String {
    const SEEDED_PREFIXES: [&str; 5] =
        ["a0000000-", "5e000000-", "60000000-", "7d3e1f0a-", "14d82eec-"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, guid)) = find_guid(rest) {
        out.push_str(&rest[..start]);
        if SEEDED_PREFIXES.iter().any(|p| guid.starts_with(p)) {
            out.push_str(guid);
        } else {
            let n = match seen.iter().position(|g| g == guid) {
                Some(n) => n + 1,
                None => {
                    seen.push(guid.to_owned());
                    seen.len()
                }
            };
            out.push_str(&format!("00000000-0000-4000-8000-{n:012}"));
        }
        rest = &rest[start + guid.len()..];
    }
    out.push_str(rest);
    out
}

fn find_guid(text: &str) -> Option<(usize, &str)> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(35)).find_map(|i| {
        let candidate = text.get(i..i + 36)?;
        let shape = candidate.bytes().enumerate().all(|(j, b)| match j {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        shape.then_some((i, candidate))
    })
}

/// `cargo xtask lab outputs [--check]`.
fn outputs(check: bool) -> anyhow::Result<()> {
    let generated = generate_outputs()?;
    let mut stale = Vec::new();
    for file in &generated {
        let current = fs::read_to_string(&file.path).unwrap_or_default();
        if file.matches(&current) {
            continue;
        }
        let shown = file.path.strip_prefix(root()).unwrap_or(&file.path).display();
        if check {
            stale.push(shown.to_string());
        } else {
            if let Some(dir) = file.path.parent() {
                fs::create_dir_all(dir)?;
            }
            graphlab_fs::write_atomically(
                &file.path,
                file.text.as_bytes(),
                graphlab_fs::Access::Shared,
            )
            .with_context(|| format!("cannot write {shown}"))?;
            println!("wrote {shown}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "the book's step outputs are stale ({}): run `cargo xtask lab outputs` and commit \
             the result",
            stale.join(", ")
        );
    }
    println!(
        "{} step outputs and flow pictures {}",
        generated.len(),
        if check { "are fresh" } else { "are up to date" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An emulator served in-process on 127.0.0.1:0, on its own thread (the
    /// xtask's probe runs its own runtime); stopped through the sender.
    fn emulator(unattended: bool) -> (String, tokio::sync::oneshot::Sender<()>) {
        use graphlab_tenant::{Tenant, TenantConfig, seed};
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let mut config = TenantConfig::in_memory();
                if unattended {
                    config = config.unattended(seed::ADMIN_UPN);
                }
                let tenant = Tenant::open(&config).unwrap();
                let running =
                    graphlab_tenant::serve(tenant, "127.0.0.1:0".parse().unwrap())
                        .await
                        .unwrap();
                url_tx.send(running.base_url().to_owned()).unwrap();
                let _ = stop_rx.await;
                running.shutdown().await;
            });
        });
        (url_rx.recv().unwrap(), stop_tx)
    }

    #[test]
    fn setup_lab_refuses_an_attended_tenant_instead_of_waiting_unseen() {
        let (url, stop) = emulator(false);
        let err = refuse_attended(&url).unwrap_err().to_string();
        assert!(err.contains(&url) && err.contains("runs attended"), "{err}");
        assert!(err.contains("cargo xtask tenant stop"), "{err}");
        assert!(err.contains("tenant start --attended"), "{err}");
        let _ = stop.send(());
        let (url, stop) = emulator(true);
        refuse_attended(&url).unwrap();
        let health = tenant::probe(&url).unwrap().unwrap();
        assert_eq!(health.unattended.as_deref(), Some("admin@contoso.onmicrosoft.com"));
        let _ = stop.send(());
    }

    #[test]
    fn made_up_ids_become_numbered_placeholders_and_seeded_ones_stay() {
        let mut seen = Vec::new();
        let text = "app 9368f048-ccc8-44c2-8507-50fec24e5542 in 7d3e1f0a-5b2c-4e8d-9a61-c0ffee5eed01, \
                    again 9368f048-ccc8-44c2-8507-50fec24e5542, then 10b779fa-dd92-4020-af3e-74e776c28c87";
        assert_eq!(
            stable_ids(text, &mut seen),
            "app 00000000-0000-4000-8000-000000000001 in 7d3e1f0a-5b2c-4e8d-9a61-c0ffee5eed01, \
             again 00000000-0000-4000-8000-000000000001, then 00000000-0000-4000-8000-000000000002"
        );
        assert_eq!(stable_ids("no ids here", &mut seen), "no ids here");
    }
}
