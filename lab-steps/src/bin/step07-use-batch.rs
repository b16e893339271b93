//! Step 7 — several operations in one batch.
//!
//! `Batch POST-channels`: three channels in one `$batch`, chained with
//! `dependsOn` so that Graph creates them one after the other; each answers
//! `201`. Then the variant the lab suggests: a second group whose team and
//! channels are created by a single `$batch` (the team's id is its group's,
//! so the channel requests can name it before it exists). Channels already
//! there are not created again.
//!
//! ```console
//! cargo run -p lab-steps --bin step07-use-batch -- --name LabTeam
//! ```

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use graphlab_batch::{BatchClient, BatchItem, Outcome, Version};
use lab_steps::{Lab, LabArgs, call, field};
use serde_json::{Value, json};

/// Add the lab's three channels to the team of step 6, then do it all in one batch.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// The group and team of step 6.
    #[arg(long, default_value = "GraphBatchLab")]
    name: String,
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
    let graph = lab.graph(lab.connection().await?, Version::V1);

    // ANCHOR: channels
    let team_id = lab_steps::find_group(&graph, name)
        .await?
        .with_context(|| format!("no group '{name}': run step06-create-flow first"))?;
    let created = add_channels(&lab, &graph, &team_id, Vec::new()).await?;
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
