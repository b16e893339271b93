//! Run the lab's flows: Power Automate and Logic Apps workflow definitions,
//! executed locally with Logic Apps' documented semantics.
//!
//! - [`expr`]: the Workflow Definition Language's expressions (`@expr`,
//!   `@{expr}` interpolation, `@@` escapes) and the functions of
//!   Microsoft's expression functions reference that return JSON.
//! - [`definition`]: the definition model, read from any of the shapes a
//!   flow is exported in (bare, Power Automate, Logic Apps, ARM template).
//! - [`engine`]: runs a definition: `runAfter`, concurrency, the actions,
//!   retry policies, one clock.
//! - [`check`]: static checks of a definition, with rule ids and JSON
//!   paths (`graphlab flow check`).
//! - [`connector`]: the custom connector packages connector actions call.
//! - [`export`]: the flow and its connector as an ARM template for Logic
//!   Apps or a Power Automate package, and offline checks of both.
//! - [`run`]: what a run produced; [`history`]: runs kept in SQLite.
//! - [`draw`]: a definition (and a run) drawn as an SVG picture.
//!
//! The crate knows nothing of the emulator: connector actions go to the
//! Graph URL it is given, with the token a `graphlab_auth::TokenProvider`
//! gives.
#![deny(missing_docs)]

pub mod check;
pub mod connector;
pub mod context;
pub mod definition;
pub mod draw;
pub mod duration;
pub mod engine;
pub mod export;
pub mod expr;
pub mod history;
pub mod run;
pub mod trigger;

pub use definition::{Status, Workflow, load};
pub use engine::{Engine, EngineError, RunOptions};
pub use run::Run;
