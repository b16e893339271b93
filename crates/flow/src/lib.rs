//! Run the lab's flows: Power Automate and Logic Apps workflow definitions,
//! executed locally with Logic Apps' documented semantics.
//!
//! - [`expr`]: the Workflow Definition Language's expressions (`@expr`,
//!   `@{expr}` interpolation, `@@` escapes) and every function of
//!   Microsoft's expression functions reference that returns JSON.
#![deny(missing_docs)]

pub mod expr;
