//! graphlab-flow's integration tests: the expression language (the
//! functions reference's own examples, parsing and printing properties,
//! errors, templates), the lab's flows against the emulator over real
//! HTTP, on a virtual clock that the emulator shares, `flow check`, and
//! the exports to Logic Apps and Power Automate, and the flows' drawings.

mod check;
mod common;
mod conformance;
mod draw;
mod engine;
mod export;
mod functions;
mod lab_flows;
mod reference_examples;
mod support;
mod syntax;
mod templates;
