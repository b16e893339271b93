//! Project automation, run as `cargo xtask <task>`.
//!
//! - `setup-lab`: prepare `.lab/`, build `graphlab`, start the embedded tenant
//!   in the background (or reuse a healthy one) and report a summary.
//! - `tenant start|stop|status`: manage that background tenant.
//! - `bench tenant`: the emulator's load benchmark (release build).
//! - `tidy`: checks the codebase itself (also run by `cargo test`).
//! - `msal-check`: MSAL for Python signs in to the emulator over HTTPS.
//! - `docs`: the book, English and French (`--check`, `--update-po`,
//!   `--browser`, `--serve`).

mod docs;
mod tenant;
mod tidy;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
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
    SetupLab(tenant::TenantOptions),
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
    },
    /// Check the codebase's own rules.
    Tidy,
    /// Sign in to the emulator over HTTPS with Microsoft's MSAL for Python
    /// (needs `pip install msal`).
    MsalCheck,
    /// Build the book (English and French) into target/book.
    Docs(docs::DocsOptions),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BenchTarget {
    /// The emulator: trivial-route req/s vs sub-requests/s through $batch.
    Tenant,
    /// The batch client: 10,000 GETs batched vs one by one, 100,000 streamed.
    Batch,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::SetupLab(options) => setup_lab(&options),
        Task::Tenant { action } => tenant::run(action),
        Task::Bench { target: BenchTarget::Tenant } => {
            run_command(Command::new(cargo()).current_dir(root()).args([
                "bench",
                "--quiet",
                "-p",
                "graphlab-tenant",
                "--bench",
                "load",
            ]))
        }
        Task::Bench { target: BenchTarget::Batch } => bench_batch(),
        Task::MsalCheck => tenant::msal_check(),
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

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
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
/// runs the batch client's benchmark against it.
fn bench_batch() -> anyhow::Result<()> {
    run_command(Command::new(cargo()).current_dir(root()).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "graphlab-cli",
    ]))?;
    let bin = root().join("target").join("release").join("graphlab");
    run_command(
        Command::new(cargo()).current_dir(root()).env("GRAPHLAB_BIN", bin).args([
            "bench",
            "--quiet",
            "-p",
            "graphlab-batch",
            "--bench",
            "client",
        ]),
    )
}

struct Row {
    step: &'static str,
    outcome: String,
    secs: f64,
}

fn setup_lab(options: &tenant::TenantOptions) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> anyhow::Result<String>| {
        let started = Instant::now();
        let outcome = f().with_context(|| format!("setup-lab: {name}"))?;
        rows.push(Row { step: name, outcome, secs: started.elapsed().as_secs_f64() });
        anyhow::Ok(())
    };
    step("prerequisites", &mut || {
        let out = Command::new(cargo())
            .arg("--version")
            .output()
            .context("cargo is not on PATH")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    })?;
    step("lab directory", &mut || tenant::ensure_lab_dir(&options.lab_dir()))?;
    step("build graphlab", &mut || {
        tenant::build_graphlab()?;
        Ok("target/debug/graphlab".to_owned())
    })?;
    step("embedded tenant", &mut || tenant::start(options))?;
    step("health", &mut || tenant::health_line(options))?;

    println!();
    println!("{:<18} {:<58} {:>7}", "step", "outcome", "time");
    for row in &rows {
        println!("{:<18} {:<58} {:>6.1}s", row.step, row.outcome, row.secs);
    }
    let url = options.url();
    println!();
    println!(
        "The embedded tenant is running at {url} (state in {}).",
        options.lab_dir().join("tenant").display()
    );
    println!("The lab steps (register the app, connector, batches) are not built yet;");
    println!("until they are, sign in and talk to the emulator directly:");
    println!("  export GRAPHLAB_TENANT_URL={url}");
    println!("  target/debug/graphlab login --device-code --scopes User.Read Mail.Read");
    println!(
        "  export GRAPHLAB_ACCESS_TOKEN=$(target/debug/graphlab token --scopes Mail.Read)"
    );
    println!("  target/debug/graphlab graph GET /v1.0/me/messages");
    println!("Stop it with `cargo xtask tenant stop`.");
    Ok(())
}
