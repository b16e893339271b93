//! `graphlab batch run FILE|-`: a JSON-batch job from the lab's
//! `{"requests":[...]}` format or from JSON lines, through `graphlab-batch`.

use std::{collections::BTreeMap, io::IsTerminal, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use graphlab_auth::microsoft::GRAPH_CLI_CLIENT_ID;
use graphlab_batch::{
    BatchClient, BatchError, BatchItem, Config, DEFAULT_RETRY_FOR, Input, Outcome,
    Progress, Version, read_input,
};

use crate::{options::Global, output::outln};

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Run the requests in FILE (or `-` for stdin).
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `{"requests":[...]}` or JSON lines (one item per line); `-` is stdin.
    file: String,
    /// Send to /beta instead of /v1.0.
    #[arg(long)]
    beta: bool,
    /// Batches in flight at once (1–64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
    /// Attempts per item for 429, 503, 504 (1–20).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// Items per batch (1–20: Graph takes at most 20).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=20))]
    batch_size: u64,
    /// Print outcomes as JSON (in request order) instead of a table.
    #[arg(long)]
    json: bool,
    /// Refuse items whose URL Graph refuses (absolute, or naming the
    /// version) instead of sending them relative with a warning.
    #[arg(long)]
    strict: bool,
    /// Also retry items answered with STATUS (e.g. 404 while a new group
    /// replicates), until --retry-for has passed; an item's own `retryWhile`
    /// wins.
    #[arg(long, value_name = "STATUS", num_args = 1.., value_parser = clap::value_parser!(u16).range(400..=599))]
    retry_status: Vec<u16>,
    /// Seconds during which --retry-status statuses are retried (default 60).
    #[arg(long, value_name = "SECS", requires = "retry_status", value_parser = clap::value_parser!(u64).range(1..=3600))]
    retry_for: Option<u64>,
    /// The signed-in account to act as (default: the only one).
    #[arg(long)]
    account: Option<String>,
    /// Scopes the signed-in account's token must carry (default: any
    /// cached token; a refresh asks for them).
    #[arg(long, num_args = 1..)]
    scopes: Vec<String>,
    /// Bearer token (else the account `graphlab login` signed in)
    /// [env: GRAPHLAB_ACCESS_TOKEN].
    #[arg(long, env = "GRAPHLAB_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
}

/// The table's last column: what the status column does not already say.
fn detail(o: &Outcome) -> String {
    let attempts =
        |n: u32| if n == 1 { "1 attempt".to_owned() } else { format!("{n} attempts") };
    match o {
        Outcome::Success(r) => attempts(r.attempts),
        Outcome::HttpError(r) => match r.graph_error() {
            Some((code, message)) => format!("{code}: {message}"),
            None => attempts(r.attempts),
        },
        Outcome::FailedDependency { on } => format!("dependency '{on}' failed"),
        Outcome::GaveUp { attempts: n, last } => {
            format!("after {}: {last}", attempts(*n))
        }
        Outcome::NotSent { reason } => reason.clone(),
    }
}

/// Applies the command's options to an item read at `at`: `--retry-status`,
/// and Graph's URL rule (a warning per rewritten item, or `--strict`'s error).
fn prepare(
    client: &BatchClient,
    args: &RunArgs,
    mut item: BatchItem,
    at: &str,
) -> Result<BatchItem, BatchError> {
    if !args.retry_status.is_empty() && item.retry_statuses.is_empty() {
        let within = args.retry_for.map_or(DEFAULT_RETRY_FOR, Duration::from_secs);
        item = item.retry_while(&args.retry_status, within);
    }
    if let Ok(Some(rewrite)) = client.rewrite(&item.url) {
        if args.strict {
            return Err(BatchError::Input {
                at: format!("{at} (id '{}')", item.id),
                message: format!(
                    "Graph answers 400 to the url '{}': {} (--strict)",
                    item.url, rewrite.why
                ),
            });
        }
        eprintln!(
            "graphlab: warning: {at} (id '{}'): sending '{}' for '{}': {}; Graph itself would answer 400 (--strict refuses it)",
            item.id, rewrite.url, item.url, rewrite.why
        );
        item.url = rewrite.url;
    }
    Ok(item)
}

pub async fn run(global: &Global, command: BatchCommand) -> anyhow::Result<ExitCode> {
    let BatchCommand::Run(args) = command;
    let config = Config {
        max_per_batch: args.batch_size as usize,
        concurrency: args.concurrency as usize,
        max_attempts: args.max_attempts,
        version: if args.beta { Version::Beta } else { Version::V1 },
        strict_urls: args.strict,
        ..Config::default()
    };
    let name = if args.file == "-" { "<stdin>".to_owned() } else { args.file.clone() };
    let reader: Box<dyn std::io::BufRead> = if args.file == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file))?,
        ))
    };
    let resolved = global.announce(None)?;
    let tokens = global
        .tokens(
            &resolved,
            args.access_token.as_deref(),
            GRAPH_CLI_CLIENT_ID,
            args.account.as_deref(),
            &args.scopes,
        )
        .await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items, {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut client = BatchClient::new(&resolved.target.graph, tokens, config);
    if let Some(bar) = bar.clone() {
        client = client.on_progress(move |p| match p {
            Progress::BatchSent { items } => bar.inc_length(*items as u64),
            Progress::Done { .. } => bar.inc(1),
            Progress::Retrying { id, after } => {
                bar.set_message(format!("retrying {id} in {} ms", after.as_millis()))
            }
        });
    }

    // The format is graphlab-batch's to tell, as for `parse_items`.
    let input = read_input(reader, &name)?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed = 0usize;
    let mut header = !args.json;
    let mut print = |id: String, o: Outcome| {
        *counts.entry(o.label()).or_default() += 1;
        if !o.is_success() {
            failed += 1;
        }
        if args.json {
            outln!("{}", o.to_json(&id));
        } else {
            if std::mem::take(&mut header) {
                outln!("{:<24} {:<9} DETAIL", "ID", "STATUS");
            }
            outln!("{:<24} {:<9} {}", id, o.label(), detail(&o));
        }
    };
    let started = std::time::Instant::now();
    let (total, calls) = match input {
        Input::Document(items) => {
            let items = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    prepare(&client, &args, item, &format!("{name}: requests[{i}]"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if items.is_empty() {
                bail!(
                    "{name}: 'requests' is empty: nothing to send (Graph answers 400 to an empty batch)"
                );
            }
            let report = client.run(items).await?;
            let calls = report.batch_calls;
            let total = report.outcomes.len();
            for (id, o) in report.outcomes {
                print(id, o);
            }
            (total, calls)
        }
        Input::Lines(lines) => {
            // JSON lines: streamed in windows, so memory stays flat.
            let items = lines.map(|line| {
                line.and_then(|(n, item)| {
                    prepare(&client, &args, item, &format!("{name}:{n}"))
                })
            });
            client.run_stream(items, 2000, &mut print).await?
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if total == 0 {
        bail!("{name} holds no request: nothing to send");
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!(
        "{total} items in {calls} $batch calls, {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        summary.join(", ")
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
