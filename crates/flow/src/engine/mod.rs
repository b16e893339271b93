//! The engine: runs a [`Workflow`] with Logic Apps' semantics.
//!
//! - [`schedule`]: a container's actions in `runAfter` order, independent
//!   branches concurrently, skipped propagation, the container's status;
//! - [`actions`]: the data actions (`Compose`, variables, `ParseJson`,
//!   `Query`, `Select`, `Join`, `Wait`, `Terminate`);
//! - [`control`]: `If`, `Switch`, `Foreach`, `Until`, `Scope`;
//! - [`http`]: `Http` and connector actions, retry policies, `Retry-After`;
//! - [`clock`]: the one clock every wait goes through.
//!
//! The engine knows nothing of the emulator: it calls whatever Graph URL it
//! is given, with the token its [`TokenProvider`] gives.

pub mod actions;
pub mod clock;
pub mod control;
pub mod http;
pub mod schedule;
mod view;

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex},
};

use graphlab_auth::TokenProvider;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    connector::Connectors,
    definition::{Status, Workflow},
    run::{Run, redact, timestamp},
    trigger,
};

pub use clock::{Clock, SystemClock, VirtualClock};
pub use view::Frame;

/// Why a run could not start (a run that starts always ends with a
/// [`Run`], whatever its status).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The trigger's inputs do not match its schema.
    #[error("trigger '{trigger}': {message}")]
    Trigger {
        /// The trigger's name.
        trigger: String,
        /// What is wrong.
        message: String,
    },
    /// A parameter without a value or default.
    #[error("parameter '{0}' has no value: give it with --parameters FILE")]
    Parameter(String),
}

/// Something the engine reports while it runs (for `graphlab flow run`).
#[derive(Debug, Clone)]
pub enum Event {
    /// An action started; `path` is `Outer/Inner` for nested actions and
    /// `Loop[3]/Inner` for an iteration's.
    Started {
        /// Where.
        path: String,
        /// Its type.
        type_name: String,
    },
    /// An action ended.
    Ended {
        /// Where.
        path: String,
        /// How.
        status: Status,
        /// Attempts it made (HTTP and connector actions).
        attempts: usize,
        /// Workflow time it took.
        duration: std::time::Duration,
    },
}

/// A callback for [`Event`]s.
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// What the engine needs from outside.
#[derive(Clone)]
pub struct Engine {
    /// Every wait and every timestamp.
    pub clock: Arc<dyn Clock>,
    /// Microsoft Graph's base URL (`https://graph.microsoft.com` or an
    /// emulator's): connector actions go there, whatever host the swagger
    /// names.
    pub graph_url: String,
    /// The connection's token, for connector actions.
    pub token: Option<Arc<dyn TokenProvider>>,
    /// The connector packages.
    pub connectors: Connectors,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// Progress reports.
    pub observer: Option<Observer>,
    /// Seed of the retry jitter (a fixed seed gives the same waits).
    pub seed: u64,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("clock", &self.clock)
            .field("graph_url", &self.graph_url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("connectors", &self.connectors)
            .finish_non_exhaustive()
    }
}

/// The trigger's input and the parameters' values for one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--input NAME=VALUE`: a trigger input by key or by title.
    pub inputs: Vec<(String, String)>,
    /// `--trigger-body JSON`.
    pub trigger_body: Option<Value>,
    /// Parameter values (over the file's own and the defaults).
    pub parameters: BTreeMap<String, Value>,
}

/// What every action of one run shares.
pub(crate) struct RunCtx<'a> {
    pub engine: &'a Engine,
    pub workflow: &'a Workflow,
    pub run_id: String,
    pub trigger: Value,
    pub parameters: BTreeMap<String, Value>,
    pub variables: Mutex<BTreeMap<String, Value>>,
    /// Set by `Terminate`: the run's status and error.
    pub terminated: Mutex<Option<(Status, Option<Value>)>>,
    pub rng: Mutex<fastrand::Rng>,
}

impl RunCtx<'_> {
    pub fn is_terminated(&self) -> bool {
        self.terminated.lock().map(|t| t.is_some()).unwrap_or(true)
    }

    pub fn emit(&self, event: Event) {
        if let Some(observer) = &self.engine.observer {
            observer(&event);
        }
    }
}

impl Engine {
    /// An engine on the system clock with a plain HTTP client and no
    /// connector.
    pub fn new(graph_url: impl Into<String>) -> Engine {
        Engine {
            clock: Arc::new(SystemClock::new()),
            graph_url: graph_url.into(),
            token: None,
            connectors: Connectors::new(),
            http: reqwest::Client::new(),
            observer: None,
            seed: 0x5eed,
        }
    }

    /// Runs the workflow once, from its trigger to its last action.
    pub async fn run(
        &self,
        workflow: &Workflow,
        options: RunOptions,
    ) -> Result<Run, EngineError> {
        let start = self.clock.now();
        let trigger_body = match &workflow.trigger {
            Some(t) => {
                trigger::body(t, &options.inputs, options.trigger_body.clone()).map_err(
                    |message| EngineError::Trigger { trigger: t.name.clone(), message },
                )?
            }
            None => options.trigger_body.clone().unwrap_or(Value::Null),
        };
        let mut parameters = BTreeMap::new();
        for (name, declared) in &workflow.parameters {
            let value = options
                .parameters
                .get(name)
                .or_else(|| workflow.parameter_values.get(name))
                .or(declared.default.as_ref())
                .cloned();
            match value {
                Some(v) => {
                    parameters.insert(name.clone(), v);
                }
                // Connection parameters are the connector's business here.
                None if name.starts_with('$') => {
                    parameters.insert(name.clone(), json!({}));
                }
                None => return Err(EngineError::Parameter(name.clone())),
            }
        }
        let run_id = run_id(&mut fastrand::Rng::with_seed(
            self.seed ^ start.unix_timestamp_nanos() as u64,
        ));
        let trigger_name =
            workflow.trigger.as_ref().map(|t| t.name.as_str()).unwrap_or("manual");
        let mut trigger = json!({
            "name": trigger_name,
            "status": "Succeeded",
            "startTime": timestamp(start),
            "endTime": timestamp(start),
            "outputs": {
                "headers": {"Content-Type": "application/json"},
                "body": trigger_body,
            },
        });
        let ctx = RunCtx {
            engine: self,
            workflow,
            run_id: run_id.clone(),
            trigger: trigger.clone(),
            parameters,
            variables: Mutex::new(BTreeMap::new()),
            terminated: Mutex::new(None),
            rng: Mutex::new(fastrand::Rng::with_seed(self.seed)),
        };
        let frame = Frame::root();
        let result =
            schedule::run_container(&ctx, &workflow.actions, &frame, String::new()).await;
        let terminated = ctx.terminated.lock().ok().and_then(|t| t.clone());
        let (status, error) = match terminated {
            Some((status, error)) => (status, error),
            None => (result.status, result.error.clone()),
        };
        let view = view::View { ctx: &ctx, frame: &frame };
        let mut outputs = serde_json::Map::new();
        for (name, value) in &workflow.outputs {
            let v =
                value.evaluate(&view).unwrap_or_else(|e| json!({"error": e.to_string()}));
            outputs.insert(name.clone(), json!({"value": v}));
        }
        redact(&mut trigger);
        Ok(Run {
            id: run_id,
            workflow: workflow.name.clone(),
            status,
            start,
            end: self.clock.now(),
            trigger,
            actions: result.records,
            error,
            outputs: Value::Object(outputs),
        })
    }
}

/// Logic Apps' run ids: 29 characters, digits and upper-case letters,
/// starting `0858...` in the service; ours start `08585` too.
fn run_id(rng: &mut fastrand::Rng) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::from("08585");
    for _ in 0..24 {
        id.push(DIGITS[rng.usize(..DIGITS.len())] as char);
    }
    id
}

/// The error object of an action: `{"code", "message"}`.
pub(crate) fn error(code: &str, message: impl Into<String>) -> Value {
    json!({"code": code, "message": message.into()})
}

/// Now, from the engine's clock.
pub(crate) fn now(ctx: &RunCtx<'_>) -> OffsetDateTime {
    ctx.engine.clock.now()
}
