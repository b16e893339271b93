//! Fault injection and throttling, in the spirit of Dev Proxy, applied to
//! direct calls and to each item of a `$batch` alike.
//!
//! A [`ChaosConfig`] (from `--chaos FILE`, or `PUT /_graphlab/chaos` at run
//! time) holds fault rules and an optional per-user rate limit:
//!
//! ```json
//! {
//!   "seed": 7,
//!   "rules": [
//!     { "path": "/users/*", "scope": "batchItem", "rates": { "429": 0.3, "503": 0.05 },
//!       "retryAfterSecs": 1 },
//!     { "method": "GET", "path": "/me", "latencyMs": 50 }
//!   ],
//!   "rateLimit": { "requests": 100, "perSeconds": 10 }
//! }
//! ```
//!
//! Decisions are deterministic: whether the n-th occurrence of a request
//! (method, URL and, inside a batch, item id) faults depends only on the seed
//! and n, not on timing. A 429 sets a penalty: the same request retried before
//! its `Retry-After` has elapsed is throttled again.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{HeaderName, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::{Stats, Tenant, auth::Principal, error::GraphError};

/// Fault injection and rate limiting settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChaosConfig {
    /// Seed for the deterministic fault decisions.
    #[serde(default)]
    pub seed: u64,
    /// Fault rules; the first that matches a request applies.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// A per-user token bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Answers `$batch` with at most this many responses, the rest behind an
    /// `@odata.nextLink` (`GET .../$batch?$skiptoken=...`), as Graph may page
    /// a batch answer; for testing clients that must follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_page_size: Option<usize>,
}

/// Where a rule applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    /// Direct calls and batch items.
    #[default]
    Any,
    /// Direct calls only (including the `$batch` call itself).
    Direct,
    /// Items inside a `$batch` only.
    BatchItem,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method to match (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path under the version root; `*` matches any run of characters.
    #[serde(default = "any_path")]
    pub path: String,
    /// Direct calls, batch items, or both.
    #[serde(default)]
    pub scope: Scope,
    /// Probability of each status: keys 429, 500, 503, 504; sum at most 1.
    #[serde(default)]
    pub rates: BTreeMap<u16, f64>,
    /// `Retry-After` seconds sent with 429 and 503.
    #[serde(default = "one")]
    pub retry_after_secs: u64,
    /// Latency added to every matching request, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

fn any_path() -> String {
    "*".to_owned()
}

fn one() -> u64 {
    1
}

/// A per-user token bucket: `requests` per `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Bucket capacity (and requests allowed per window).
    pub requests: u32,
    /// Window length in seconds.
    pub per_seconds: f64,
}

/// Why a chaos configuration was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChaosError(String);

impl ChaosConfig {
    /// Parses and checks a configuration.
    pub fn from_json(text: &str) -> Result<ChaosConfig, ChaosError> {
        let config: ChaosConfig = serde_json::from_str(text).map_err(|e| {
            ChaosError(format!("line {}, column {}: {e}", e.line(), e.column()))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks rates, statuses and limits.
    pub fn validate(&self) -> Result<(), ChaosError> {
        for (i, rule) in self.rules.iter().enumerate() {
            let mut sum = 0.0;
            for (status, rate) in &rule.rates {
                if ![429, 500, 503, 504].contains(status) {
                    return Err(ChaosError(format!(
                        "rules[{i}].rates: status {status} is not one of 429, 500, 503, 504"
                    )));
                }
                if !(0.0..=1.0).contains(rate) {
                    return Err(ChaosError(format!(
                        "rules[{i}].rates.{status}: {rate} is not between 0 and 1"
                    )));
                }
                sum += rate;
            }
            if sum > 1.0 + 1e-9 {
                return Err(ChaosError(format!(
                    "rules[{i}].rates: the rates add up to {sum}, more than 1"
                )));
            }
            if !rule.path.starts_with('/') && rule.path != "*" {
                return Err(ChaosError(format!(
                    "rules[{i}].path: '{}' must start with '/'",
                    rule.path
                )));
            }
            if rule.latency_ms > 60_000 || rule.retry_after_secs > 3600 {
                return Err(ChaosError(format!(
                    "rules[{i}]: latencyMs is capped at 60000 and retryAfterSecs at 3600"
                )));
            }
        }
        if let Some(limit) = self.rate_limit
            && (limit.requests == 0
                || !limit.per_seconds.is_finite()
                || limit.per_seconds <= 0.0)
        {
            return Err(ChaosError(
                "rateLimit: requests and perSeconds must be positive".into(),
            ));
        }
        if let Some(size) = self.batch_page_size
            && !(1..=20).contains(&size)
        {
            return Err(ChaosError(format!(
                "batchPageSize: {size} is not between 1 and 20"
            )));
        }
        Ok(())
    }
}

/// Marks a request as an item of a `$batch`, with its id.
#[derive(Debug, Clone)]
pub(crate) struct BatchItem(pub String);

#[derive(Debug, Default)]
struct Inner {
    config: ChaosConfig,
    occurrences: HashMap<String, u64>,
    /// Retry-After penalties: request → end, in the tenant clock's ms.
    penalties: HashMap<String, u64>,
    /// Token buckets: user → (tokens, last refill in ms).
    buckets: HashMap<String, (f64, u64)>,
}

/// The live chaos state.
#[derive(Debug)]
pub(crate) struct Chaos(Mutex<Inner>);

enum Verdict {
    Pass(Duration),
    Fault { status: u16, retry_after: Option<u64>, latency: Duration },
    Throttle { retry_after: u64, limit: Option<RateLimit> },
}

/// `*` wildcard matching, case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// SplitMix64 over FNV-1a of the key: a stable, seedable roll in [0, 1).
fn roll(seed: u64, key: &str, n: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

impl Chaos {
    pub(crate) fn new(config: ChaosConfig) -> Chaos {
        Chaos(Mutex::new(Inner { config, ..Inner::default() }))
    }

    pub(crate) fn replace(&self, config: ChaosConfig) {
        // A pending Retry-After is not forgiven by a configuration change.
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let penalties = std::mem::take(&mut inner.penalties);
        *inner = Inner { config, penalties, ..Inner::default() };
    }

    pub(crate) fn batch_page_size(&self) -> Option<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).config.batch_page_size
    }

    pub(crate) fn config(&self) -> ChaosConfig {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).config.clone()
    }

    fn decide(
        &self,
        now: u64,
        who: &str,
        method: &str,
        path: &str,
        url: &str,
        item: Option<&str>,
    ) -> Verdict {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let request_key = format!("{who}|{method}|{url}|{}", item.unwrap_or(""));

        if let Some(until) = inner.penalties.get(&request_key).copied() {
            if now < until {
                let secs = ((until - now) as f64 / 1000.0).ceil().max(1.0) as u64;
                return Verdict::Throttle { retry_after: secs, limit: None };
            }
            inner.penalties.remove(&request_key);
        }

        if let Some(limit) = inner.config.rate_limit {
            let rate = f64::from(limit.requests) / limit.per_seconds;
            let capacity = f64::from(limit.requests);
            let bucket = inner.buckets.entry(who.to_owned()).or_insert((capacity, now));
            let elapsed = now.saturating_sub(bucket.1) as f64 / 1000.0;
            bucket.0 = (bucket.0 + elapsed * rate).min(capacity);
            bucket.1 = now;
            if bucket.0 < 1.0 {
                let wait = ((1.0 - bucket.0) / rate).ceil().max(1.0) as u64;
                return Verdict::Throttle { retry_after: wait, limit: Some(limit) };
            }
            bucket.0 -= 1.0;
        }

        let scope_ok = |s: Scope| match s {
            Scope::Any => true,
            Scope::Direct => item.is_none(),
            Scope::BatchItem => item.is_some(),
        };
        let Some((index, rule)) = inner.config.rules.iter().enumerate().find(|(_, r)| {
            scope_ok(r.scope)
                && r.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && glob(&r.path, path)
        }) else {
            return Verdict::Pass(Duration::ZERO);
        };
        let rule = rule.clone();
        let latency = Duration::from_millis(rule.latency_ms);
        if rule.rates.is_empty() {
            return Verdict::Pass(latency);
        }
        let occurrence_key = format!("{index}|{request_key}");
        let n = {
            let count = inner.occurrences.entry(occurrence_key.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let mut u = roll(inner.config.seed, &occurrence_key, n);
        for (status, rate) in &rule.rates {
            if u < *rate {
                let retry_after =
                    matches!(status, 429 | 503).then_some(rule.retry_after_secs);
                if *status == 429 {
                    let until = now + rule.retry_after_secs.saturating_mul(1000);
                    inner.penalties.insert(request_key, until);
                }
                return Verdict::Fault { status: *status, retry_after, latency };
            }
            u -= rate;
        }
        Verdict::Pass(latency)
    }
}

fn fault_error(status: u16) -> GraphError {
    match status {
        429 => GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
        ),
        503 => GraphError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Retry the request after the delay in the \
             Retry-After header.",
        ),
        504 => GraphError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "The operation timed out.",
        ),
        _ => GraphError::internal("An unspecified error has occurred."),
    }
}

/// Middleware: throttling and injected faults, after authentication.
pub(crate) async fn middleware(
    State(tenant): State<Tenant>,
    request: Request,
    next: Next,
) -> Response {
    let who =
        request.extensions().get::<Principal>().map(|p| p.throttle_key().to_owned());
    let Some(who) = who else { return next.run(request).await };
    let item = request.extensions().get::<BatchItem>().map(|b| b.0.clone());
    let path = request.uri().path().to_owned();
    let url =
        request.uri().path_and_query().map_or(path.clone(), |pq| pq.as_str().to_owned());
    let verdict = tenant.0.chaos.decide(
        tenant.0.now.millis(),
        &who,
        request.method().as_str(),
        &path,
        &url,
        item.as_deref(),
    );
    match verdict {
        Verdict::Pass(latency) => {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            next.run(request).await
        }
        Verdict::Fault { status, retry_after, latency } => {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            Stats::bump(&tenant.0.stats.faults);
            let mut error = fault_error(status);
            if let Some(secs) = retry_after {
                error = error.with_header(header::RETRY_AFTER, &secs.to_string());
            }
            error.into_response()
        }
        Verdict::Throttle { retry_after, limit } => {
            Stats::bump(&tenant.0.stats.throttled);
            let mut error = fault_error(429)
                .with_header(header::RETRY_AFTER, &retry_after.to_string());
            if let Some(limit) = limit {
                let h = |name: &'static str| HeaderName::from_static(name);
                error = error
                    .with_header(h("ratelimit-limit"), &limit.requests.to_string())
                    .with_header(h("ratelimit-remaining"), "0")
                    .with_header(h("ratelimit-reset"), &retry_after.to_string());
            }
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_wildcards_case_insensitively() {
        assert!(glob("*", "/me"));
        assert!(glob("/users/*", "/Users/abc"));
        assert!(glob("/groups/*/team", "/groups/1/team"));
        assert!(!glob("/groups/*/team", "/groups/1/channels"));
        assert!(glob("/me", "/ME"));
        assert!(!glob("/me", "/me/messages"));
    }

    #[test]
    fn rolls_are_deterministic_and_spread() {
        let a: Vec<f64> = (0..1000).map(|n| roll(7, "k", n)).collect();
        let b: Vec<f64> = (0..1000).map(|n| roll(7, "k", n)).collect();
        assert_eq!(a, b);
        let below = a.iter().filter(|u| **u < 0.3).count();
        assert!((240..360).contains(&below), "{below} of 1000 below 0.3");
    }

    #[test]
    fn invalid_configs_are_refused_with_the_place() {
        let err =
            ChaosConfig::from_json(r#"{"rules":[{"rates":{"418":0.5}}]}"#).unwrap_err();
        assert!(err.to_string().contains("rules[0].rates"), "{err}");
        let err =
            ChaosConfig::from_json(r#"{"rules":[{"rates":{"429":0.7,"503":0.5}}]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("add up"), "{err}");
        let err = ChaosConfig::from_json("{\n \"sed\": 1}").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
