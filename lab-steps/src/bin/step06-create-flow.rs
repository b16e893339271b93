//! Step 6 — the "Create Team" flow.
//!
//! The flow's three actions, through the connector's one `Batch` action and
//! the cached connection of step 4: `Batch POST-groups` creates a Microsoft
//! 365 group named after the flow's input; the flow then waits for the group
//! to replicate (the lab's fixed one-minute `Delay`; here, bounded polling);
//! `Batch PUT-team` turns the group into a team, and succeeds with `201`.
//! Run again with the same name, it finds the group and its team.
//!
//! ```console
//! cargo run -p lab-steps --bin step06-create-flow -- --name LabTeam
//! ```

use std::time::Duration;

use anyhow::{Context, ensure};
use clap::Parser;
use graphlab_batch::{BatchItem, Version};
use lab_steps::{Lab, LabArgs, call, field};
use serde_json::{Value, json};

/// Create a group, wait until it is ready, and add a team to it.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// The group's name: its display name and mail nickname (no spaces).
    #[arg(long, default_value = "GraphBatchLab")]
    name: String,
    /// How long to wait for the new group to replicate before giving up.
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let name = lab_steps::check_group_name(&args.name)?;
    let lab = Lab::open(&args.lab)?;
    let graph = lab.graph(lab.connection().await?, Version::V1);
    let mut changed = false;

    // ANCHOR: group
    let group_id = match lab_steps::find_group(&graph, name).await? {
        Some(id) => {
            lab.say(format!("Group '{name}' already exists"));
            id
        }
        None => {
            let group = json!({
                "description": name,
                "displayName": name,
                "mailNickname": name,
                "groupTypes": ["Unified"],
                "mailEnabled": true,
                "securityEnabled": false,
            });
            let created = call(&graph, BatchItem::post("1", "/groups", group))
                .await?
                .json::<Value>()?;
            lab.say(format!("Batch POST-groups: 201, group '{name}' created"));
            changed = true;
            field(&created, "id")?.to_owned()
        }
    };
    // ANCHOR_END: group

    let existing = graph.run(vec![BatchItem::get("team", format!("/teams/{group_id}"))]);
    let has_team = existing.await?.outcomes[0].1.is_success();

    // ANCHOR: wait
    // Instead of the lab's fixed one-minute delay: the PUT is retried while
    // Graph answers 404 (the group has not replicated yet), within a deadline.
    let team = json!({
        "memberSettings": { "allowCreateUpdateChannels": true },
        "messagingSettings": {
            "allowUserEditMessages": true,
            "allowUserDeleteMessages": true,
        },
        "funSettings": { "allowGiphy": true, "giphyContentRating": "strict" },
    });
    let put_team = BatchItem::put("1", format!("/groups/{group_id}/team"), team)
        .retry_while(&[404], Duration::from_secs(args.wait_secs));
    // ANCHOR_END: wait

    // ANCHOR: team
    let status = if has_team {
        lab.say(format!("Team '{name}' already exists"));
        200
    } else {
        let response = call(&graph, put_team).await.context("Batch PUT-team")?;
        ensure!(response.status == 201, "PUT-team answered {}", response.status);
        lab.say(format!("Batch PUT-team: {}, team '{name}' created", response.status));
        changed = true;
        response.status
    };
    // ANCHOR_END: team

    lab.report(&json!({
        "step": "step06-create-flow",
        "changed": changed,
        "name": name,
        "groupId": group_id,
        "teamStatus": status,
    }));
    Ok(())
}
