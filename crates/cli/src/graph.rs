//! `graphlab graph METHOD PATH`: one Graph request, like Graph Explorer.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::options::Global;

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// HTTP method (GET, POST, PUT, PATCH, DELETE).
    method: String,
    /// Path with version, e.g. `/v1.0/me` or `/beta/me?$select=displayName`.
    path: String,
    /// JSON body.
    #[arg(long)]
    body: Option<String>,
    /// Bearer token (until `graphlab login` exists, mint one with `graphlab tenant token`).
    #[arg(long, env = "GRAPHLAB_ACCESS_TOKEN", hide_env_values = true)]
    access_token: String,
}

pub async fn run(global: &Global, args: GraphArgs) -> anyhow::Result<ExitCode> {
    let method: reqwest::Method = args
        .method
        .to_ascii_uppercase()
        .parse()
        .with_context(|| format!("'{}' is not an HTTP method", args.method))?;
    if !args.path.starts_with('/') {
        bail!("the path must start with /v1.0/ or /beta/, got '{}'", args.path);
    }
    let url = format!("{}{}", global.graph(), args.path);
    let mut request =
        crate::trust::client()?.request(method, &url).bearer_auth(&args.access_token);
    if let Some(body) = &args.body {
        let json: serde_json::Value =
            serde_json::from_str(body).context("--body is not valid JSON")?;
        request = request.json(&json);
    }
    let response = request
        .send()
        .await
        .map_err(|e| crate::trust::explain(&e))
        .with_context(|| format!("no answer from {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json)?),
        Err(_) if text.is_empty() => {}
        Err(_) => println!("{text}"),
    }
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("graphlab: {url} answered {status}");
        Ok(ExitCode::FAILURE)
    }
}
