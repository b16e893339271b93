//! `graphlab batch run FILE|-`: a JSON-batch job from the lab's
//! `{"requests":[...]}` format or from JSON lines, through `graphlab-batch`.

use std::{
    collections::BTreeMap,
    io::{BufRead, IsTerminal, Read},
    process::ExitCode,
    sync::Arc,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use graphlab_auth::{SilentTokenProvider, StaticToken, TokenProvider};
use graphlab_batch::{
    BatchClient, BatchItem, Config, Outcome, Progress, Version, parse_items, parse_line,
};
use serde_json::json;

use crate::{account, options::Global};

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
    /// Batches in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Attempts per item for 429, 503, 504.
    #[arg(long, default_value_t = 5)]
    max_attempts: u32,
    /// Items per batch (1–20).
    #[arg(long, default_value_t = 20)]
    batch_size: usize,
    /// Print outcomes as JSON (in request order) instead of a table.
    #[arg(long)]
    json: bool,
    /// Bearer token (else the signed-in account from `graphlab login`).
    #[arg(long, env = "GRAPHLAB_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
}

async fn tokens(
    global: &Global,
    args: &RunArgs,
) -> anyhow::Result<Arc<dyn TokenProvider>> {
    if let Some(token) = &args.access_token {
        return Ok(Arc::new(StaticToken(graphlab_auth::Secret::new(token.clone()))));
    }
    let authority = graphlab_auth::Authority::new(&global.authority(), "organizations")?;
    let client = graphlab_auth::AuthClient::new(
        authority,
        graphlab_tenant::seed::GRAPH_CLI_APP_ID,
        graphlab_auth::TokenCache::file(global.lab_dir.join(account::CACHE_FILE)),
    );
    let accounts = client.accounts().await?;
    let Some(account) = accounts.into_iter().next() else {
        bail!("no access token: set GRAPHLAB_ACCESS_TOKEN or run `graphlab login`");
    };
    Ok(Arc::new(SilentTokenProvider { client, account, scopes: Vec::new() }))
}

fn outcome_json(id: &str, o: &Outcome) -> serde_json::Value {
    match o {
        Outcome::Success(r) | Outcome::HttpError(r) => {
            let body = match &r.body {
                graphlab_batch::ResponseBody::Json(v) => v.to_value(),
                graphlab_batch::ResponseBody::Bytes(b) => json!({ "bytes": b.len() }),
                graphlab_batch::ResponseBody::Empty => serde_json::Value::Null,
            };
            json!({"id": id, "status": r.status, "attempts": r.attempts, "ok": o.is_success(), "body": body})
        }
        other => {
            json!({"id": id, "status": other.status(), "ok": false, "error": other.describe()})
        }
    }
}

pub async fn run(global: &Global, command: BatchCommand) -> anyhow::Result<ExitCode> {
    let BatchCommand::Run(args) = command;
    let config = Config {
        max_per_batch: args.batch_size.clamp(1, 20),
        concurrency: args.concurrency.max(1),
        max_attempts: args.max_attempts.max(1),
        version: if args.beta { Version::Beta } else { Version::V1 },
        ..Config::default()
    };
    let name = if args.file == "-" { "<stdin>".to_owned() } else { args.file.clone() };
    let reader: Box<dyn BufRead> = if args.file == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file))?,
        ))
    };
    let tokens = tokens(global, &args).await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items, {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut client = BatchClient::new(&global.graph(), tokens, config);
    if let Some(bar) = bar.clone() {
        client = client.on_progress(move |p| match p {
            Progress::BatchSent { items } => bar.inc_length(*items as u64),
            Progress::Done { .. } => bar.inc(1),
            Progress::Retrying { id, after } => {
                bar.set_message(format!("retrying {id} in {} ms", after.as_millis()))
            }
        });
    }

    let mut reader = reader;
    let mut first = String::new();
    reader.read_line(&mut first).with_context(|| format!("cannot read {name}"))?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed = 0usize;
    let mut print = |id: String, o: Outcome| {
        *counts.entry(o.label()).or_default() += 1;
        if !o.is_success() {
            failed += 1;
        }
        if args.json {
            println!("{}", outcome_json(&id, &o));
        } else {
            println!("{:<24} {:<9} {}", id, o.label(), o.describe());
        }
    };
    let lab_format = first.trim_start().starts_with('{')
        && first.contains("\"requests\"")
        || first.trim() == "{";
    let started = std::time::Instant::now();
    let (total, calls) = if lab_format {
        let mut text = first;
        reader
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {name}"))?;
        let items: Vec<BatchItem> = parse_items(&text, &name)?;
        let report = client.run(items).await?;
        let calls = report.batch_calls;
        let total = report.outcomes.len();
        for (id, o) in report.outcomes {
            print(id, o);
        }
        (total, calls)
    } else {
        // JSON lines: streamed in windows, so memory stays flat.
        let first_item = parse_line(&first, &name, 1);
        let rest = reader.lines().enumerate().filter_map(|(n, line)| match line {
            Ok(line) => parse_line(&line, &name, n + 2).transpose(),
            Err(e) => Some(Err(graphlab_batch::BatchError::Input {
                at: format!("{name}:{}", n + 2),
                message: e.to_string(),
            })),
        });
        let items = first_item.transpose().into_iter().chain(rest);
        client.run_stream(items, 2000, &mut print).await?
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!(
        "{total} items in {calls} $batch calls, {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        summary.join(", ")
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
