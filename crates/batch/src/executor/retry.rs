//! The retry policy: what is sent again (429, 503, 504, statuses an item
//! names, whole batches on 429/5xx/transport errors, one re-auth on 401),
//! after `Retry-After` or a capped exponential backoff with jitter.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{
    Progress,
    job::{Flight, Job},
    transport::{Answers, Outer},
};
use crate::{
    Caseless, Method,
    outcome::{Headers, JsonText, Outcome, Response, ResponseBody},
    plan::{self, Checked, Unit},
};

/// Parses `Retry-After`: seconds, or an HTTP date (a date is compared with
/// the system's date, as the server's is).
pub fn retry_after(value: &str) -> Option<Duration> {
    retry_after_at(value, SystemTime::now())
}

/// [`retry_after`] with `now` as the date.
fn retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

impl Job<'_> {
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let c = &self.client.config;
        let exp = c.base_delay.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(c.max_delay);
        capped.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    pub(super) fn absorb(&mut self, flight: Flight) {
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
                // Graph echoes ids as sent; a match without regard to case is
                // the fallback.
                let answer = answers
                    .iter()
                    .position(|(id, _)| id.as_str() == item.id)
                    .or_else(|| {
                        let sent = Caseless(&item.id);
                        answers.iter().position(|(id, _)| Caseless(id.as_str()) == sent)
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
                    && self.first_sent[i].is_some_and(|t| {
                        self.client.clock.now().saturating_duration_since(t)
                            < item.retry_for
                    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(retry_after_at("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after_at("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after_at("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO),
            "a past date: now"
        );
        assert_eq!(retry_after_at("soon", now), None);
    }
}
