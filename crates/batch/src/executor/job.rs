//! A job: one coordinator loop that packs ready units into `$batch` calls,
//! keeps up to `concurrency` in flight, and gives each item its outcome.

use std::{
    borrow::Cow,
    collections::HashMap,
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::task::JoinSet;

use super::{
    BatchClient, Progress, Report,
    queue::{Queue, Waiting},
    transport::{Answers, Outer},
    wire::write_request,
};
use crate::{
    BatchItem, Body,
    outcome::Outcome,
    plan::{Checked, Unit},
    reference::{self, Reference},
};

/// What a succeeded item answered, kept for references.
type Answered = (u16, Vec<(String, String)>, Option<Value>);

/// A batch call that came back.
pub(super) struct Flight {
    pub(super) units: Vec<Unit>,
    pub(super) sent: Vec<usize>,
    pub(super) reauthed: bool,
    pub(super) result: Result<Answers, Outer>,
}

pub(super) struct Job<'a> {
    pub(super) client: &'a BatchClient,
    pub(super) checked: Checked,
    pub(super) outcomes: Vec<Option<Outcome>>,
    answers: Vec<Option<Answered>>,
    pub(super) attempts: Vec<u32>,
    pub(super) first_sent: Vec<Option<Instant>>,
    queue: Queue,
    batch_calls: usize,
}

struct Lookup<'j> {
    answers: &'j [Option<Answered>],
    index: &'j HashMap<String, usize>,
}

impl reference::Source for Lookup<'_> {
    fn lookup(&self, r: &Reference) -> Option<Value> {
        let i = *self.index.get(&r.id)?;
        let (status, headers, body) = self.answers[i].as_ref()?;
        reference::lookup(*status, headers, body.as_ref(), &r.path)
    }
}

impl<'a> Job<'a> {
    pub(super) fn new(
        client: &'a BatchClient,
        checked: Checked,
        units: Vec<Unit>,
    ) -> Job<'a> {
        let n = checked.items.len();
        let now = client.clock.now();
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
    pub(super) fn finish(&mut self, i: usize, outcome: Outcome) {
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
                self.queue.on_success(i, self.client.clock.now());
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

    pub(super) async fn run(mut self) -> Report {
        let mut in_flight: JoinSet<Flight> = JoinSet::new();
        loop {
            while in_flight.len() < self.client.config.concurrency {
                let Some((units, reauth)) = self.queue.next_batch(
                    self.client.config.max_per_batch,
                    self.client.clock.now(),
                ) else {
                    break;
                };
                let (payload, sent) = self.payload(&units);
                if sent.is_empty() {
                    continue;
                }
                let now = self.client.clock.now();
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
                    self.client.clock.sleep_until(wake).await;
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

    pub(super) fn requeue(&mut self, unit: Unit, delay: Duration, reauthed: bool) {
        let now = self.client.clock.now();
        let waiting = Waiting { unit, not_before: now + delay, reauthed };
        let outcomes = &self.outcomes;
        self.queue.push(waiting, now, |d| {
            outcomes[d].as_ref().is_some_and(Outcome::is_success)
        });
    }
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
