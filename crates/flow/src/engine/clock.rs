//! The engine's one clock: every wait (`Wait`, retry intervals, `Until`
//! timeouts) and every time an expression or the run history reads.
//!
//! [`SystemClock`] is the real one, with a time scale that divides every
//! wait, so that the lab's one-minute Delay can take seconds against the
//! emulator; [`VirtualClock`] never sleeps: waiting moves it forward, which
//! is what tests use.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use time::OffsetDateTime;

/// A boxed future.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The engine's clock.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
    /// Waits `duration` of workflow time.
    fn sleep(&self, duration: Duration) -> Sleep<'_>;
}

/// The system's clock; waits are divided by `scale` (1 = real time).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    scale: f64,
}

impl SystemClock {
    /// Real time.
    pub fn new() -> SystemClock {
        SystemClock { scale: 1.0 }
    }

    /// Waits take `1/scale` of their length (`scale` ≥ 1; smaller values are
    /// taken as 1).
    pub fn scaled(scale: f64) -> SystemClock {
        SystemClock { scale: if scale.is_finite() && scale > 1.0 { scale } else { 1.0 } }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        let real = duration.div_f64(self.scale);
        Box::pin(tokio::time::sleep(real))
    }
}

/// A clock that moves only when something waits on it: `sleep(d)` sets the
/// time to (the time it was called) + `d`, unless it is later already, and
/// returns at once. Concurrent waits that start together therefore end at
/// the later of their ends, as they would in real time. Clones share the
/// same time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl VirtualClock {
    /// A clock that starts at `start`.
    pub fn starting_at(start: OffsetDateTime) -> VirtualClock {
        VirtualClock { now: Arc::new(Mutex::new(start)) }
    }

    /// Moves the clock forward by `duration`.
    pub fn advance(&self, duration: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += duration;
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        let target = self.now() + duration;
        {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            if *now < target {
                *now = target;
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}
