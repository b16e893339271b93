//! Benchmark of the flow engine (`cargo xtask bench flow`).
//!
//! Three phases, all printed, none asserted (wall time moves with the
//! machine's load):
//!
//! 1. a `Foreach` over 10,000 items with a `Compose` and an `If` in each
//!    iteration (and a `Compose` and an `If` at the top level), on a
//!    `VirtualClock` (no network), the run then saved to a SQLite run history
//!    in a temporary directory: wall time, engine time per action run
//!    (counting each iteration's actions), the part spent saving;
//! 2. expression evaluations per second on the lab's typical expressions
//!    (`Template::evaluate`) and on a connector action's whole inputs
//!    (`CompiledValue::evaluate`);
//! 3. the lab's flow `lab-steps/flows/create-team-channels.json` against the
//!    emulator started in-process on its own thread (its replication delay
//!    reads the engine's virtual clock, so the one-minute Delay takes no
//!    time): wall time per run and per action, and the CPU time of the
//!    engine's thread per action (the engine and its HTTP client, not the
//!    emulator).
//!
//! Each phase repeats `GRAPHLAB_BENCH_REPEATS` times (default 5) and prints
//! the median and the spread. `GRAPHLAB_BENCH_ONLY_FOREACH=1` runs only the
//! first phase, once, for profiling (`valgrind --tool=callgrind
//! --toggle-collect=*run_measured*`).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use graphlab_auth::{Secret, StaticToken};
use graphlab_connector::{ExportOptions, Profile};
use graphlab_flow::{
    Engine, RunOptions, Status, Workflow,
    connector::{Connector, Connectors},
    engine::{Clock, VirtualClock},
    expr::{CompiledValue, Scope, Template},
    history::History,
    run::{ActionRecord, Run},
};
use graphlab_tenant::{Now, Tenant, TenantConfig, seed};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ITEMS: usize = 10_000;

/// CPU time of the calling thread, in seconds, from the scheduler's
/// nanosecond counter.
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(|n| n as f64 / 1e9)
        .unwrap_or(0.0)
}

fn repeats() -> usize {
    std::env::var("GRAPHLAB_BENCH_REPEATS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}

/// Median, min and max of a sample.
fn spread(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn us(secs: f64) -> String {
    format!("{:.2} µs", secs * 1e6)
}

/// Records that ran (not `Skipped`), every iteration's and branch's
/// actions included.
fn actions_run(actions: &BTreeMap<String, ActionRecord>) -> usize {
    actions
        .values()
        .map(|r| {
            usize::from(r.status != Status::Skipped)
                + actions_run(&r.actions)
                + r.repetitions.iter().map(|rep| actions_run(&rep.actions)).sum::<usize>()
        })
        .sum()
}

/// The lab's production advice at scale: an `Apply to each` over a batch's
/// responses with a `Condition` on each item's status, then a check at the
/// top level.
fn foreach_workflow() -> Workflow {
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Button",
            "inputs": {"schema": {"type": "object"}}}},
        "actions": {
            "Responses": {"type": "Compose", "inputs": "@triggerBody()['responses']"},
            "Apply_to_each": {
                "type": "Foreach",
                "foreach": "@outputs('Responses')",
                "runAfter": {"Responses": ["Succeeded"]},
                "actions": {
                    "Compose_id": {"type": "Compose",
                        "inputs": "@items('Apply_to_each')['body']['id']"},
                    "Condition": {
                        "type": "If",
                        "runAfter": {"Compose_id": ["Succeeded"]},
                        "expression": "@equals(items('Apply_to_each')['status'], 201)",
                        "actions": {"Created": {"type": "Compose",
                            "inputs": "@{outputs('Compose_id')} created"}},
                        "else": {"actions": {"Not_created": {"type": "Compose",
                            "inputs": "@{items('Apply_to_each')['status']}"}}}
                    }
                }
            },
            "Check": {
                "type": "If",
                "runAfter": {"Apply_to_each": ["Succeeded"]},
                "expression": {"and": [{"equals": ["@length(outputs('Responses'))", ITEMS]}]},
                "actions": {"All_seen": {"type": "Compose", "inputs": "all seen"}},
                "else": {"actions": {"Missing": {"type": "Compose", "inputs": "missing"}}}
            }
        }
    });
    graphlab_flow::definition::from_value(&definition, "bench-foreach").unwrap()
}

/// A `$batch` answer's `responses`: every tenth item throttled.
fn responses() -> Value {
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            let status = if i % 10 == 9 { 429 } else { 201 };
            json!({"id": i.to_string(), "status": status,
                   "headers": {"Content-Type": "application/json"},
                   "body": {"id": format!("{i:08x}-0000-4000-8000-000000000000"),
                            "displayName": format!("Group {i}")}})
        })
        .collect();
    json!({"responses": items})
}

/// One run, in a function of its own (and its own `block_on`) so that
/// callgrind counts exactly what runs inside.
#[inline(never)]
fn run_measured(
    rt: &tokio::runtime::Runtime,
    engine: &Engine,
    workflow: &Workflow,
    options: RunOptions,
) -> Run {
    rt.block_on(engine.run(workflow, options)).unwrap()
}

fn foreach_phase(rt: &tokio::runtime::Runtime, repeats: usize) {
    let workflow = foreach_workflow();
    let body = responses();
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(dir.path()).unwrap();
    let (mut engine_s, mut save_s, mut total_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut count = 0;
    for _ in 0..repeats {
        let mut engine = Engine::new("http://127.0.0.1:9");
        engine.clock = Arc::new(VirtualClock::starting_at(OffsetDateTime::now_utc()));
        let options =
            RunOptions { trigger_body: Some(body.clone()), ..RunOptions::default() };
        let t0 = Instant::now();
        let run = run_measured(rt, &engine, &workflow, options);
        let t1 = Instant::now();
        history.save(&run).unwrap();
        let t2 = Instant::now();
        assert_eq!(run.status, Status::Succeeded, "the bench's flow runs");
        count = actions_run(&run.actions);
        engine_s.push((t1 - t0).as_secs_f64());
        save_s.push((t2 - t1).as_secs_f64());
        total_s.push((t2 - t0).as_secs_f64());
    }
    let (total, tmin, tmax) = spread(total_s);
    let (engine, _, _) = spread(engine_s);
    let (save, _, _) = spread(save_s);
    let n = count as f64;
    println!(
        "foreach: {ITEMS} items, {count} actions run (Compose + If + branch per \
         iteration), virtual clock, saved to SQLite; median of {repeats}"
    );
    println!(
        "  wall time             {:>10.1} ms  (min {:.1}, max {:.1})",
        total * 1e3,
        tmin * 1e3,
        tmax * 1e3
    );
    println!("  engine run            {:>10.1} ms", engine * 1e3);
    println!(
        "  history save          {:>10.1} ms  ({:.0}% of the total)",
        save * 1e3,
        save / total * 100.0
    );
    println!("  engine per action     {:>13}  (run alone)", us(engine / n));
    println!("  per action, history   {:>13}  (goal: under 20 µs)", us(total / n));
}

/// A run's state as the lab's expressions read it: the trigger's body and
/// the lab's first `$batch` answer, inside an `Apply to each`.
struct LabScope {
    trigger: Value,
    actions: BTreeMap<String, Value>,
    item: Value,
}

impl Scope for LabScope {
    fn trigger(&self) -> Option<Value> {
        Some(self.trigger.clone())
    }
    fn action(&self, name: &str) -> Option<Value> {
        self.actions.get(name).cloned()
    }
    fn variable(&self, _: &str) -> Option<Value> {
        None
    }
    fn parameter(&self, name: &str) -> Option<Value> {
        (name == "$authentication").then(|| json!({}))
    }
    fn item(&self) -> Option<Value> {
        Some(self.item.clone())
    }
    fn items(&self, loop_name: &str) -> Option<Value> {
        (loop_name == "Apply_to_each").then(|| self.item.clone())
    }
    fn iteration_index(&self, _: &str) -> Option<u64> {
        Some(0)
    }
    fn result(&self, _: &str) -> Option<Value> {
        None
    }
    fn workflow(&self) -> Value {
        json!({"name": "bench"})
    }
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH
    }
}

fn lab_scope() -> LabScope {
    let group = json!({"id": "02bd9fd6-8f93-4758-87c3-1fb73740a315",
        "displayName": "LabTeam", "mailNickname": "LabTeam", "groupTypes": ["Unified"]});
    let response = json!({"id": "1", "status": 201,
        "headers": {"Content-Type": "application/json"}, "body": group});
    let result = json!({"name": "Batch_POST-groups", "status": "Succeeded", "code": "OK",
        "outputs": {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                    "body": {"responses": [response.clone()]}}});
    LabScope {
        trigger: json!({"outputs": {"headers": {}, "body": {"text": "LabTeam"}}}),
        actions: BTreeMap::from([("Batch_POST-groups".to_owned(), result)]),
        item: response,
    }
}

/// Evaluations per second of `eval`, over at least 0.3 s.
fn per_second(mut eval: impl FnMut()) -> f64 {
    let mut n = 0u64;
    let start = Instant::now();
    loop {
        for _ in 0..1_000 {
            eval();
        }
        n += 1_000;
        let t = start.elapsed();
        if t >= Duration::from_millis(300) {
            return n as f64 / t.as_secs_f64();
        }
    }
}

fn expression_phase(repeats: usize) {
    let scope = lab_scope();
    println!("expressions: evaluations per second (median of {repeats})");
    let texts = [
        "@body('Batch_POST-groups').responses[0].body.id",
        "@{triggerBody()['text']}",
        "@equals(items('Apply_to_each')['status'], 201)",
        "/groups/@{body('Batch_POST-groups').responses[0].body.id}/team",
        "@parameters('$authentication')",
    ];
    for text in texts {
        let template = Template::parse(text).unwrap();
        let rates: Vec<f64> = (0..repeats)
            .map(|_| {
                per_second(|| {
                    std::hint::black_box(template.evaluate(&scope).unwrap());
                })
            })
            .collect();
        let (rate, _, _) = spread(rates);
        println!("  {:>12.0}/s  {text}", rate);
    }
    // The lab's Batch_PUT-team inputs, as the engine evaluates them.
    let workflow = load_lab_flow();
    let inputs =
        workflow.actions.get("Batch_PUT-team").map(|a| &a.kind).and_then(|k| match k {
            graphlab_flow::definition::ActionKind::Connector { inputs, .. } => {
                Some(inputs.clone())
            }
            _ => None,
        });
    let inputs: CompiledValue = inputs.expect("Batch_PUT-team is a connector action");
    let rates: Vec<f64> = (0..repeats)
        .map(|_| {
            per_second(|| {
                std::hint::black_box(inputs.evaluate(&scope).unwrap());
            })
        })
        .collect();
    let (rate, _, _) = spread(rates);
    println!("  {rate:>12.0}/s  Batch_PUT-team's whole inputs (CompiledValue)");
}

fn lab_flow_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../lab-steps/flows/create-team-channels.json")
}

fn load_lab_flow() -> Workflow {
    let path = lab_flow_path();
    let text = std::fs::read_to_string(&path).unwrap();
    graphlab_flow::load(&text, &path.display().to_string()).unwrap()
}

fn lab_phase(rt: &tokio::runtime::Runtime, repeats: usize) {
    // The emulator runs on a runtime (and a thread) of its own, so the
    // engine thread's CPU time is the engine's and its HTTP client's alone.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let clock = VirtualClock::starting_at(OffsetDateTime::now_utc());
    let shared = clock.clone();
    let config = TenantConfig::in_memory()
        .clock(Now::from_fn(move || SystemTime::from(Clock::now(&shared))));
    let tenant = Tenant::open(&config).unwrap();
    let running = server_rt
        .block_on(graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let token = tenant
        .issue_token(seed::ADMIN_UPN, &["User.Read", "Group.ReadWrite.All"])
        .unwrap();
    let package = graphlab_connector::export(&ExportOptions {
        profile: Profile::Lab,
        ..ExportOptions::default()
    });
    let mut connectors = Connectors::new();
    connectors.add(Connector::from_swagger(&package.api_definition, None).unwrap());
    let mut engine = Engine::new(running.base_url());
    engine.clock = Arc::new(clock);
    engine.token = Some(Arc::new(StaticToken(Secret::new(token))));
    engine.connectors = connectors;
    let workflow = load_lab_flow();
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(dir.path()).unwrap();
    let runs = repeats.max(5) * 4;
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut count = 0;
    for i in 0..runs + 1 {
        let options = RunOptions {
            inputs: vec![("Name".to_owned(), format!("BenchTeam{i}"))],
            ..RunOptions::default()
        };
        let (t0, c0) = (Instant::now(), thread_cpu_secs());
        let run = run_measured(rt, &engine, &workflow, options);
        history.save(&run).unwrap();
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), thread_cpu_secs() - c0);
        assert_eq!(run.status, Status::Succeeded, "{:#}", run.to_json());
        count = actions_run(&run.actions);
        // The first run opens the connection and warms up.
        if i > 0 {
            walls.push(wall);
            cpus.push(cpu);
        }
    }
    let (wall, wmin, wmax) = spread(walls);
    let (cpu, cmin, cmax) = spread(cpus);
    let n = count as f64;
    println!(
        "lab flow: create-team-channels.json against the in-process emulator, \
         {count} actions (3 $batch calls, the Delay on the virtual clock), \
         saved to SQLite; median of {runs} runs"
    );
    println!(
        "  wall time per run     {:>10.2} ms  (min {:.2}, max {:.2})",
        wall * 1e3,
        wmin * 1e3,
        wmax * 1e3
    );
    println!("  wall per action       {:>13}", us(wall / n));
    println!(
        "  engine thread CPU     {:>13}  per action (min {}, max {}; the engine \
         and its HTTP client, not the emulator)",
        us(cpu / n),
        us(cmin / n),
        us(cmax / n)
    );
    drop(running);
    server_rt.shutdown_timeout(Duration::from_secs(1));
}

fn main() {
    // One thread, as `graphlab flow run` runs the engine.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    if std::env::var_os("GRAPHLAB_BENCH_ONLY_FOREACH").is_some() {
        foreach_phase(&rt, 1);
        return;
    }
    let repeats = repeats();
    foreach_phase(&rt, repeats);
    expression_phase(repeats);
    lab_phase(&rt, repeats);
}
