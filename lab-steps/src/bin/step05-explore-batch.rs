//! Step 5 — explore JSON batching, as the lab does in Graph Explorer.
//!
//! Three GETs in one `$batch` (the sample "perform parallel GETs"), answered
//! in any order and matched by id; `/me` on v1.0 and on beta, where beta
//! returns more properties; and a OneNote request that fails with `403` and
//! error `40004` because the token has no Notes scope. Each item carries its
//! own status, and every one is checked. The admin signs in as in Graph
//! Explorer: Microsoft Graph Command Line Tools, with the scopes the sample
//! queries need.
//!
//! ```console
//! cargo run -p lab-steps --bin step05-explore-batch
//! ```

use std::{collections::BTreeSet, sync::Arc};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use graphlab_auth::{StaticToken, TokenProvider};
use graphlab_batch::{BatchItem, Outcome, Version};
use lab_steps::{Lab, LabArgs, call, expect_success};
use serde_json::{Value, json};

/// Send the lab's sample batches and show every item's status.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
}

const EXPLORER_SCOPES: &[&str] =
    &["User.Read", "Mail.Read", "Calendars.Read", "Group.Read.All"];

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let lab = Lab::open(&args.lab)?;
    let admin = lab.admin_client()?;
    let token = lab.sign_in_with_device_code(&admin, EXPLORER_SCOPES).await?;
    let tokens: Arc<dyn TokenProvider> = Arc::new(StaticToken(token.access_token));
    let v1 = lab.graph(tokens.clone(), Version::V1);

    // ANCHOR: parallel
    let requests = vec![
        BatchItem::get("1", "/me?$select=displayName,jobTitle,userPrincipalName"),
        BatchItem::get(
            "2",
            "/me/messages?$filter=importance%20eq%20'high'\
             &$select=from,subject,receivedDateTime,bodyPreview",
        ),
        BatchItem::get("3", "/me/events"),
    ];
    let report = v1.run(requests).await?;
    lab.say(format!(
        "Parallel GETs: {} item(s) in {} $batch call(s)",
        report.outcomes.len(),
        report.batch_calls
    ));
    let mut parallel = Vec::new();
    for (id, outcome) in &report.outcomes {
        let status = outcome.label();
        let detail = match outcome {
            Outcome::Success(r) => {
                let body = r.body_json().unwrap_or_default();
                match body["value"].as_array() {
                    Some(items) => format!("{} item(s)", items.len()),
                    None => body["displayName"].as_str().unwrap_or("").to_owned(),
                }
            }
            other => other.describe(),
        };
        lab.say(format!("  id {id}: {status} {detail}"));
        parallel.push(json!({ "id": id, "status": outcome.status() }));
    }
    if let Some(failure) = lab_steps::first_failure(&report) {
        bail!("a sample GET failed: {failure}");
    }
    // ANCHOR_END: parallel

    // ANCHOR: versions
    let one_item = || BatchItem::get("1", "/me");
    let on_v1 = call(&v1, one_item()).await?.json::<Value>()?;
    let beta = lab.graph(tokens.clone(), Version::Beta);
    let on_beta = call(&beta, one_item()).await?.json::<Value>()?;
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().filter(|k| !k.starts_with('@')).cloned().collect())
            .unwrap_or_default()
    };
    let (v1_keys, beta_keys) = (keys(&on_v1), keys(&on_beta));
    let extra: Vec<&String> = beta_keys.difference(&v1_keys).collect();
    lab.say(format!(
        "/me on v1.0: {} properties; on beta: {} properties",
        v1_keys.len(),
        beta_keys.len()
    ));
    lab.say(format!("  only on beta: {}", join(&extra)));
    ensure!(!extra.is_empty(), "beta returned no property that v1.0 lacks");
    // ANCHOR_END: versions

    // ANCHOR: onenote
    let groups = call(&v1, BatchItem::get("g", "/groups?$top=1&$select=id,displayName"))
        .await?
        .json::<Value>()?;
    let group = &groups["value"][0];
    let group_id = group["id"].as_str().context("the tenant has no group")?;
    let notebook = BatchItem::post(
        "1",
        format!("/groups/{group_id}/onenote/notebooks"),
        json!({ "displayName": "Meeting Notes" }),
    );
    let report = v1.run(vec![notebook]).await?;
    let outcome = report.outcomes.into_iter().next().map(|(_, o)| o);
    let onenote = match outcome {
        Some(Outcome::HttpError(response)) => {
            let (code, message) = response.graph_error().unwrap_or_default();
            lab.say(format!(
                "OneNote notebook in '{}': {} (Cache-Control: {})",
                group["displayName"].as_str().unwrap_or(group_id),
                response.status,
                response.header("Cache-Control").unwrap_or("-")
            ));
            lab.say(format!("  error {code}: {message}"));
            json!({ "status": response.status, "code": code, "message": message })
        }
        other => {
            // With a Notes scope in the token, the notebook is created.
            let response = expect_success("POST notebook", other)?;
            lab.say(format!("OneNote notebook created: {}", response.status));
            json!({ "status": response.status })
        }
    };
    // ANCHOR_END: onenote

    lab.report(&json!({
        "step": "step05-explore-batch",
        "changed": onenote["status"] == 201,
        "parallel": parallel,
        "betaOnly": extra,
        "onenote": onenote,
    }));
    Ok(())
}

fn join(names: &[&String]) -> String {
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}
