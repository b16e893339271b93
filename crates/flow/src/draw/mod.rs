//! Flow drawings: a workflow definition as an SVG picture in the manner of
//! the Power Automate designer — the trigger on top, actions as cards joined
//! by arrows that follow `runAfter`, parallel branches side by side,
//! containers (`Scope`, `Foreach`, `Until`, `If` with its two branches,
//! `Switch` with its cases) drawn nested — with, optionally, a run from the
//! run history laid over it: every card coloured by its status and marked
//! with a symbol and the status's name (colour is never the only signal),
//! its duration and its retries.
//!
//! - [`layout`]: the geometry (pure: boxes, arrows, labels).
//! - [`svg`]: the SVG text, with `role="img"`, a `<title>`, a `<desc>` that
//!   reads the whole flow as text, and every string escaped.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let text = std::fs::read_to_string("lab-steps/flows/create-team.json")?;
//! let workflow = graphlab_flow::load(&text, "create-team.json")?;
//! let svg = graphlab_flow::draw::draw(&workflow, None, &Default::default());
//! std::fs::write("create-team.svg", svg)?;
//! # Ok(()) }
//! ```

pub mod layout;
pub mod svg;

use serde_json::Value;

use crate::definition::{MAX_NESTING, Workflow};

/// How to draw.
#[derive(Debug, Clone)]
pub struct DrawOptions {
    /// Prefix of the `id`s in the picture (`<title id="PREFIX-title">`), so
    /// that several pictures can live in one HTML page.
    pub id_prefix: String,
    /// Containers nested deeper than this are drawn as one card that says
    /// how many actions it holds. Definitions nest at most
    /// [`MAX_NESTING`] deep, so the default draws every level.
    pub max_depth: usize,
}

impl Default for DrawOptions {
    fn default() -> Self {
        DrawOptions { id_prefix: "flow".to_owned(), max_depth: MAX_NESTING + 1 }
    }
}

/// Draws `workflow` as an SVG document, with `run` (a run document as
/// [`crate::history::History::get`] or [`crate::Run::to_json`] gives it)
/// laid over it when given.
pub fn draw(workflow: &Workflow, run: Option<&Value>, options: &DrawOptions) -> String {
    let picture = layout::layout(workflow, run, options.max_depth);
    svg::render(&picture, &options.id_prefix)
}
