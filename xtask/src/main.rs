//! Project automation, run as `cargo xtask <task>`.
//!
//! - `setup-lab`: prepare `.lab/`, build `graphlab` and the lab steps, start
//!   the embedded tenant in the background (or reuse a healthy one), run steps
//!   2 and 3, build the book, smoke-run steps 4–7, and print a summary table.
//! - `lab reset`: stop the tenant and delete `.lab/`; `lab outputs [--check]`:
//!   the steps' outputs shown in the book.
//! - `tenant start|stop|status`: manage that background tenant.
//! - `bench tenant`: the emulator's load benchmark (release build).
//! - `tidy`: checks the codebase itself (also run by `cargo test`).
//! - `msal-check`: MSAL for Python signs in to the emulator over HTTPS.
//! - `docs`: the book, English and French (`--check`, `--update-po`,
//!   `--browser`, `--serve`).

mod docs;
mod lab;
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
        Task::SetupLab(options) => lab::setup_lab(&options),
        Task::Lab { action } => lab::run(action),
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
