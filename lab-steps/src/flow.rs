//! The lab's flows (`lab-steps/flows/`), run by graphlab-flow as Power
//! Automate would run them: steps 6 and 7 run the definitions a trainee
//! builds in the designer, through the connector package of step 3 and the
//! connection of step 4, and print what the run history shows.

use std::sync::Arc;

use anyhow::{Context, bail};
use graphlab_auth::TokenProvider;
use graphlab_flow::{
    Engine, RunOptions, Status,
    connector::{Connector, Connectors},
    engine::SystemClock,
    history::History,
    run::Run,
};
use serde_json::Value;

use crate::Lab;

/// A flow definition shipped with the lab: its path in the repository and
/// its text.
#[derive(Debug, Clone, Copy)]
pub struct FlowFile {
    /// Where it is, for messages and the run history.
    pub path: &'static str,
    /// The definition (Power Automate's `definition.json`).
    pub text: &'static str,
}

/// Step 6's flow: `Batch POST-groups`, `Delay` (one minute), `Batch PUT-team`.
pub const CREATE_TEAM: FlowFile = FlowFile {
    path: "lab-steps/flows/create-team.json",
    text: include_str!("../flows/create-team.json"),
};

/// Step 7's flow: the same, then `Batch POST-channels`.
pub const CREATE_TEAM_CHANNELS: FlowFile = FlowFile {
    path: "lab-steps/flows/create-team-channels.json",
    text: include_str!("../flows/create-team-channels.json"),
};

/// The lab's production variant: every item's status checked.
pub const CREATE_TEAM_CHECKED: FlowFile = FlowFile {
    path: "lab-steps/flows/create-team-checked.json",
    text: include_str!("../flows/create-team-checked.json"),
};

/// Every flow of `lab-steps/flows/`, as step 8 exports them.
pub const ALL: [FlowFile; 3] = [CREATE_TEAM, CREATE_TEAM_CHANNELS, CREATE_TEAM_CHECKED];

/// How much faster than real time the lab's waits run against the embedded
/// tenant: the one-minute Delay takes 5 seconds, more than the emulator's
/// 3-second replication delay. Against a real tenant, waits take real time.
pub const EMULATOR_TIME_SCALE: f64 = 12.0;

/// Runs `flow` with its `Name` input set to `name`, keeps the run in the
/// lab's run history, prints one line per action, and fails unless the run
/// succeeded.
pub async fn run_flow(
    lab: &Lab,
    tokens: Arc<dyn TokenProvider>,
    flow: FlowFile,
    name: &str,
    time_scale: Option<f64>,
) -> anyhow::Result<Run> {
    let workflow = graphlab_flow::load(flow.text, flow.path)?;
    let scale =
        time_scale.unwrap_or(if lab.is_emulated() { EMULATOR_TIME_SCALE } else { 1.0 });
    let package = lab.files().connector("lab");
    if !package.is_dir() {
        bail!(
            "no connector package in {}: run step03-create-connector first",
            package.display()
        );
    }
    let mut connectors = Connectors::new();
    connectors.add(Connector::load(&package, None).map_err(anyhow::Error::msg)?);
    let mut engine = Engine::new(&lab.target.graph);
    engine.clock = Arc::new(SystemClock::scaled(scale));
    engine.token = Some(tokens);
    engine.connectors = connectors;
    lab.say(format!("Flow '{}' ({}), input Name = {name}:", workflow.name, flow.path));
    let options = RunOptions {
        inputs: vec![("Name".to_owned(), name.to_owned())],
        ..RunOptions::default()
    };
    let run = engine.run(&workflow, options).await?;
    let mut history = History::open(&lab.dir)?;
    history.save(&run).context("cannot keep the run in the history")?;
    let mut actions: Vec<(&String, &graphlab_flow::run::ActionRecord)> =
        run.actions.iter().collect();
    actions.sort_by_key(|(name, a)| (a.start, name.as_str()));
    for (action, record) in actions {
        lab.say(format!(
            "  {action:<20} {:<10} {}",
            record.status.as_str(),
            detail(record, scale)
        ));
    }
    lab.say(format!(
        "Run {}; `graphlab flow show latest` prints its history",
        run.status
    ));
    if run.status != Status::Succeeded {
        let why = run.error.as_ref().and_then(|e| e["message"].as_str()).unwrap_or("");
        bail!("the flow's run {} {}: {why}", run.id, run.status);
    }
    Ok(run)
}

/// What a step prints after an action's status: a `$batch` action's answer
/// and each item's status, a Delay's length.
fn detail(record: &graphlab_flow::run::ActionRecord, scale: f64) -> String {
    if let Some(out) = &record.outputs
        && let Some(items) = out["body"]["responses"].as_array()
    {
        let mut items: Vec<(String, String)> =
            items.iter().map(|r| (id_text(&r["id"]), r["status"].to_string())).collect();
        items.sort();
        let shown: Vec<String> = items.iter().map(|(i, s)| format!("{i}: {s}")).collect();
        return format!("$batch {}; item {}", out["statusCode"], shown.join(", "));
    }
    if let Some(i) = record.inputs.as_ref().and_then(|i| i.get("interval")) {
        let count = i["count"].as_f64().unwrap_or(0.0);
        let unit = i["unit"].as_str().unwrap_or("").to_lowercase();
        return if scale > 1.0 {
            format!("{count} {unit} (time scale {scale})")
        } else {
            format!("{count} {unit}")
        };
    }
    record
        .error
        .as_ref()
        .and_then(|e| e["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_default()
}

fn id_text(id: &Value) -> String {
    id.as_str().map_or_else(|| id.to_string(), str::to_owned)
}

/// The statuses of the items of a `$batch` action's answer, by item id.
pub fn item_statuses(run: &Run, action: &str) -> Vec<(String, u64)> {
    let mut items: Vec<(String, u64)> = run
        .actions
        .get(action)
        .and_then(|a| a.outputs.as_ref())
        .and_then(|o| o["body"]["responses"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|r| (id_text(&r["id"]), r["status"].as_u64().unwrap_or(0)))
        .collect();
    items.sort();
    items
}

/// The body of a `$batch` action's item, by id.
pub fn item_body(run: &Run, action: &str, id: &str) -> Option<Value> {
    run.actions
        .get(action)?
        .outputs
        .as_ref()?
        .get("body")?
        .get("responses")?
        .as_array()?
        .iter()
        .find(|r| id_text(&r["id"]) == id)
        .map(|r| r["body"].clone())
}
