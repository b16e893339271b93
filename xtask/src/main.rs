//! Project automation, run as `cargo xtask <task>`.
//!
//! - `setup-lab`: prepare `.lab/`, build `graphlab` and the lab steps, start
//!   the embedded tenant in the background (or reuse a healthy one), run steps
//!   2 and 3, build the book, smoke-run steps 4–7, and print a summary table.
//! - `lab reset`: stop the tenant and delete `.lab/`; `lab outputs [--check]`:
//!   the steps' outputs and the pictures of their flows shown in the book;
//!   `lab screenshots [--check]`: the studio's screenshots in the book.
//! - `tenant start|stop|status`: manage that background tenant.
//! - `bench tenant`: the emulator's load benchmark (release build); `bench
//!   batch`: the batch client's; `bench flow`: the flow engine's.
//! - `tidy`: checks the codebase itself (also run by `cargo test`).
//! - `msal-check`: MSAL for Python signs in to the emulator over HTTPS.
//! - `docs`: the book, English and French (`--check`, `--update-po`,
//!   `--browser`, `--serve`).
//! - `fuzz [--secs N]`: the fuzz targets of `crates/fuzz`, each for N
//!   seconds, in release mode; a failing input is kept as a regression.

mod docs;
mod lab;
mod pictures;
mod tenant;
mod tidy;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "graph-batch-lab project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Prepare and start the lab on a fresh clone (idempotent).
    SetupLab(lab::SetupOptions),
    /// The lab's state: reset it, or regenerate the steps' outputs in the book.
    Lab {
        #[command(subcommand)]
        action: lab::LabAction,
    },
    /// Manage the background emulated tenant.
    Tenant {
        #[command(subcommand)]
        action: tenant::Action,
    },
    /// Run a benchmark and print its figures.
    Bench {
        /// What to measure.
        #[arg(value_enum)]
        target: BenchTarget,
        /// `batch` only: count the client's instructions per item under
        /// valgrind (callgrind), a figure that does not move with the
        /// machine's load, instead of timing the phases.
        #[arg(long)]
        instructions: bool,
    },
    /// Check the codebase's own rules.
    Tidy,
    /// Sign in to the emulator over HTTPS with Microsoft's MSAL for Python
    /// (needs `pip install msal`).
    MsalCheck,
    /// Build the book (English and French) into target/book.
    Docs(docs::DocsOptions),
    /// Run the fuzz targets (crates/fuzz) longer than CI does, in release
    /// mode; a failing input is saved under crates/fuzz/tests/regressions/.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        secs: u64,
        /// Only the targets whose name contains this.
        target: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BenchTarget {
    /// The emulator: trivial-route req/s vs sub-requests/s through $batch.
    Tenant,
    /// The batch client: 10,000 GETs batched vs one by one, 100,000 streamed.
    Batch,
    /// The flow engine: a 10,000-item Foreach with its run history, the
    /// lab's expressions, the lab's flow against the emulator.
    Flow,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::SetupLab(options) => lab::setup_lab(&options),
        Task::Lab { action } => lab::run(action),
        Task::Tenant { action } => tenant::run(action),
        Task::Bench {
            target: BenchTarget::Tenant | BenchTarget::Flow,
            instructions: true,
        } => Err(anyhow::anyhow!(
            "--instructions counts the batch client's: use `bench batch`"
        )),
        Task::Bench { target: BenchTarget::Tenant, .. } => {
            run_command(cargo_command().args([
                "bench",
                "--quiet",
                "-p",
                "graphlab-tenant",
                "--bench",
                "load",
            ]))
        }
        Task::Bench { target: BenchTarget::Batch, instructions } => {
            bench_batch(instructions)
        }
        Task::Bench { target: BenchTarget::Flow, .. } => {
            run_command(cargo_command().args([
                "bench",
                "--quiet",
                "-p",
                "graphlab-flow",
                "--bench",
                "engine",
            ]))
        }
        Task::MsalCheck => tenant::msal_check(),
        Task::Fuzz { secs, target } => fuzz(secs, target.as_deref()),
        Task::Docs(options) => docs::run(&root(), &options),
        Task::Tidy => tidy::check(&root()).map(|problems| {
            for p in &problems {
                println!("{p}");
            }
            if !problems.is_empty() {
                eprintln!("tidy: {} problem(s)", problems.len());
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo test --release -p graphlab-fuzz` with each target given `secs`
/// seconds; the targets print their case counts.
fn fuzz(secs: u64, target: Option<&str>) -> anyhow::Result<()> {
    let mut command = cargo_command();
    command
        .env("GRAPHLAB_FUZZ_SECS", secs.to_string())
        .args(["test", "--release", "-p", "graphlab-fuzz", "--test", "fuzz", "--"])
        .args(target)
        .args(["--nocapture", "--test-threads", "1"]);
    run_command(&mut command).context(
        "a fuzz target failed: its input is saved under crates/fuzz/tests/regressions/ \
         (commit it with the fix: it is replayed by every run)",
    )
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every file under `dir`, sorted, without descending into directories
/// named `target` (build output). An explicit stack, not recursion.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                files.push(path);
            } else if path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            }
        }
    }
    files.sort();
    files
}

/// [`files_under`] `dir` whose extension is `ext`.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files = files_under(dir);
    files.retain(|p| p.extension().is_some_and(|e| e == ext));
    files
}

/// Where cargo puts what it builds: `$CARGO_TARGET_DIR` (relative to the
/// workspace root, as cargo reads it) or `target/`. Worktrees that share one
/// target directory find their binaries there.
pub fn cargo_target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// The cargo that runs this xtask (`$CARGO`), else the one on `PATH`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Variables that `cargo run` sets for the program it runs (this xtask) and
/// that describe *this* package. A cargo started with them passes them on to
/// every build script it runs, and build scripts that watch one of them
/// (ring's watches `CARGO_MANIFEST_DIR`) look dirty: each switch between
/// `cargo xtask ...` and a plain `cargo ...` would rebuild ring, rustls and
/// everything above them. Source: cargo's "Environment variables Cargo sets
/// for crates".
const CARGO_RUN_VARIABLES: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_TARGET_TMPDIR",
    "OUT_DIR",
];

/// A `cargo` command in the workspace root, with the environment a shell
/// would give it: none of the variables `cargo run` set for this xtask.
pub fn cargo_command() -> Command {
    let mut command = Command::new(cargo());
    command.current_dir(root());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || CARGO_RUN_VARIABLES.contains(&key.as_ref()) {
            command.env_remove(key.as_ref());
        }
    }
    command
}

/// Runs a command, echoing it as `> cmd`; a failure becomes an error.
pub fn run_command(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    eprintln!("> {shown}");
    let status = cmd.status().with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Builds the release `graphlab` (the emulator runs as its own process) and
/// runs the batch client's benchmark against it; with `instructions`, runs
/// the batched phase once under callgrind and prints the client's
/// instructions per item.
fn bench_batch(instructions: bool) -> anyhow::Result<()> {
    run_command(cargo_command().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "graphlab-cli",
    ]))?;
    let bin = cargo_target_dir().join("release").join("graphlab");
    let mut bench = cargo_command();
    bench.env("GRAPHLAB_BIN", bin);
    if !instructions {
        return run_command(bench.args([
            "bench",
            "--quiet",
            "-p",
            "graphlab-batch",
            "--bench",
            "client",
        ]));
    }
    let found = Command::new("valgrind").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        bail!("--instructions needs valgrind (apt-get install valgrind)");
    }
    let out = root().join("target").join("callgrind.bench-batch.out");
    let runner = format!(
        "target.'cfg(all())'.runner = ['valgrind', '--tool=callgrind', \
         '--collect-atstart=no', '--toggle-collect=*run_measured*', \
         '--callgrind-out-file={}']",
        out.display()
    );
    let _ = std::fs::remove_file(&out);
    run_command(
        bench
            .env("GRAPHLAB_BENCH_CALLGRIND", "1")
            .env("GRAPHLAB_BENCH_ONLY_BATCHED", "1")
            .env("GRAPHLAB_BENCH_REPEATS", "1")
            .args(["--config", &runner])
            .args(["bench", "--quiet", "-p", "graphlab-batch", "--bench", "client"]),
    )?;
    let text = std::fs::read_to_string(&out)
        .with_context(|| format!("reading {}", out.display()))?;
    let total: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no instruction total in {}", out.display()))?;
    println!(
        "client instructions per item, 10,000 GETs via $batch (callgrind, \
         deterministic): {:.0}",
        total as f64 / 10_000.0
    );
    Ok(())
}
