//! A Microsoft Graph JSON-batch client that never loses a request.
//!
//! Give [`BatchClient::run`] any number of [`BatchItem`]s. It checks them
//! with the rules Graph applies (ids unique without regard to case, relative
//! URLs, `Content-Type` with a body, dependencies that exist and form no
//! cycle) before sending anything; plans batches of at most 20 that Graph
//! accepts, keeping `dependsOn` groups together when their shape allows and
//! enforcing the order itself otherwise; sends batches in parallel; retries
//! each item answered 429, 503 or 504 (after its own `Retry-After`, else a
//! capped exponential backoff with jitter) — and whole batches on 429, 5xx or
//! a transport error — keeping its id and its dependents; re-acquires the
//! token once on 401; resolves references between requests
//! (`{{create-group.body.id}}`, see [`reference`]); and ends with exactly one
//! [`Outcome`] per item. It knows nothing of the emulator.
#![deny(missing_docs)]

mod caseless;
pub mod clock;
mod executor;
#[doc(hidden)]
pub mod fuzz;
mod input;
mod item;
mod outcome;
pub mod plan;
pub mod reference;

pub use caseless::Caseless;
pub use clock::{Clock, TokioClock, VirtualClock};
pub use executor::{BatchClient, Config, Progress, Report, Version, retry_after};
pub use input::{Format, Input, Lines, read_input};
pub use item::{
    BatchItem, Body, DEFAULT_RETRY_FOR, MAX_RETRY_FOR, Method, parse_document,
    parse_items, parse_line,
};
pub use outcome::{Headers, JsonText, Outcome, Response, ResponseBody};

/// Why a job could not start. Each error names the item or input place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// An item breaks one of Graph's rules.
    #[error("item '{id}': {message}")]
    Invalid {
        /// The item's id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// The input could not be read.
    #[error("{at}: {message}")]
    Input {
        /// File, line and item.
        at: String,
        /// What is wrong.
        message: String,
    },
}
