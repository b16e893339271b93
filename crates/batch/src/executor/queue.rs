//! The units waiting to be sent: ready ones, delayed ones (retries), and
//! those whose dependencies have not succeeded yet.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, VecDeque},
    time::Instant,
};

use crate::plan::Unit;

/// A unit waiting to be sent.
#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) unit: Unit,
    pub(super) not_before: Instant,
    pub(super) reauthed: bool,
}

/// The units not yet sent, indexed so that each step costs O(1) amortized:
/// a unit becomes ready when its last external dependency succeeds, and fails
/// at once when one fails.
#[derive(Debug, Default)]
pub(super) struct Queue {
    units: Vec<Option<Waiting>>,
    unmet: Vec<usize>,
    waiters: HashMap<usize, Vec<usize>>,
    ready_loose: VecDeque<usize>,
    ready_alone: VecDeque<usize>,
    delayed: BinaryHeap<Reverse<(Instant, usize)>>,
    live: usize,
}

impl Queue {
    pub(super) fn push(
        &mut self,
        w: Waiting,
        now: Instant,
        succeeded: impl Fn(usize) -> bool,
    ) {
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

    pub(super) fn on_success(&mut self, item: usize, now: Instant) {
        if self.waiters.is_empty() {
            return;
        }
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
    pub(super) fn on_failure(&mut self, item: usize) -> Vec<Waiting> {
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
    pub(super) fn next_batch(
        &mut self,
        max: usize,
        now: Instant,
    ) -> Option<(Vec<Unit>, bool)> {
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

    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.delayed.peek().map(|Reverse((when, _))| *when)
    }

    /// Units still waiting (for dependencies that will never complete, at the end).
    pub(super) fn drain(&mut self) -> Vec<Waiting> {
        self.live = 0;
        self.units.iter_mut().filter_map(Option::take).collect()
    }
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
        while let Some((units, _)) = queue.next_batch(20, now) {
            sizes.push(units.iter().map(|u| u.items.len()).sum::<usize>());
        }
        assert_eq!(sizes, [14, 8, 20], "every item once, at most 20 a batch");
    }
}
