//! graphlab-flow's expression language: the functions reference's own
//! examples, parsing and printing properties, errors, templates.

mod common;
mod conformance;
mod functions;
mod reference_examples;
mod syntax;
mod templates;
