//! Step 7 — several operations in one batch.
//!
//! The flow of step 6 with one more action, `Batch POST-channels`: three
//! channels in one `$batch`, chained with `dependsOn` so that Graph creates
//! them one after the other; each answers `201`
//! (`lab-steps/flows/create-team-channels.json`, run again with a new name,
//! `{name}Channels`, as the lab runs its extended flow). Then the variant the
//! lab suggests: a group whose team and channels are created by a single
//! `$batch` (the team's id is its group's, so the channel requests can name
//! it before it exists). What already exists is not created again.
//!
//! ```console
//! cargo run -p lab-steps --bin step07-use-batch -- --name LabTeam
//! ```

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::Parser;
use graphlab_batch::{BatchClient, BatchItem, Outcome, Version};
use lab_steps::{
    Lab, LabArgs, call, field,
    flow::{CREATE_TEAM_CHANNELS, item_body, item_statuses, run_flow},
};
use serde_json::{Value, json};

/// Run the flow with its three channels, then do it all in one batch.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// The name given to step 6; this step's flow runs with `{name}Channels`
    /// and its single-batch variant with `{name}AllInOne`.
    #[arg(long, default_value = "GraphBatchLab")]
    name: String,
    /// Divide the flow's waits by N (default: 12 against the embedded
    /// tenant, 1 against a real one).
    #[arg(long, value_name = "N")]
    time_scale: Option<f64>,
}

const CHANNELS: [(&str, &str); 3] = [
    ("Marketing Collateral", "Marketing collateral and documentation."),
    ("Vendor Contracts", "Vendor documents, contracts, agreements and schedules."),
    ("General Client Agreements", "General Client documents and agreements."),
];

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let name = lab_steps::check_group_name(&args.name)?;
    let lab = Lab::open(&args.lab)?;
    let tokens = lab.connection().await?;
    let graph = lab.graph(tokens.clone(), Version::V1);

    // ANCHOR: channels
    let flow_name = format!("{name}Channels");
    let (team_id, created) = match lab_steps::find_group(&graph, &flow_name).await? {
        // An earlier run: add whichever of the three channels are missing.
        Some(id) => {
            let created = add_channels(&lab, &graph, &id, Vec::new()).await?;
            (id, created)
        }
        None => {
            let run =
                run_flow(&lab, tokens, CREATE_TEAM_CHANNELS, &flow_name, args.time_scale)
                    .await?;
            let statuses = item_statuses(&run, "Batch_POST-channels");
            ensure!(
                statuses.len() == 3 && statuses.iter().all(|(_, s)| *s == 201),
                "Batch POST-channels: not every item answered 201: {statuses:?}"
            );
            let group = item_body(&run, "Batch_POST-groups", "1").unwrap_or(Value::Null);
            let id = group["id"].as_str().context("Batch POST-groups: no group id")?;
            (id.to_owned(), statuses.len())
        }
    };
    // ANCHOR_END: channels

    // ANCHOR: single-batch
    let variant = format!("{name}AllInOne");
    let group_id = match lab_steps::find_group(&graph, &variant).await? {
        Some(id) => id,
        None => {
            let group = json!({
                "description": variant, "displayName": variant, "mailNickname": variant,
                "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false,
            });
            let created = call(&graph, BatchItem::post("1", "/groups", group)).await?;
            lab.say(format!("Group '{variant}' created"));
            field(&created.json::<Value>()?, "id")?.to_owned()
        }
    };
    let has_team = graph
        .run(vec![BatchItem::get("team", format!("/teams/{group_id}"))])
        .await?
        .outcomes[0]
        .1
        .is_success();
    let team = (!has_team).then(|| {
        let settings = json!({ "memberSettings": { "allowCreateUpdateChannels": true } });
        BatchItem::put("team", format!("/groups/{group_id}/team"), settings)
            .retry_while(&[404], Duration::from_secs(120))
    });
    let variant_created =
        add_channels(&lab, &graph, &group_id, team.into_iter().collect()).await?;
    // ANCHOR_END: single-batch

    lab.report(&json!({
        "step": "step07-use-batch",
        "changed": created + variant_created > 0,
        "teamId": team_id,
        "channelsCreated": created,
        "variant": { "name": variant, "groupId": group_id, "created": variant_created },
    }));
    Ok(())
}

/// Sends `first` (if any) and the missing channels in one `$batch`, each
/// item depending on the one before; checks that every item answered 201.
async fn add_channels(
    lab: &Lab,
    graph: &BatchClient,
    team_id: &str,
    first: Vec<BatchItem>,
) -> anyhow::Result<usize> {
    let existing: Vec<String> = if first.is_empty() {
        let url = format!("/teams/{team_id}/channels?$select=displayName");
        let list = call(graph, BatchItem::get("list", url)).await?.json::<Value>()?;
        list["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["displayName"].as_str())
                    .map(Into::into)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // ANCHOR: chain
    let mut items = first;
    let missing = CHANNELS.iter().filter(|(name, _)| !existing.iter().any(|e| e == name));
    for (n, (name, description)) in missing.enumerate() {
        let id = (n + 1).to_string();
        let body = json!({ "displayName": name, "description": description });
        let mut item = BatchItem::post(&id, format!("/teams/{team_id}/channels"), body);
        if let Some(previous) = items.last() {
            item = item.depends_on(previous.id.clone());
        }
        items.push(item);
    }
    // ANCHOR_END: chain
    if items.is_empty() {
        lab.say(format!(
            "The {} channels already exist in team {team_id}",
            CHANNELS.len()
        ));
        return Ok(0);
    }
    let report = graph.run(items).await?;
    // A new group replicates for a few seconds (3 on the tenant `setup-lab`
    // starts): until then Graph answers the team's PUT 404, and the client
    // sends it again; how many calls that takes depends on the timing.
    let again: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Success(r) if r.attempts > 1))
        .map(|(id, _)| id.as_str())
        .collect();
    if again.is_empty() {
        lab.say(format!(
            "Sent {} item(s) in {} $batch call(s):",
            report.outcomes.len(),
            report.batch_calls
        ));
    } else {
        lab.say(format!(
            "Sent {} item(s) by $batch, sending {} again until the new group had replicated:",
            report.outcomes.len(),
            again.join(", ")
        ));
    }
    for (id, outcome) in &report.outcomes {
        lab.say(format!("  id {id}: {}", outcome.label()));
    }
    if let Some(failure) = report
        .outcomes
        .iter()
        .find(|(_, o)| o.status() != Some(201))
        .map(|(id, o)| format!("id {id}: {}", o.describe()))
    {
        bail!("not every item answered 201: {failure}");
    }
    Ok(report.outcomes.len())
}
