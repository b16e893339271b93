//! The executor: sends the planned units as `$batch` calls, several at once,
//! retries what may be retried, and gives every item exactly one outcome.

use std::{
    borrow::Cow,
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use graphlab_auth::TokenProvider;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json, value::RawValue};
use tokio::task::JoinSet;

use crate::{
    BatchError, BatchItem, Body, Method,
    outcome::{JsonText, Outcome, Response, ResponseBody},
    plan::{self, Checked, Unit},
    reference::{self, Reference},
};

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
        self.outcomes.iter().find(|(i, _)| i.eq_ignore_ascii_case(id)).map(|(_, o)| o)
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
    tokens: Arc<dyn TokenProvider>,
    config: Config,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for BatchClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchClient")
            .field("graph", &self.graph)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A failed `$batch` call as a whole.
#[derive(Debug)]
struct Outer {
    status: Option<u16>,
    retry_after: Option<Duration>,
    message: String,
}

impl Outer {
    /// A transport failure (no HTTP status), without the URL in the message.
    fn transport(e: reqwest::Error) -> Outer {
        Outer { status: None, retry_after: None, message: e.without_url().to_string() }
    }
}

type ItemAnswer = (u16, Vec<(String, String)>, ResponseBody);

/// A progress callback.
type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// What a succeeded item answered, kept for references.
type Answered = (u16, Vec<(String, String)>, Option<Value>);

/// A batch call that came back.
struct Flight {
    units: Vec<Unit>,
    sent: Vec<usize>,
    reauthed: bool,
    result: Result<Answers, Outer>,
}

/// A `$batch` answer: the item answers read, and, when a later page of it
/// could not be fetched, why (the items on that page were run by Graph, but
/// their answers are lost).
struct Answers {
    items: Vec<(String, ItemAnswer)>,
    lost_page: Option<String>,
}

/// Attempts at fetching one `@odata.nextLink` page.
const PAGE_ATTEMPTS: u32 = 3;

/// Parses `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

impl BatchClient {
    /// A client of `graph` (e.g. `https://graph.microsoft.com`, or the
    /// emulator's URL) with tokens from `tokens`.
    pub fn new(
        graph: &str,
        tokens: Arc<dyn TokenProvider>,
        config: Config,
    ) -> BatchClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(100))
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .unwrap_or_default();
        let config = Config {
            max_per_batch: config.max_per_batch.clamp(1, 20),
            concurrency: config.concurrency.max(1),
            ..config
        };
        BatchClient {
            http,
            graph: graph.trim_end_matches('/').to_owned(),
            tokens,
            config,
            progress: None,
        }
    }

    /// Uses this HTTP client.
    pub fn with_http(mut self, http: reqwest::Client) -> BatchClient {
        self.http = http;
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

    /// Checks, plans and runs the items; every item gets one outcome.
    pub async fn run(&self, items: Vec<BatchItem>) -> Result<Report, BatchError> {
        let hosts = self.hosts();
        let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let checked = plan::check(items, self.config.version.segment(), &host_refs)?;
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

    async fn send(&self, payload: Vec<u8>, reauth: bool) -> Result<Answers, Outer> {
        let token = self.tokens.access_token(reauth).await.map_err(|e| Outer {
            status: None,
            retry_after: None,
            message: format!("no access token: {e}"),
        })?;
        let url = format!("{}/{}/$batch", self.graph, self.config.version.segment());
        let response = self
            .http
            .post(&url)
            .bearer_auth(token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(Outer::transport)?;
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let bytes = response.bytes().await.map_err(|e| Outer {
            status: Some(status),
            retry_after: after,
            message: e.without_url().to_string(),
        })?;
        if status != 200 {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("no Graph error in the answer")
                .to_owned();
            return Err(Outer { status: Some(status), retry_after: after, message });
        }
        let unreadable = |e: serde_json::Error| Outer {
            status: Some(status),
            retry_after: None,
            message: format!("unreadable $batch answer: {e}"),
        };
        let page: WirePage = serde_json::from_slice(&bytes).map_err(unreadable)?;
        let mut next = page.next;
        let mut items: Vec<(String, ItemAnswer)> =
            page.responses.into_iter().map(WireAnswer::into_answer).collect();
        while let Some(link) = next.take() {
            match self.next_page(&link, token.expose()).await {
                Ok(page) => {
                    items.extend(page.responses.into_iter().map(WireAnswer::into_answer));
                    next = page.next;
                }
                Err(reason) => return Ok(Answers { items, lost_page: Some(reason) }),
            }
        }
        Ok(Answers { items, lost_page: None })
    }

    /// Fetches a page of a `$batch` answer, retrying 429, 5xx and transport
    /// errors a few times (the page is read-only: fetching it again is safe).
    async fn next_page(&self, link: &str, token: &str) -> Result<WirePage, String> {
        let mut last = String::new();
        for attempt in 1..=PAGE_ATTEMPTS {
            let answer = self.http.get(link).bearer_auth(token).send().await;
            let wait = match answer {
                Ok(response) if response.status().is_success() => {
                    let bytes =
                        response.bytes().await.map_err(|e| e.without_url().to_string());
                    match bytes.map(|b| serde_json::from_slice::<WirePage>(&b)) {
                        Ok(Ok(page)) => return Ok(page),
                        Ok(Err(e)) => {
                            return Err(format!(
                                "unreadable page of the $batch answer: {e}"
                            ));
                        }
                        Err(e) => {
                            last = e;
                            None
                        }
                    }
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    last =
                        format!("the next page of the $batch answer answered {status}");
                    if !(status == 429 || status >= 500) {
                        return Err(last);
                    }
                    response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(retry_after)
                }
                Err(e) => {
                    last = e.without_url().to_string();
                    None
                }
            };
            if attempt < PAGE_ATTEMPTS {
                tokio::time::sleep(wait.unwrap_or(self.config.base_delay * attempt))
                    .await;
            }
        }
        Err(last)
    }
}

/// A page of a `$batch` answer.
#[derive(Deserialize)]
struct WirePage {
    #[serde(default)]
    responses: Vec<WireAnswer>,
    #[serde(rename = "@odata.nextLink", default)]
    next: Option<String>,
}

/// One item's answer, read straight from the bytes.
#[derive(Deserialize)]
struct WireAnswer {
    id: WireId,
    status: u16,
    #[serde(default, deserialize_with = "header_list")]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<Box<RawValue>>,
}

/// An item's `headers` object, read straight into name/value pairs (a value
/// that is not a string, which Graph does not send, keeps its JSON text).
fn header_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct Pairs;
    impl<'de> serde::de::Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of headers")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some(name) = map.next_key::<String>()? {
                let value = match map.next_value::<Value>()? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                pairs.push((name, value));
            }
            Ok(pairs)
        }
    }
    d.deserialize_any(Pairs)
}

/// An item id as Graph echoes it: a string, or a number if one was sent
/// (read without serde's untagged buffering, which costs an allocation).
struct WireId(String);

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WireId, D::Error> {
        struct Id;
        impl serde::de::Visitor<'_> for Id {
            type Value = WireId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id (string or number)")
            }
            fn visit_str<E>(self, v: &str) -> Result<WireId, E> {
                Ok(WireId(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<WireId, E> {
                Ok(WireId(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<WireId, E> {
                Ok(WireId(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<WireId, E> {
                Ok(WireId(v.to_string()))
            }
        }
        d.deserialize_any(Id)
    }
}

impl WireAnswer {
    fn into_answer(self) -> (String, ItemAnswer) {
        let id = self.id.0;
        let headers = self.headers;
        let json = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .is_none_or(|(_, v)| {
                v.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"json"))
            });
        let body = match self.body {
            None => ResponseBody::Empty,
            Some(raw) if raw.get() == "null" => ResponseBody::Empty,
            // A string body with a non-JSON content type is base64.
            Some(raw) if !json && raw.get().starts_with('"') => {
                match serde_json::from_str::<String>(raw.get())
                    .ok()
                    .and_then(|s| STANDARD.decode(s).ok())
                {
                    Some(bytes) => ResponseBody::Bytes(bytes),
                    None => ResponseBody::Json(JsonText::new(raw)),
                }
            }
            Some(raw) => ResponseBody::Json(JsonText::new(raw)),
        };
        (id, (self.status, headers, body))
    }
}

/// One request as it goes on the wire (borrowed: no copies).
#[derive(Serialize)]
struct WireItem<'a> {
    id: &'a str,
    method: &'static str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<WireHeaders<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<WireBody<'a>>,
    #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<[&'a str; 1]>,
}

struct WireHeaders<'a>(&'a [(String, String)]);

impl Serialize for WireHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireBody<'a> {
    Json(&'a Value),
    Base64(String),
}

/// A unit waiting to be sent.
#[derive(Debug)]
struct Waiting {
    unit: Unit,
    not_before: Instant,
    reauthed: bool,
}

/// The units not yet sent, indexed so that each step costs O(1) amortized:
/// a unit becomes ready when its last external dependency succeeds, and fails
/// at once when one fails.
#[derive(Debug, Default)]
struct Queue {
    units: Vec<Option<Waiting>>,
    unmet: Vec<usize>,
    waiters: HashMap<usize, Vec<usize>>,
    ready_loose: VecDeque<usize>,
    ready_alone: VecDeque<usize>,
    delayed: BinaryHeap<Reverse<(Instant, usize)>>,
    live: usize,
}

impl Queue {
    fn push(&mut self, w: Waiting, succeeded: impl Fn(usize) -> bool) {
        let u = self.units.len();
        let unmet: Vec<usize> =
            w.unit.external.iter().copied().filter(|&d| !succeeded(d)).collect();
        for &d in &unmet {
            self.waiters.entry(d).or_default().push(u);
        }
        self.unmet.push(unmet.len());
        self.units.push(Some(w));
        self.live += 1;
        if unmet.is_empty() {
            self.schedule(u);
        }
    }

    fn schedule(&mut self, u: usize) {
        let Some(w) = &self.units[u] else { return };
        if w.not_before > Instant::now() {
            self.delayed.push(Reverse((w.not_before, u)));
        } else if w.unit.is_loose() && !w.reauthed {
            self.ready_loose.push_back(u);
        } else {
            self.ready_alone.push_back(u);
        }
    }

    fn on_success(&mut self, item: usize) {
        for u in self.waiters.remove(&item).unwrap_or_default() {
            if self.units[u].is_some() {
                self.unmet[u] -= 1;
                if self.unmet[u] == 0 {
                    self.schedule(u);
                }
            }
        }
    }

    /// The units that can no longer be sent because `item` failed.
    fn on_failure(&mut self, item: usize) -> Vec<Waiting> {
        let mut failed = Vec::new();
        for u in self.waiters.remove(&item).unwrap_or_default() {
            if let Some(w) = self.units[u].take() {
                self.live -= 1;
                failed.push(w);
            }
        }
        failed
    }

    fn take(&mut self, u: usize) -> Option<Waiting> {
        let w = self.units[u].take()?;
        self.live -= 1;
        Some(w)
    }

    /// The next batch: a unit that must go alone, or loose units up to `max` items.
    fn next_batch(&mut self, max: usize) -> Option<(Vec<Unit>, bool)> {
        let now = Instant::now();
        while let Some(Reverse((when, u))) = self.delayed.peek().copied() {
            if when > now {
                break;
            }
            self.delayed.pop();
            if let Some(w) = self.units[u].as_mut() {
                w.not_before = now;
            }
            self.schedule(u);
        }
        while let Some(u) = self.ready_alone.pop_front() {
            if let Some(w) = self.take(u) {
                return Some((vec![w.unit], w.reauthed));
            }
        }
        let mut units = Vec::new();
        let mut size = 0;
        while let Some(&u) = self.ready_loose.front() {
            let Some(w) = &self.units[u] else {
                // Already taken (failed, or sent alone after a re-auth).
                self.ready_loose.pop_front();
                continue;
            };
            // Never more than `max` in one batch: a unit that does not fit
            // waits for the next one.
            if size + w.unit.items.len() > max && size > 0 {
                break;
            }
            self.ready_loose.pop_front();
            if let Some(w) = self.take(u) {
                size += w.unit.items.len();
                units.push(w.unit);
            }
        }
        (!units.is_empty()).then_some((units, false))
    }

    fn next_wake(&self) -> Option<Instant> {
        self.delayed.peek().map(|Reverse((when, _))| *when)
    }

    /// Units still waiting (for dependencies that will never complete, at the end).
    fn drain(&mut self) -> Vec<Waiting> {
        self.live = 0;
        self.units.iter_mut().filter_map(Option::take).collect()
    }
}

struct Job<'a> {
    client: &'a BatchClient,
    checked: Checked,
    index: HashMap<String, usize>,
    outcomes: Vec<Option<Outcome>>,
    answers: Vec<Option<Answered>>,
    attempts: Vec<u32>,
    first_sent: Vec<Option<Instant>>,
    queue: Queue,
    batch_calls: usize,
}

struct Lookup<'j> {
    answers: &'j [Option<Answered>],
    index: &'j HashMap<String, usize>,
}

impl reference::Source for Lookup<'_> {
    fn lookup(&self, r: &Reference) -> Option<Value> {
        let i = *self.index.get(&r.id.to_lowercase())?;
        let (status, headers, body) = self.answers[i].as_ref()?;
        reference::lookup(*status, headers, body.as_ref(), &r.path)
    }
}

impl<'a> Job<'a> {
    fn new(client: &'a BatchClient, checked: Checked, units: Vec<Unit>) -> Job<'a> {
        let n = checked.items.len();
        let now = Instant::now();
        let index = checked
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.to_lowercase(), i))
            .collect();
        let mut queue = Queue::default();
        for unit in units {
            queue.push(Waiting { unit, not_before: now, reauthed: false }, |_| false);
        }
        Job {
            client,
            checked,
            index,
            outcomes: vec![None; n],
            answers: vec![None; n],
            attempts: vec![0; n],
            first_sent: vec![None; n],
            queue,
            batch_calls: 0,
        }
    }

    /// Gives item `i` its outcome; a failure fails, in turn, every unit that
    /// depends on it.
    fn finish(&mut self, i: usize, outcome: Outcome) {
        let mut work = vec![(i, outcome)];
        while let Some((i, outcome)) = work.pop() {
            if self.outcomes[i].is_some() {
                continue;
            }
            let ok = outcome.is_success();
            if let Outcome::Success(r) = &outcome
                && self.checked.referenced[i]
            {
                self.answers[i] = Some((r.status, r.headers.clone(), r.body_json()));
            }
            if self.client.progress.is_some() {
                self.client.emit(&Progress::Done {
                    id: self.checked.items[i].id.clone(),
                    label: outcome.label(),
                });
            }
            self.outcomes[i] = Some(outcome);
            if ok {
                self.queue.on_success(i);
            } else {
                let on = self.checked.items[i].id.clone();
                for w in self.queue.on_failure(i) {
                    for &j in &w.unit.items {
                        work.push((j, Outcome::FailedDependency { on: on.clone() }));
                    }
                }
            }
        }
    }

    /// Writes the batch payload (JSON bytes); items whose references cannot
    /// be resolved get their outcome and are left out.
    fn payload(&mut self, units: &[Unit]) -> (Vec<u8>, Vec<usize>) {
        let mut sent = Vec::new();
        let mut wire: Vec<(usize, Cow<'_, BatchItem>, Option<&str>)> = Vec::new();
        // Items left out of the batch, with their outcome.
        let mut left_out: Vec<(usize, Outcome)> = Vec::new();
        let lookup = Lookup { answers: &self.answers, index: &self.index };
        for unit in units {
            for (pos, &i) in unit.items.iter().enumerate() {
                let item = &self.checked.items[i];
                let parent = unit.wire[pos].map(|w| unit.items[w]);
                if let Some(p) = parent
                    && !sent.contains(&p)
                {
                    // Its dependency in this batch could not be written.
                    left_out.push((
                        i,
                        Outcome::FailedDependency {
                            on: self.checked.items[p].id.clone(),
                        },
                    ));
                    continue;
                }
                let resolved = if self.checked.late[i] {
                    resolve(item, &lookup).map(Cow::Owned)
                } else {
                    Ok(Cow::Borrowed(item))
                };
                match resolved {
                    Ok(item) => {
                        wire.push((
                            i,
                            item,
                            parent.map(|p| self.checked.items[p].id.as_str()),
                        ));
                        sent.push(i);
                    }
                    Err(reason) => left_out.push((i, Outcome::NotSent { reason })),
                }
            }
        }
        let mut out = Vec::with_capacity(64 + wire.len() * 96);
        out.extend_from_slice(b"{\"requests\":[");
        for (n, (_, item, depends_on)) in wire.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let body = match &item.body {
                Some(Body::Json(v)) => Some(WireBody::Json(v)),
                Some(Body::Bytes(b)) => Some(WireBody::Base64(STANDARD.encode(b))),
                None => None,
            };
            let entry = WireItem {
                id: &item.id,
                method: item.method.as_str(),
                url: &item.url,
                headers: (!item.headers.is_empty()).then_some(WireHeaders(&item.headers)),
                body,
                depends_on: depends_on.map(|d| [d]),
            };
            // Serializing borrowed strings and values into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &entry);
        }
        out.extend_from_slice(b"]}");
        drop(wire);
        for (i, outcome) in left_out {
            self.finish(i, outcome);
        }
        (out, sent)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let c = &self.client.config;
        let exp = c.base_delay.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(c.max_delay);
        capped.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    async fn run(mut self) -> Report {
        let mut in_flight: JoinSet<Flight> = JoinSet::new();
        loop {
            while in_flight.len() < self.client.config.concurrency {
                let Some((units, reauth)) =
                    self.queue.next_batch(self.client.config.max_per_batch)
                else {
                    break;
                };
                let (payload, sent) = self.payload(&units);
                if sent.is_empty() {
                    continue;
                }
                let now = Instant::now();
                for &i in &sent {
                    self.attempts[i] += 1;
                    self.first_sent[i].get_or_insert(now);
                }
                self.batch_calls += 1;
                self.client.emit(&Progress::BatchSent { items: sent.len() });
                let client = self.client.clone();
                let span = tracing::debug_span!(
                    "batch_call",
                    n = self.batch_calls,
                    items = sent.len()
                );
                in_flight.spawn(tracing::Instrument::instrument(
                    async move {
                        let result = client.send(payload, reauth).await;
                        Flight { units, sent, reauthed: reauth, result }
                    },
                    span,
                ));
            }
            if in_flight.is_empty() {
                // Nothing can go now: wait for the earliest retry, if any.
                if let Some(wake) = self.queue.next_wake() {
                    tokio::time::sleep_until(wake.into()).await;
                    continue;
                }
                // Units whose dependencies will never complete (none, unless a bug).
                for w in self.queue.drain() {
                    for &i in &w.unit.items {
                        self.finish(
                            i,
                            Outcome::NotSent {
                                reason: "its dependencies did not complete".into(),
                            },
                        );
                    }
                }
                break;
            }
            if let Some(Ok(flight)) = in_flight.join_next().await {
                self.absorb(flight);
            }
        }
        let outcomes = self
            .checked
            .items
            .iter()
            .zip(self.outcomes)
            .map(|(item, o)| {
                (
                    item.id.clone(),
                    o.unwrap_or(Outcome::NotSent { reason: "cancelled".into() }),
                )
            })
            .collect();
        Report { outcomes, batch_calls: self.batch_calls }
    }

    fn requeue(&mut self, unit: Unit, delay: Duration, reauthed: bool) {
        let waiting = Waiting { unit, not_before: Instant::now() + delay, reauthed };
        let outcomes = &self.outcomes;
        self.queue
            .push(waiting, |d| outcomes[d].as_ref().is_some_and(Outcome::is_success));
    }

    fn absorb(&mut self, flight: Flight) {
        let Flight { units, sent, reauthed, result } = flight;
        let (answers, lost_page) = match result {
            Ok(Answers { items, lost_page }) => (items, lost_page),
            Err(outer) => return self.absorb_outer(units, &sent, reauthed, outer),
        };
        // At most 20 answers: a linear search beats hashing every id.
        let mut answers = answers;
        for unit in units {
            let mut retry: Vec<usize> = Vec::new();
            let mut delay = Duration::ZERO;
            for (pos, &i) in unit.items.iter().enumerate() {
                if !sent.contains(&i) || self.outcomes[i].is_some() {
                    continue;
                }
                let item = &self.checked.items[i];
                // Graph echoes ids as sent; a case-insensitive match is the fallback.
                let answer = answers
                    .iter()
                    .position(|(id, _)| *id == item.id)
                    .or_else(|| {
                        answers
                            .iter()
                            .position(|(id, _)| id.eq_ignore_ascii_case(&item.id))
                    })
                    .map(|at| answers.swap_remove(at).1);
                let Some((status, headers, body)) = answer else {
                    // No answer for the item. If a page of the answer was lost,
                    // Graph did run it: only a request that is safe to repeat
                    // is sent again.
                    if let Some(reason) = &lost_page
                        && !matches!(
                            item.method,
                            Method::Get | Method::Put | Method::Delete
                        )
                    {
                        let last = format!(
                            "{reason}; not sent again, as it may have been applied"
                        );
                        self.finish(
                            i,
                            Outcome::GaveUp { attempts: self.attempts[i], last },
                        );
                    } else {
                        retry.push(pos);
                    }
                    continue;
                };
                let attempts = self.attempts[i];
                let response = Response { status, headers, body, attempts };
                if status < 400 {
                    self.finish(i, Outcome::Success(response));
                    continue;
                }
                if status == 424
                    && let Some(w) = unit.wire[pos]
                {
                    // Its dependency in this batch will be retried: so is it.
                    if retry.contains(&w) {
                        self.attempts[i] -= 1;
                        retry.push(pos);
                    } else {
                        let on = self.checked.items[unit.items[w]].id.clone();
                        self.finish(i, Outcome::FailedDependency { on });
                    }
                    continue;
                }
                let transient = matches!(status, 429 | 503 | 504)
                    && attempts < self.client.config.max_attempts;
                let waiting_out = item.retry_statuses.contains(&status)
                    && self.first_sent[i].is_some_and(|t| t.elapsed() < item.retry_for);
                if transient || waiting_out {
                    let wait = response
                        .header("retry-after")
                        .and_then(retry_after)
                        .unwrap_or_else(|| self.backoff(attempts));
                    delay = delay.max(wait);
                    self.client
                        .emit(&Progress::Retrying { id: item.id.clone(), after: wait });
                    retry.push(pos);
                } else if matches!(status, 429 | 503 | 504) {
                    self.finish(
                        i,
                        Outcome::GaveUp {
                            attempts,
                            last: format!("{status}: {}", response_summary(&response)),
                        },
                    );
                } else {
                    self.finish(i, Outcome::HttpError(response));
                }
            }
            if !retry.is_empty() {
                for sub in regroup(&unit, &retry, &self.checked) {
                    self.requeue(sub, delay, false);
                }
            }
        }
    }

    fn absorb_outer(
        &mut self,
        units: Vec<Unit>,
        sent: &[usize],
        reauthed: bool,
        outer: Outer,
    ) {
        if outer.status == Some(401) && !reauthed {
            // Re-acquire the token once, then send the same batch again.
            for &i in sent {
                self.attempts[i] -= 1;
            }
            for unit in units {
                self.requeue(unit, Duration::ZERO, true);
            }
            return;
        }
        let transient = match outer.status {
            None => true,
            Some(s) => s == 429 || s >= 500,
        };
        for unit in units {
            let mut keep = Vec::new();
            for (pos, &i) in unit.items.iter().enumerate() {
                if !sent.contains(&i) || self.outcomes[i].is_some() {
                    continue;
                }
                let attempts = self.attempts[i];
                let last = match outer.status {
                    Some(s) => format!("the $batch call answered {s}: {}", outer.message),
                    None => format!("the $batch call failed: {}", outer.message),
                };
                if transient && attempts < self.client.config.max_attempts {
                    keep.push(pos);
                } else if transient {
                    self.finish(i, Outcome::GaveUp { attempts, last });
                } else {
                    let body =
                        json!({"error": {"code": "BatchRefused", "message": last}});
                    let response = Response {
                        status: outer.status.unwrap_or(0),
                        headers: Vec::new(),
                        body: ResponseBody::Json(JsonText::from_value(&body)),
                        attempts,
                    };
                    self.finish(i, Outcome::HttpError(response));
                }
            }
            if !keep.is_empty() {
                let attempts =
                    keep.iter().map(|&p| self.attempts[unit.items[p]]).max().unwrap_or(1);
                let delay = outer.retry_after.unwrap_or_else(|| self.backoff(attempts));
                for sub in regroup(&unit, &keep, &self.checked) {
                    self.requeue(sub, delay, false);
                }
            }
        }
    }
}

fn response_summary(r: &Response) -> String {
    r.graph_error().map(|(c, m)| format!("{c}: {m}")).unwrap_or_else(|| "no body".into())
}

/// The part of `unit` at `positions` to send again, keeping its dependencies
/// inside the part (those outside have succeeded) when the shape allows.
fn regroup(unit: &Unit, positions: &[usize], checked: &Checked) -> Vec<Unit> {
    let mut positions = positions.to_vec();
    positions.sort_unstable();
    positions.dedup();
    let items: Vec<usize> = positions.iter().map(|&p| unit.items[p]).collect();
    let wire: Vec<Option<usize>> = positions
        .iter()
        .map(|&p| unit.wire[p].and_then(|w| positions.iter().position(|&q| q == w)))
        .collect();
    if plan::graph_accepts(&wire) {
        let external = unit.external.clone();
        return vec![Unit { items, wire, external }];
    }
    items.iter().map(|&i| Unit::single(i, &checked.deps[i])).collect()
}

fn resolve(
    item: &BatchItem,
    source: &dyn reference::Source,
) -> Result<BatchItem, String> {
    let mut out = item.clone();
    out.url = reference::resolve_text(&item.url, source)?;
    for (_, v) in &mut out.headers {
        *v = reference::resolve_text(v, source)?;
    }
    if let Some(Body::Json(body)) = &item.body {
        out.body = Some(Body::Json(reference::resolve_json(body, source)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_units_are_packed_without_passing_the_batch_size() {
        // Regression: retried parts of batches (loose units of several
        // items) were packed while the batch had room left, up to 26.
        let mut queue = Queue::default();
        let now = Instant::now();
        for (first, len) in [(0, 7), (7, 7), (14, 7), (21, 1), (22, 20)] {
            let unit = Unit {
                items: (first..first + len).collect(),
                wire: vec![None; len],
                external: Vec::new(),
            };
            queue.push(Waiting { unit, not_before: now, reauthed: false }, |_| false);
        }
        let mut sizes = Vec::new();
        while let Some((units, _)) = queue.next_batch(20) {
            sizes.push(units.iter().map(|u| u.items.len()).sum::<usize>());
        }
        assert_eq!(sizes, [14, 8, 20], "every item once, at most 20 a batch");
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let wait = retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            (Duration::from_secs(118)..=Duration::from_secs(120)).contains(&wait),
            "{wait:?}"
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a past date: now"
        );
        assert_eq!(retry_after("soon"), None);
    }
}
