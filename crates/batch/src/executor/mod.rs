//! The executor: sends the planned units as `$batch` calls, several at once,
//! retries what may be retried, and gives every item exactly one outcome.
//!
//! `mod.rs` holds the public types and the client; `transport.rs` makes the
//! `$batch` calls and follows their pages; `wire.rs` writes requests and
//! reads answers; `queue.rs` holds the units waiting to be sent; `job.rs`
//! is the coordinator loop; `retry.rs` decides what is sent again, and when.

use std::{collections::HashMap, sync::Arc, time::Duration};

use graphlab_auth::TokenProvider;

use crate::{
    BatchError, BatchItem, Caseless,
    clock::{Clock, TokioClock},
    outcome::Outcome,
    plan,
};

mod job;
use job::Job;
mod queue;
mod retry;
mod transport;
mod wire;

pub use retry::retry_after;
pub(crate) use wire::read_page_for_fuzz;

/// `/v1.0` or `/beta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// v1.0
    #[default]
    V1,
    /// beta
    Beta,
}

impl Version {
    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Items per batch, 1–20.
    pub max_per_batch: usize,
    /// Batches in flight at once.
    pub concurrency: usize,
    /// Attempts per item for 429, 503, 504 and transport errors.
    pub max_attempts: u32,
    /// First backoff delay (doubles, with jitter, up to `max_delay`).
    pub base_delay: Duration,
    /// Longest backoff delay (a server's `Retry-After` may ask for more).
    pub max_delay: Duration,
    /// Graph version for every item.
    pub version: Version,
    /// Refuse item URLs that Graph refuses (absolute, or naming the
    /// version) instead of making them relative.
    pub strict_urls: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_per_batch: 20,
            concurrency: 4,
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            version: Version::V1,
            strict_urls: false,
        }
    }
}

/// What the executor reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A `$batch` call with this many items was sent.
    BatchSent {
        /// Items in it.
        items: usize,
    },
    /// An item will be sent again after `after`.
    Retrying {
        /// The item.
        id: String,
        /// The delay.
        after: Duration,
    },
    /// An item has its outcome.
    Done {
        /// The item.
        id: String,
        /// Its status or kind of failure.
        label: String,
    },
}

/// The result of a job: outcomes in request order, and counts.
#[derive(Debug, Clone)]
pub struct Report {
    /// `(id, outcome)` in the order the items were given.
    pub outcomes: Vec<(String, Outcome)>,
    /// `$batch` calls made.
    pub batch_calls: usize,
}

impl Report {
    /// Whether every item succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.outcomes.iter().all(|(_, o)| o.is_success())
    }

    /// The outcome of `id`.
    pub fn get(&self, id: &str) -> Option<&Outcome> {
        let id = Caseless(id);
        self.outcomes.iter().find(|(i, _)| Caseless(i) == id).map(|(_, o)| o)
    }

    /// Count of outcomes by label, sorted.
    pub fn summary(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (_, o) in &self.outcomes {
            *counts.entry(o.label()).or_default() += 1;
        }
        let mut list: Vec<_> = counts.into_iter().collect();
        list.sort();
        list
    }
}

/// The JSON-batch client.
#[derive(Clone)]
pub struct BatchClient {
    http: reqwest::Client,
    graph: String,
    /// `{graph}/{version}/$batch`, parsed once (`None` if it does not parse:
    /// each call then reports why).
    batch_url: Option<reqwest::Url>,
    tokens: Arc<dyn TokenProvider>,
    config: Config,
    progress: Option<ProgressFn>,
    /// Where waits and deadlines read the time.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for BatchClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchClient")
            .field("graph", &self.graph)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A progress callback.
type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

impl BatchClient {
    /// A client of `graph` (e.g. `https://graph.microsoft.com`, or the
    /// emulator's URL) with tokens from `tokens`.
    pub fn new(
        graph: &str,
        tokens: Arc<dyn TokenProvider>,
        config: Config,
    ) -> BatchClient {
        // Graph answers `$batch` itself: no redirect to follow.
        let http = graphlab_auth::Trust::installed()
            .client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(graphlab_auth::trust::GRAPH_TIMEOUT)
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .unwrap_or_default();
        let config = Config {
            max_per_batch: config.max_per_batch.clamp(1, 20),
            concurrency: config.concurrency.max(1),
            ..config
        };
        let graph = graph.trim_end_matches('/').to_owned();
        BatchClient {
            http,
            batch_url: reqwest::Url::parse(&format!(
                "{graph}/{}/$batch",
                config.version.segment()
            ))
            .ok(),
            graph,
            tokens,
            config,
            progress: None,
            clock: Arc::new(TokioClock),
        }
    }

    /// Uses this HTTP client.
    pub fn with_http(mut self, http: reqwest::Client) -> BatchClient {
        self.http = http;
        self
    }

    /// Reads the time and waits on `clock` (tests give a
    /// [`VirtualClock`](crate::VirtualClock), so that no retry waits real
    /// time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> BatchClient {
        self.clock = clock;
        self
    }

    /// Calls `f` with progress events.
    pub fn on_progress(
        mut self,
        f: impl Fn(&Progress) + Send + Sync + 'static,
    ) -> BatchClient {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn emit(&self, p: &Progress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }

    fn hosts(&self) -> Vec<String> {
        let mut hosts = vec!["graph.microsoft.com".to_owned()];
        if let Some(rest) = self.graph.split("://").nth(1) {
            hosts.push(rest.split('/').next().unwrap_or("").to_owned());
        }
        hosts
    }

    /// What the client does with `url`, which Graph itself would refuse in a
    /// `$batch` item: see [`plan::rewrite`].
    pub fn rewrite(&self, url: &str) -> Result<Option<plan::Rewrite>, String> {
        let hosts = self.hosts();
        let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        plan::rewrite(url, self.config.version.segment(), &host_refs)
    }

    /// Checks, plans and runs the items; every item gets one outcome.
    pub async fn run(&self, items: Vec<BatchItem>) -> Result<Report, BatchError> {
        let hosts = self.hosts();
        let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let checked = plan::check(
            items,
            self.config.version.segment(),
            &host_refs,
            self.config.strict_urls,
        )?;
        let units = plan::plan(&checked, self.config.max_per_batch);
        let span = tracing::info_span!(
            "batch_job",
            items = checked.items.len(),
            units = units.len()
        );
        let _enter = span.enter();
        Ok(Job::new(self, checked, units).run().await)
    }

    /// Runs a long job in windows of `window` items read from `items`, so that
    /// memory stays flat however long the input is; `on_outcome` gets each
    /// item's outcome, window by window, in request order. Dependencies must
    /// stay within a window. Returns the number of items and of batch calls.
    pub async fn run_stream<I>(
        &self,
        items: I,
        window: usize,
        mut on_outcome: impl FnMut(String, Outcome),
    ) -> Result<(usize, usize), BatchError>
    where
        I: IntoIterator<Item = Result<BatchItem, BatchError>>,
    {
        let window = window.max(self.config.max_per_batch);
        let mut iter = items.into_iter();
        let (mut total, mut calls) = (0, 0);
        loop {
            let chunk: Vec<BatchItem> =
                iter.by_ref().take(window).collect::<Result<_, _>>()?;
            if chunk.is_empty() {
                return Ok((total, calls));
            }
            total += chunk.len();
            let report = self.run(chunk).await.map_err(|e| match e {
                BatchError::Invalid { id, message } if message.contains("not an item of this job") => {
                    BatchError::Invalid {
                        id,
                        message: format!(
                            "{message} (in a stream, dependencies must be within the same {window} items)"
                        ),
                    }
                }
                other => other,
            })?;
            calls += report.batch_calls;
            for (id, outcome) in report.outcomes {
                on_outcome(id, outcome);
            }
        }
    }

    /// The `$batch` endpoint, for messages.
    fn batch_address(&self) -> String {
        match &self.batch_url {
            Some(url) => url.to_string(),
            None => format!("{}/{}/$batch", self.graph, self.config.version.segment()),
        }
    }
}
