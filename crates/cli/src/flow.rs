//! `graphlab flow run|runs|show|eval|check`: the lab's flows, run locally over
//! graphlab-flow, against the lab's target (the emulator or a real tenant).

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use clap::{Args, Subcommand};
use graphlab_auth::{
    AuthClient, Authority, Secret, SilentTokenProvider, TokenProvider, microsoft,
};
use graphlab_flow::{
    Engine, RunOptions,
    connector::{Connector, Connectors},
    context::ContextScope,
    engine::{Event, SystemClock},
    expr::Template,
    history::History,
};
use graphlab_lab::LabConfig;
use serde_json::Value;

use crate::options::Global;

#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Run a flow definition (Power Automate's definition.json, a Logic Apps
    /// workflow, an ARM template or a bare definition) once, from its
    /// manual trigger; exits non-zero unless the run Succeeded.
    Run(RunArgs),
    /// The run history, newest first.
    Runs(RunsArgs),
    /// One run from the history, as a tree of actions.
    Show(ShowArgs),
    /// Evaluate one definition value (`"@add(1, 2)"`, `"n=@{...}"`) and
    /// print the result as JSON.
    Eval(EvalArgs),
    /// Check a flow definition without running it: rule ids, JSON paths,
    /// errors and warnings; exits 1 when there are errors. An exported
    /// template or package is checked whole: the workflow, the resources
    /// against the ARM schemas, the embedded swagger, the package's parts.
    Check(CheckArgs),
    /// Export a flow and its custom connector for the cloud: an ARM
    /// template (and its parameters file) for Logic Apps, or a Power
    /// Automate import package (zip).
    Export(ExportArgs),
    /// Draw a flow definition as an SVG picture (the trigger, the actions
    /// joined by their runAfter, containers nested), with a run from the
    /// history laid over it when --run is given.
    Draw(DrawArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The definition file (any shape `flow run` reads).
    file: PathBuf,
    /// `logicapp` (an ARM template) or `powerautomate` (a package).
    #[arg(long, value_name = "TARGET")]
    to: graphlab_flow::export::Target,
    /// Where to write: the template (its parameters file goes beside it,
    /// NAME.parameters.json) or the package's zip.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// The connector package directory to embed; default: step 3's
    /// `connector/lab`, else the lab's connector built for the app of
    /// step 2.
    #[arg(long, value_name = "DIR")]
    connector: Option<PathBuf>,
    /// The workflow's or flow's name; default: the source's display name.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct DrawArgs {
    /// The definition file (any shape `flow run` reads).
    file: PathBuf,
    /// A run id from the history (or a unique prefix, or `latest`): each
    /// action coloured and marked with its status, duration and retries.
    #[arg(long, value_name = "ID")]
    run: Option<String>,
    /// Where to write the SVG picture.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The definition file.
    file: PathBuf,
    /// A trigger input, by key or title (`--input Name=LabTeam`).
    #[arg(long = "input", value_name = "NAME=VALUE")]
    inputs: Vec<String>,
    /// The whole trigger body, as JSON.
    #[arg(long, value_name = "JSON")]
    trigger_body: Option<String>,
    /// Parameter values: `{NAME: {"value": ...}}` or an ARM parameters file.
    #[arg(long, value_name = "FILE")]
    parameters: Option<PathBuf>,
    /// A connector package directory (`[NAME=]DIR`; repeat for several);
    /// default: the lab's `connector/lab` package from step 3.
    #[arg(long = "connector", value_name = "[NAME=]DIR")]
    connectors: Vec<String>,
    /// Divide every wait (Delay, retry intervals) by N: `--time-scale 30`
    /// makes the lab's one-minute Delay take 2 s.
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    time_scale: f64,
    /// Print the run as one JSON document.
    #[arg(long)]
    json: bool,
    /// Bearer token for connector actions (else the lab's connection from
    /// step 4, else the account signed in with `graphlab login`).
    #[arg(long, env = "GRAPHLAB_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A run id (or a unique prefix, or `latest`).
    run: String,
    /// The whole run document as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The value, as it would appear in a definition.
    value: String,
    /// What workflow functions see: `{"trigger", "actions", "variables",
    /// "parameters"}`.
    #[arg(long, value_name = "FILE")]
    context: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The definition file (any shape `flow run` reads).
    file: PathBuf,
    /// A connector package directory (`[NAME=]DIR`; repeat for several):
    /// connector actions' operations must exist in it.
    #[arg(long = "connector", value_name = "[NAME=]DIR")]
    connectors: Vec<String>,
    /// Print the report as one JSON document.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, command: FlowCommand) -> anyhow::Result<ExitCode> {
    match command {
        FlowCommand::Run(args) => run_flow(global, args).await,
        FlowCommand::Runs(args) => runs(global, &args),
        FlowCommand::Show(args) => show(global, &args),
        FlowCommand::Eval(args) => eval(&args),
        FlowCommand::Check(args) => check(global, &args),
        FlowCommand::Export(args) => export(global, &args),
        FlowCommand::Draw(args) => draw(global, &args),
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not valid JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

async fn run_flow(global: &Global, args: RunArgs) -> anyhow::Result<ExitCode> {
    let (workflow, embedded) = load_any(&args.file)?;
    let mut options = RunOptions::default();
    for input in &args.inputs {
        let (name, value) = input
            .split_once('=')
            .with_context(|| format!("--input '{input}': expected NAME=VALUE"))?;
        options.inputs.push((name.to_owned(), value.to_owned()));
    }
    if let Some(body) = &args.trigger_body {
        options.trigger_body =
            Some(serde_json::from_str(body).context("--trigger-body is not valid JSON")?);
    }
    if let Some(path) = &args.parameters {
        options.parameters = parameter_values(&read_json(path)?)
            .with_context(|| format!("{}: not a parameters file", path.display()))?;
    }
    let resolved = global.announce(None)?;
    let mut engine = Engine::new(&resolved.target.graph);
    engine.clock = Arc::new(SystemClock::scaled(args.time_scale));
    engine.connectors = match embedded {
        Some(connector) if args.connectors.is_empty() => {
            let mut one = Connectors::new();
            one.add(connector);
            one
        }
        _ => connectors(global, &args.connectors)?,
    };
    engine.token = Some(tokens(global, &resolved, args.access_token.as_deref()).await?);
    let quiet = args.json;
    engine.observer = Some(Arc::new(move |event: &Event| {
        if quiet {
            return;
        }
        let line = match event {
            Event::Started { path, type_name } => {
                format!("  start  {path} ({type_name})")
            }
            Event::Ended { path, status, attempts, duration } => {
                let tries = if *attempts > 1 {
                    format!(", {attempts} attempts")
                } else {
                    String::new()
                };
                format!(
                    "  {:<6} {path} ({}{tries})",
                    status.as_str().to_lowercase(),
                    seconds(*duration)
                )
            }
        };
        let _ = writeln!(std::io::stdout(), "{line}");
    }));
    if !args.json {
        println!("{}: {} '{}'", args.file.display(), workflow.shape, workflow.name);
        println!(
            "target: {} (time scale {})",
            resolved.target.graph,
            args.time_scale.max(1.0)
        );
    }
    let run = engine.run(&workflow, options).await?;
    let mut history = History::open(&global.lab_dir)?;
    history.save(&run)?;
    if args.json {
        println!("{:#}", run.to_json());
    } else {
        let took = (run.end - run.start).unsigned_abs();
        println!("run {} {} in {}", run.id, run.status, seconds(took));
        if let Some(error) = &run.error {
            println!(
                "error: {}: {}",
                error["code"].as_str().unwrap_or("?"),
                error["message"].as_str().unwrap_or("")
            );
        }
        println!("history: graphlab flow show {}", run.id);
    }
    Ok(if run.status == graphlab_flow::Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A definition of any shape, or an exported package (a zip): the
/// workflow, and the connector an export embeds (a template's custom API,
/// a package's swagger), which `flow run` uses when no `--connector` is
/// given.
fn load_any(path: &Path) -> anyhow::Result<(graphlab_flow::Workflow, Option<Connector>)> {
    use graphlab_flow::export::{powerautomate::is_zip, read_package, validate};
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = path.display().to_string();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workflow".to_owned());
    if is_zip(&bytes) {
        let package = read_package(&bytes, &file)?;
        let workflow = graphlab_flow::definition::from_value(&package.flow, &stem)
            .map_err(|e| anyhow::anyhow!("{file}!{}: {e}", package.definition_part))?;
        let connector = package
            .swagger
            .as_ref()
            .map(|s| Connector::from_swagger(s, None))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        return Ok((workflow, connector));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{file}: not UTF-8 text, nor a zip package"))?;
    let workflow = graphlab_flow::load(&text, &file)?;
    let value: Value = serde_json::from_str(&text)?;
    let connector =
        validate::template_connector(&value).transpose().map_err(anyhow::Error::msg)?;
    Ok((workflow, connector))
}

/// `graphlab flow export`: build the files, then write each atomically.
fn export(global: &Global, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    use graphlab_flow::export::{
        ConnectorPackage, ExportOptions, Target, to_logic_app, to_power_automate,
    };
    let source = read_json(&args.file)?;
    let lab_package = global.lab_dir.join("connector").join("lab");
    let connector = match &args.connector {
        Some(dir) => ConnectorPackage::read_dir(dir)?,
        None if lab_package.is_dir() => ConnectorPackage::read_dir(&lab_package)?,
        None => {
            let mut options = graphlab_connector::ExportOptions {
                profile: graphlab_connector::Profile::Lab,
                ..graphlab_connector::ExportOptions::default()
            };
            if let Some(app) = LabConfig::load(&global.lab_dir)?.app {
                options.client_id = app.client_id;
            }
            ConnectorPackage::from_package(&graphlab_connector::export(&options))
        }
    };
    let created = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok());
    let options = ExportOptions { name: args.name.clone(), created };
    let file = args.file.display().to_string();
    let files = match args.to {
        Target::LogicApp => {
            to_logic_app(&source, &file, &connector, &options)?.files(&args.out)
        }
        Target::PowerAutomate => {
            vec![(
                args.out.clone(),
                to_power_automate(&source, &file, &connector, &options)?,
            )]
        }
    };
    for (path, bytes) in &files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        graphlab_auth::write_private(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    match args.to {
        Target::LogicApp => println!(
            "deploy: az deployment group create --resource-group RG --template-file {} \
             --parameters @{} clientSecret=SECRET\n\
             then authorize the API connection (Azure portal: the connection, Edit API \
             connection, Authorize)",
            files[0].0.display(),
            files[1].0.display()
        ),
        Target::PowerAutomate => println!(
            "import: Power Automate, My flows, Import, Import package (Legacy), {}; create \
             the connector, then give its client secret and sign the connection in",
            files[0].0.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `{NAME: {"value": V}}`, or an ARM parameters file with that under
/// `parameters`.
fn parameter_values(doc: &Value) -> anyhow::Result<BTreeMap<String, Value>> {
    let map = match doc.get("parameters").and_then(Value::as_object) {
        Some(inner) if doc.get("$schema").is_some() => inner,
        _ => doc.as_object().context("expected a JSON object")?,
    };
    map.iter()
        .map(|(k, v)| {
            v.get("value")
                .map(|v| (k.clone(), v.clone()))
                .with_context(|| format!("parameter '{k}' has no \"value\""))
        })
        .collect()
}

fn connectors(global: &Global, given: &[String]) -> anyhow::Result<Connectors> {
    let mut out = Connectors::new();
    if given.is_empty() {
        let dir = global.lab().connector("lab");
        if dir.is_dir() {
            out.add(Connector::load(&dir, None).map_err(anyhow::Error::msg)?);
        }
        return Ok(out);
    }
    for spec in given {
        let (name, dir) = match spec.split_once('=') {
            Some((n, d)) if !n.contains('/') => (Some(n), d),
            _ => (None, spec.as_str()),
        };
        out.add(Connector::load(Path::new(dir), name).map_err(anyhow::Error::msg)?);
    }
    Ok(out)
}

/// The connection's token: `--access-token`, else the lab's cached
/// connection (step 4: the lab app of `lab.toml`, its secret, its cached
/// account), else the account `graphlab login` cached.
async fn tokens(
    global: &Global,
    resolved: &graphlab_lab::Resolved,
    token: Option<&str>,
) -> anyhow::Result<Arc<dyn TokenProvider>> {
    if token.is_none()
        && let Some(app) = LabConfig::load(&global.lab_dir)?.app
        && let Ok(secret) = std::fs::read_to_string(global.lab().secret())
        && !secret.trim().is_empty()
    {
        let authority =
            Authority::new(&resolved.target.authority, &resolved.target.tenant)?;
        let client = AuthClient::new(authority, &app.client_id, global.cache())
            .with_secret(Secret::new(secret.trim()));
        if let Some(account) = client.accounts().await?.into_iter().next() {
            return Ok(Arc::new(SilentTokenProvider {
                client,
                account,
                scopes: vec!["User.Read".into(), "Group.ReadWrite.All".into()],
            }));
        }
    }
    global.tokens(resolved, token, microsoft::GRAPH_CLI_CLIENT_ID, None, &[]).await.map_err(|e| {
        e.context(
            "no connection: authorize the connector (step04-authorize-connector), sign in \
             (graphlab login), or give --access-token / GRAPHLAB_ACCESS_TOKEN",
        )
    })
}

fn runs(global: &Global, args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let history = History::open(&global.lab_dir)?;
    let list = history.list(args.limit)?;
    if args.json {
        for r in &list {
            println!(
                "{}",
                serde_json::json!({"id": r.id, "workflow": r.workflow, "status": r.status,
                                   "startTime": r.start, "endTime": r.end})
            );
        }
    } else if list.is_empty() {
        println!("no runs yet: graphlab flow run FILE");
    } else {
        println!("{:<29}  {:<10}  {:<20}  workflow", "run", "status", "started");
        for r in &list {
            println!(
                "{:<29}  {:<10}  {:<20}  {}",
                r.id,
                r.status,
                &r.start[..r.start.len().min(19)],
                r.workflow
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(global: &Global, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let history = History::open(&global.lab_dir)?;
    let run = history.get(&args.run)?;
    if args.json {
        println!("{run:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "run {} {} {} ({} → {})",
        run["id"].as_str().unwrap_or("?"),
        run["workflow"].as_str().unwrap_or("?"),
        run["status"].as_str().unwrap_or("?"),
        run["startTime"].as_str().unwrap_or("?"),
        run["endTime"].as_str().unwrap_or("?"),
    );
    let mut lines = Vec::new();
    tree(&run["actions"], "", &mut lines);
    for line in lines {
        println!("{line}");
    }
    if let Some(error) = run.get("error").filter(|e| !e.is_null()) {
        println!("error: {error}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `├─ NAME  Status  code  duration  (attempts: 429, 200)`.
fn tree(actions: &Value, indent: &str, out: &mut Vec<String>) {
    let Some(map) = actions.as_object() else { return };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| {
        a.1["startTime"].as_str().cmp(&b.1["startTime"].as_str()).then(a.0.cmp(b.0))
    });
    let count = entries.len();
    for (i, (name, a)) in entries.into_iter().enumerate() {
        let last = i + 1 == count;
        let attempts: Vec<String> = a["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                t["statusCode"].as_u64().map_or("no answer".into(), |s| s.to_string())
            })
            .collect();
        let duration = match (a["startTime"].as_str(), a["endTime"].as_str()) {
            (Some(s), Some(e)) => duration(s, e),
            _ => String::new(),
        };
        let mut line = format!(
            "{indent}{} {name}  {}  {}",
            if last { "└─" } else { "├─" },
            a["status"].as_str().unwrap_or("?"),
            duration
        );
        if let Some(code) = a["code"].as_str() {
            line.push_str(&format!("  {code}"));
        }
        if attempts.len() > 1 {
            line.push_str(&format!("  (attempts: {})", attempts.join(", ")));
        }
        if a["status"] != "Succeeded"
            && a["status"] != "Skipped"
            && let Some(m) = a["error"]["message"].as_str()
        {
            line.push_str(&format!("  {m}"));
        }
        out.push(line);
        let inner = format!("{indent}{}", if last { "   " } else { "│  " });
        tree(&a["actions"], &inner, out);
        for rep in a["repetitions"].as_array().into_iter().flatten() {
            out.push(format!(
                "{inner}[{}] {}",
                rep["index"].as_u64().unwrap_or(0),
                rep["status"].as_str().unwrap_or("?")
            ));
            tree(&rep["actions"], &format!("{inner}    "), out);
        }
    }
}

fn duration(start: &str, end: &str) -> String {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    match (OffsetDateTime::parse(start, &Rfc3339), OffsetDateTime::parse(end, &Rfc3339)) {
        (Ok(s), Ok(e)) => seconds((e - s).unsigned_abs()),
        _ => String::new(),
    }
}

fn eval(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let context = match &args.context {
        Some(path) => read_json(path)?,
        None => Value::Null,
    };
    let scope = ContextScope::new(context, time::OffsetDateTime::now_utc())
        .map_err(anyhow::Error::msg)?;
    let template = Template::parse(&args.value)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.value))?;
    let value =
        template.evaluate(&scope).map_err(|e| anyhow::anyhow!("{}: {e}", args.value))?;
    println!("{value}");
    Ok(ExitCode::SUCCESS)
}

/// `graphlab flow check`: the report, readable or as JSON; exit 1 on errors.
fn check(global: &Global, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let given = if args.connectors.is_empty() {
        None
    } else {
        Some(connectors(global, &args.connectors)?)
    };
    let file = args.file.display().to_string();
    let report =
        graphlab_flow::export::validate::check_bytes(&bytes, &file, given.as_ref());
    if args.json {
        println!("{:#}", serde_json::to_value(&report)?);
    } else {
        if let Some(shape) = &report.shape {
            println!("{file}: {shape}");
        }
        for f in &report.findings {
            let at = match (f.line, f.column) {
                (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
                _ => f.path.clone(),
            };
            println!("{:<7} {:<27} {at}\n        {}", f.severity, f.rule, f.message);
        }
        println!("{} error(s), {} warning(s)", report.errors(), report.warnings());
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `graphlab flow draw`: the picture, written through a temporary file and
/// a rename so that a failure leaves nothing half-written.
fn draw(global: &Global, args: &DrawArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let workflow = graphlab_flow::load(&text, &args.file.display().to_string())
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let run = match &args.run {
        Some(id) => Some(History::open(&global.lab_dir)?.get(id)?),
        None => None,
    };
    let svg = graphlab_flow::draw::draw(&workflow, run.as_ref(), &Default::default());
    graphlab_fs::write_atomically(&args.out, svg.as_bytes(), graphlab_fs::Access::Shared)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("{}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
