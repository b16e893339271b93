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
    outcome::{Headers, JsonText, Outcome, Response, ResponseBody, Shared},
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
    /// `{graph}/{version}/$batch`, parsed once (`None` if it does not parse:
    /// each call then reports why).
    batch_url: Option<reqwest::Url>,
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
    /// The server's certificate was refused: sending again cannot help.
    untrusted: bool,
}

impl Outer {
    /// A transport failure (no HTTP status): the address and the reason
    /// (the URL of a `$batch` call holds no secret; its token is a header),
    /// with how to trust a refused certificate.
    fn transport(e: reqwest::Error, url: &str) -> Outer {
        let untrusted = graphlab_auth::trust::is_untrusted(&e);
        let message = if untrusted {
            format!("{url}: {}", graphlab_auth::trust::explain(&e))
        } else {
            transport_reason(&e, url)
        };
        Outer { status: None, retry_after: None, message, untrusted }
    }
}

type ItemAnswer = (u16, Headers, ResponseBody);

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
    items: Vec<(Shared, ItemAnswer)>,
    lost_page: Option<String>,
}

/// The most pages of one `$batch` answer the client reads: a batch holds at
/// most 20 answers, so a server that keeps sending next links past this is
/// not Graph, and the rest of the answer counts as lost.
const MAX_ANSWER_PAGES: usize = 21;

/// Attempts at fetching one `@odata.nextLink` page.
const PAGE_ATTEMPTS: u32 = 3;

/// "cannot reach URL: why", the why being the innermost cause ("Connection
/// refused (os error 111)"), not reqwest's "error sending request".
fn transport_reason(e: &reqwest::Error, url: &str) -> String {
    if e.is_timeout() {
        return format!("no answer from {url}: timed out");
    }
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        why = cause.to_string();
        source = cause.source();
    }
    format!("cannot reach {url}: {why}")
}

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
        // Graph answers `$batch` itself: no redirect to follow.
        let http = graphlab_auth::Trust::installed()
            .client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(100))
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

    async fn send(&self, payload: Vec<u8>, reauth: bool) -> Result<Answers, Outer> {
        let token = self.tokens.access_token(reauth).await.map_err(|e| Outer {
            status: None,
            retry_after: None,
            message: format!("no access token: {e}"),
            untrusted: false,
        })?;
        let request = match &self.batch_url {
            Some(url) => self.http.post(url.clone()),
            None => self.http.post(format!(
                "{}/{}/$batch",
                self.graph,
                self.config.version.segment()
            )),
        };
        let response = request
            .bearer_auth(token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(|e| Outer::transport(e, &self.batch_address()))?;
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let bytes = response.bytes().await.map_err(|e| Outer {
            status: Some(status),
            retry_after: after,
            message: graphlab_auth::trust::explain(&e),
            untrusted: false,
        })?;
        if status != 200 {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("no Graph error in the answer")
                .to_owned();
            return Err(Outer {
                status: Some(status),
                retry_after: after,
                message,
                untrusted: false,
            });
        }
        let unreadable = |e: String| Outer {
            status: Some(status),
            retry_after: None,
            message: format!("unreadable $batch answer: {e}"),
            untrusted: false,
        };
        let mut items = Vec::new();
        let mut next = read_page(bytes.into(), &mut items).map_err(unreadable)?;
        let mut pages = 1;
        while let Some(link) = next.take() {
            if pages >= MAX_ANSWER_PAGES {
                let reason = format!(
                    "the $batch answer still had a next link after {MAX_ANSWER_PAGES} pages"
                );
                return Ok(Answers { items, lost_page: Some(reason) });
            }
            pages += 1;
            match self.next_page(&link, token.expose(), &mut items).await {
                Ok(link) => next = link,
                Err(reason) => return Ok(Answers { items, lost_page: Some(reason) }),
            }
        }
        Ok(Answers { items, lost_page: None })
    }

    /// Fetches a page of a `$batch` answer into `items`, retrying 429, 5xx and
    /// transport errors a few times (the page is read-only: fetching it again
    /// is safe); returns the page's own next link.
    async fn next_page(
        &self,
        link: &str,
        token: &str,
        items: &mut Vec<(Shared, ItemAnswer)>,
    ) -> Result<Option<String>, String> {
        let mut last = String::new();
        for attempt in 1..=PAGE_ATTEMPTS {
            let answer = self.http.get(link).bearer_auth(token).send().await;
            let wait = match answer {
                Ok(response) if response.status().is_success() => {
                    let bytes =
                        response.bytes().await.map_err(|e| e.without_url().to_string());
                    match bytes.map(|b| read_page(b.into(), items)) {
                        Ok(Ok(next)) => return Ok(next),
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

/// A page of a `$batch` answer, borrowed from its text.
#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(borrow, default)]
    responses: Vec<WireAnswer<'a>>,
    #[serde(rename = "@odata.nextLink", default)]
    next: Option<String>,
}

/// One item's answer, borrowed from the page's text: its headers and body
/// become slices of that text, shared, without a copy.
#[derive(Deserialize)]
struct WireAnswer<'a> {
    #[serde(borrow)]
    id: WireId<'a>,
    status: u16,
    #[serde(borrow, default)]
    headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

/// An item id as Graph echoes it: a string (borrowed unless it has escapes),
/// or a number if one was sent.
enum WireId<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for WireId<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WireId<'a>, D::Error> {
        struct Id<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Id<'a> {
            type Value = WireId<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id (string or number)")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<WireId<'a>, E> {
                Ok(WireId::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_owned()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<WireId<'a>, E> {
                Ok(WireId::Owned(v.to_string()))
            }
        }
        d.deserialize_any(Id(std::marker::PhantomData))
    }
}

/// Reads a page of a `$batch` answer into `items`; returns its next link.
/// The text is checked as UTF-8 once and shared by every answer on the
/// page: ids, headers and bodies are slices of it, not copies.
fn read_page(
    bytes: Vec<u8>,
    items: &mut Vec<(Shared, ItemAnswer)>,
) -> Result<Option<String>, String> {
    let text: Arc<String> = match String::from_utf8(bytes) {
        Ok(text) => Arc::new(text),
        Err(e) => {
            return Err(format!("not UTF-8 (at byte {})", e.utf8_error().valid_up_to()));
        }
    };
    let page: WirePage = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    items.reserve(page.responses.len());
    for answer in page.responses {
        let id = match answer.id {
            WireId::Borrowed(id) => Shared::within(&text, id),
            WireId::Owned(id) => Shared::copy(&id),
        };
        // `null` reads as `None`.
        let headers = match answer.headers {
            Some(raw) => Headers::raw(Shared::within(&text, raw.get())),
            None => Headers::default(),
        };
        let body = match answer.body.map(RawValue::get) {
            None => ResponseBody::Empty,
            // A string body with a non-JSON content type is base64.
            Some(raw)
                if raw.starts_with('"')
                    && headers.get("content-type").is_some_and(|v| {
                        !v.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"json"))
                    }) =>
            {
                match serde_json::from_str::<String>(raw)
                    .ok()
                    .and_then(|b64| STANDARD.decode(b64).ok())
                {
                    Some(bytes) => ResponseBody::Bytes(bytes),
                    None => {
                        ResponseBody::Json(JsonText::shared(Shared::within(&text, raw)))
                    }
                }
            }
            Some(raw) => ResponseBody::Json(JsonText::shared(Shared::within(&text, raw))),
        };
        items.push((id, (answer.status, headers, body)));
    }
    Ok(page.next)
}

/// [`read_page`] for the fuzz targets, reading every part of every answer.
pub(crate) fn read_page_for_fuzz(bytes: Vec<u8>) -> Result<usize, String> {
    let mut items = Vec::new();
    read_page(bytes, &mut items)?;
    for (id, (_, headers, body)) in &items {
        let _ = (id.as_str(), headers.get("content-type"), headers.iter().count());
        match body {
            ResponseBody::Json(text) => {
                let _ = text.to_value();
            }
            ResponseBody::Bytes(bytes) => {
                let _ = bytes.len();
            }
            ResponseBody::Empty => {}
        }
    }
    Ok(items.len())
}

/// Writes one request of a batch as JSON: `{"id", "method", "url",
/// "headers", "body", "dependsOn"}`, borrowing everything.
fn write_request(out: &mut Vec<u8>, item: &BatchItem, depends_on: Option<&str>) {
    out.extend_from_slice(b"{\"id\":");
    json_string(out, &item.id);
    out.extend_from_slice(b",\"method\":\"");
    out.extend_from_slice(item.method.as_str().as_bytes());
    out.extend_from_slice(b"\",\"url\":");
    json_string(out, &item.url);
    // Serializing borrowed strings and values into a Vec cannot fail.
    if !item.headers.is_empty() {
        out.extend_from_slice(b",\"headers\":");
        let _ = serde_json::to_writer(&mut *out, &WireHeaders(&item.headers));
    }
    match &item.body {
        Some(Body::Json(v)) => {
            out.extend_from_slice(b",\"body\":");
            let _ = serde_json::to_writer(&mut *out, v);
        }
        Some(Body::Bytes(b)) => {
            out.extend_from_slice(b",\"body\":");
            json_string(out, &STANDARD.encode(b));
        }
        None => {}
    }
    if let Some(d) = depends_on {
        out.extend_from_slice(b",\"dependsOn\":[");
        json_string(out, d);
        out.push(b']');
    }
    out.push(b'}');
}

/// A JSON string, copied as it is when nothing in it needs escaping (the
/// usual case for ids and URLs); serde_json escapes the rest.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// An item's headers as a JSON object, in order.
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
    fn push(&mut self, w: Waiting, now: Instant, succeeded: impl Fn(usize) -> bool) {
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
            self.schedule(u, now);
        }
    }

    fn schedule(&mut self, u: usize, now: Instant) {
        let Some(w) = &self.units[u] else { return };
        if w.not_before > now {
            self.delayed.push(Reverse((w.not_before, u)));
        } else if w.unit.is_loose() && !w.reauthed {
            self.ready_loose.push_back(u);
        } else {
            self.ready_alone.push_back(u);
        }
    }

    fn on_success(&mut self, item: usize) {
        if self.waiters.is_empty() {
            return;
        }
        let now = Instant::now();
        for u in self.waiters.remove(&item).unwrap_or_default() {
            if self.units[u].is_some() {
                self.unmet[u] -= 1;
                if self.unmet[u] == 0 {
                    self.schedule(u, now);
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
            self.schedule(u, now);
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
        let mut queue = Queue::default();
        for unit in units {
            queue
                .push(Waiting { unit, not_before: now, reauthed: false }, now, |_| false);
        }
        Job {
            client,
            checked,
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
        let mut work = Vec::new();
        let mut next = Some((i, outcome));
        while let Some((i, outcome)) = next.take().or_else(|| work.pop()) {
            if self.outcomes[i].is_some() {
                continue;
            }
            let ok = outcome.is_success();
            if let Outcome::Success(r) = &outcome
                && self.checked.referenced[i]
            {
                self.answers[i] =
                    Some((r.status, r.headers.pairs().to_vec(), r.body_json()));
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
        let lookup =
            Lookup { answers: &self.answers, index: &self.checked.referenced_ids };
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
            write_request(&mut out, item, *depends_on);
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
            .into_iter()
            .zip(self.outcomes)
            .map(|(item, o)| {
                let cancelled = || Outcome::NotSent { reason: "cancelled".into() };
                (item.id, o.unwrap_or_else(cancelled))
            })
            .collect();
        Report { outcomes, batch_calls: self.batch_calls }
    }

    fn requeue(&mut self, unit: Unit, delay: Duration, reauthed: bool) {
        let now = Instant::now();
        let waiting = Waiting { unit, not_before: now + delay, reauthed };
        let outcomes = &self.outcomes;
        self.queue.push(waiting, now, |d| {
            outcomes[d].as_ref().is_some_and(Outcome::is_success)
        });
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
                    .position(|(id, _)| id.as_str() == item.id)
                    .or_else(|| {
                        answers.iter().position(|(id, _)| {
                            id.as_str().eq_ignore_ascii_case(&item.id)
                        })
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
        let transient = !outer.untrusted
            && match outer.status {
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
                } else if transient || outer.untrusted {
                    self.finish(i, Outcome::GaveUp { attempts, last });
                } else {
                    let body =
                        json!({"error": {"code": "BatchRefused", "message": last}});
                    let response = Response {
                        status: outer.status.unwrap_or(0),
                        headers: Headers::default(),
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
            queue
                .push(Waiting { unit, not_before: now, reauthed: false }, now, |_| false);
        }
        let mut sizes = Vec::new();
        while let Some((units, _)) = queue.next_batch(20) {
            sizes.push(units.iter().map(|u| u.items.len()).sum::<usize>());
        }
        assert_eq!(sizes, [14, 8, 20], "every item once, at most 20 a batch");
    }

    #[test]
    fn requests_are_written_as_graph_reads_them() {
        let odd = "q\"uote\\ \u{1}é/";
        let items = [
            BatchItem::get(odd, "/me?$select=id&x=\"y\""),
            BatchItem::post("2", "/groups", json!({"displayName": odd}))
                .set_header("If-Match", "*"),
            BatchItem::new("3", Method::Put, "/me/photo/$value")
                .bytes("image/png", vec![0, 1, 2]),
        ];
        let mut out = Vec::new();
        for (item, depends_on) in items.iter().zip([None, Some(odd), None]) {
            out.clear();
            write_request(&mut out, item, depends_on);
            let written: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(written["id"], item.id.as_str());
            assert_eq!(written["method"], item.method.as_str());
            assert_eq!(written["url"], item.url.as_str());
            for (name, value) in &item.headers {
                assert_eq!(written["headers"][name], value.as_str());
            }
            match &item.body {
                Some(Body::Json(v)) => assert_eq!(&written["body"], v),
                Some(Body::Bytes(_)) => assert_eq!(written["body"], "AAEC"),
                None => assert!(written.get("body").is_none()),
            }
            assert_eq!(written.get("dependsOn"), depends_on.map(|d| json!([d])).as_ref());
        }
    }

    #[test]
    fn a_page_is_read_into_shared_slices() {
        let page = br#"{"responses": [
            {"id": "a\u0041", "status": 201, "headers": {"Location": "/x", "Content-Type": "application/json"}, "body": {"id": "g1"}},
            {"body": "aGk=", "headers": {"content-type": "text/plain"}, "status": 200, "id": 7},
            {"id": "n", "status": 204, "body": null, "headers": null, "extra": [1]}
        ], "@odata.nextLink": "http://h/v1.0/$batch?$skiptoken=t"}"#;
        let mut items = Vec::new();
        let next = read_page(page.to_vec(), &mut items).unwrap();
        assert_eq!(next.as_deref(), Some("http://h/v1.0/$batch?$skiptoken=t"));
        let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["aA", "7", "n"]);
        let (status, headers, body) = &items[0].1;
        assert_eq!(*status, 201);
        assert_eq!(headers.get("location"), Some("/x"));
        assert_eq!(headers.len(), 2);
        let ResponseBody::Json(body) = body else { panic!("{body:?}") };
        assert_eq!(body.get(), r#"{"id": "g1"}"#, "the body's own text");
        assert_eq!(items[1].1.2, ResponseBody::Bytes(b"hi".to_vec()));
        assert_eq!(items[2].1.2, ResponseBody::Empty);
        assert!(items[2].1.1.is_empty());
    }

    #[test]
    fn an_unreadable_page_says_where() {
        let mut items = Vec::new();
        let cases: [(&[u8], &str); 5] = [
            (
                b"{\"responses\": [{\"id\": \"a\", \"status\": 200}",
                "EOF while parsing a list at line 1 column 41",
            ),
            (
                b"{\"responses\": [{\"status\": 200}]}",
                "missing field `id` at line 1 column 30",
            ),
            (
                b"{\"responses\": [{\"id\": \"a\", \"status\": \"ok\"}]}",
                "invalid type: string \"ok\", expected u16 at line 1 column 41",
            ),
            (
                b"{\"responses\": [{\"id\": true, \"status\": 200}]}",
                "invalid type: boolean `true`, expected an id (string or number) at line 1 column 26",
            ),
            (b"{\"responses\": []} x", "trailing characters at line 1 column 19"),
        ];
        for (page, expected) in cases {
            assert_eq!(read_page(page.to_vec(), &mut items).unwrap_err(), expected);
        }
        assert_eq!(
            read_page(b"{\"a\": \"\xff\"}".to_vec(), &mut items).unwrap_err(),
            "not UTF-8 (at byte 7)"
        );
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
