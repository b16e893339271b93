//! The executor's one clock: every wait (backoff, `Retry-After`, a page's
//! retry) and every deadline (an item's `retry_for`) reads it.
//!
//! [`TokioClock`], the default, is tokio's time; [`VirtualClock`] never
//! sleeps: a wait moves it forward and returns at once, which is what tests
//! use instead of waiting real seconds (give the emulator the same clock and
//! its Retry-After penalties and replication delay pass with it).

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// A boxed wait.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the executor reads the time and waits.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;

    /// Waits until `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;

    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleep_until(self.now() + duration)
    }
}

/// Tokio's time (so `tokio::time::pause` applies to it too).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// A clock that moves only when something waits on it or a test moves it:
/// `sleep_until(t)` sets the time to `t`, unless it is later already, and
/// returns at once. Clones share the same time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    start: Instant,
    elapsed: Arc<Mutex<Duration>>,
}

impl VirtualClock {
    /// A clock that starts now.
    pub fn new() -> VirtualClock {
        VirtualClock { start: Instant::now(), elapsed: Arc::default() }
    }

    /// How far the clock has moved since it was made.
    pub fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward by `duration`.
    pub fn advance(&self, duration: Duration) {
        let mut elapsed = self.elapsed.lock().unwrap_or_else(|e| e.into_inner());
        *elapsed += duration;
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::new()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let target = deadline.saturating_duration_since(self.start);
        {
            let mut elapsed = self.elapsed.lock().unwrap_or_else(|e| e.into_inner());
            if *elapsed < target {
                *elapsed = target;
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_virtual_wait_moves_the_clock_and_returns_at_once() {
        let clock = VirtualClock::new();
        let start = clock.now();
        clock.sleep(Duration::from_secs(30)).await;
        assert_eq!(clock.now() - start, Duration::from_secs(30));
        // A deadline already passed does not move it back.
        clock.sleep_until(start).await;
        assert_eq!(clock.elapsed(), Duration::from_secs(30));
        let shared = clock.clone();
        shared.advance(Duration::from_secs(5));
        assert_eq!(clock.elapsed(), Duration::from_secs(35));
    }
}
