//! A laid-out [`Picture`] as SVG text.
//!
//! Accessibility: the `<svg>` has `role="img"` and is named by its
//! `<title>` and described by its `<desc>`, which reads the whole flow as
//! text (every action, its kind and, with a run, its status, duration and
//! retries), since assistive technology does not enter an image. Every card
//! is a `<g>` with an `aria-label` and a `<title>` (a tooltip with the full
//! name). A status is a colour *and* a symbol and a word. Every string from
//! the definition or the run is escaped.

use std::fmt::Write;

use crate::definition::Status;

use super::layout::{Block, Card, Edge, Picture, Region, RunMark};

/// Characters of a name that fit on a card; longer names end in `…` (the
/// full name is in the card's `<title>`).
const NAME_CHARS: usize = 30;

/// Escapes text for XML content and attribute values.
///
/// The emulator's sign-in pages have their own HTML escaper
/// (`graphlab_tenant`'s `identity::pages::esc`), on purpose: the emulator
/// must not depend on this crate (nor this crate on the emulator, a
/// dev-dependency only), no crate below both is about markup, and XML 1.0
/// has a rule HTML has not (no control characters), so a crate such as
/// `html-escape` would not do here.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// The symbol, the word and the colours (fill, stroke) of a status; `None`
/// is an action the run did not reach.
pub fn status_style(
    status: Option<Status>,
) -> (&'static str, &'static str, &'static str, &'static str) {
    match status {
        Some(Status::Succeeded) => ("✓", "Succeeded", "#dff6dd", "#107c10"),
        Some(Status::Failed) => ("✗", "Failed", "#fde7e9", "#a4262c"),
        Some(Status::Skipped) => ("⊘", "Skipped", "#f3f2f1", "#605e5c"),
        Some(Status::TimedOut) => ("◷", "TimedOut", "#fff4ce", "#8a6100"),
        Some(Status::Cancelled) => ("■", "Cancelled", "#edebe9", "#484644"),
        None => ("–", "Not run", "#ffffff", "#8a8886"),
    }
}

/// The SVG document.
pub fn render(picture: &Picture, prefix: &str) -> String {
    let prefix = escape(prefix);
    let (w, h) = picture.size;
    let mut out = String::new();
    let title = match &picture.run {
        Some((id, status)) => format!(
            "Flow {}, run {id}: {}",
            picture.name,
            status.map_or("unknown status", Status::as_str)
        ),
        None => format!("Flow {}", picture.name),
    };
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         aria-labelledby=\"{prefix}-title {prefix}-desc\" \
         font-family=\"'Segoe UI', 'DejaVu Sans', sans-serif\" font-size=\"13\">"
    );
    let _ = writeln!(out, "<title id=\"{prefix}-title\">{}</title>", escape(&title));
    let _ =
        writeln!(out, "<desc id=\"{prefix}-desc\">{}</desc>", escape(&describe(picture)));
    let _ = writeln!(
        out,
        "<defs><marker id=\"{prefix}-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#605e5c\"/></marker></defs>"
    );
    let _ = writeln!(out, "<rect width=\"{w}\" height=\"{h}\" fill=\"#faf9f8\"/>");
    for edge in &picture.edges {
        edge_svg(&mut out, edge, &prefix);
    }
    if let Some(card) = &picture.trigger {
        card_svg(&mut out, card, true);
    }
    region_svg(&mut out, &picture.body, &prefix);
    out.push_str("</svg>\n");
    out
}

fn region_svg(out: &mut String, region: &Region, prefix: &str) {
    if !region.label.is_empty() {
        let _ = writeln!(
            out,
            "<g class=\"branch\" aria-label=\"{label}\">\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#ffffff\" \
             stroke=\"#c8c6c4\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{}\" y=\"{}\" font-weight=\"600\" fill=\"#323130\">{label}</text></g>",
            region.x - 6,
            region.y,
            region.w + 12,
            region.h + 6,
            region.x,
            region.y + 15,
            label = escape(&region.label),
        );
        if region.blocks.is_empty() {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" fill=\"#605e5c\" font-style=\"italic\">No actions</text>",
                region.x + 8,
                region.y + super::layout::LABEL_H + 20
            );
        }
    }
    for edge in &region.edges {
        edge_svg(out, edge, prefix);
    }
    for block in &region.blocks {
        block_svg(out, block, prefix);
    }
}

fn block_svg(out: &mut String, block: &Block, prefix: &str) {
    if !block.regions.is_empty() {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#f3f2f1\" \
             stroke=\"#8a8886\"/>",
            block.x, block.y, block.w, block.h
        );
    }
    card_svg(out, &block.card, false);
    for region in &block.regions {
        region_svg(out, region, prefix);
    }
}

fn card_svg(out: &mut String, card: &Card, trigger: bool) {
    let (symbol, word, fill, stroke) = match &card.run {
        Some(mark) => status_style(mark.status),
        None => ("", "", "#ffffff", if trigger { "#0078d4" } else { "#8a8886" }),
    };
    let dashed = match &card.run {
        Some(m) if m.status.is_none() || m.status == Some(Status::Skipped) => {
            " stroke-dasharray=\"5 3\""
        }
        _ => "",
    };
    let accessible = card_text(card);
    let _ = writeln!(
        out,
        "<g class=\"card\" aria-label=\"{}\"><title>{}</title>",
        escape(&accessible),
        escape(&accessible)
    );
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{fill}\" \
         stroke=\"{stroke}\" stroke-width=\"{}\"{dashed}/>",
        card.x,
        card.y,
        card.w,
        card.h,
        if card.run.is_some() { 2 } else { 1 }
    );
    let accent = if trigger { "#0078d4" } else { "#005a9e" };
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"6\" height=\"{}\" rx=\"2\" fill=\"{}\"/>",
        card.x,
        card.y,
        card.h,
        if card.run.is_some() { stroke } else { accent }
    );
    let _ = writeln!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"12\" fill=\"{accent}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#ffffff\" font-size=\"12\">{}</text>",
        card.x + 26,
        card.y + 22,
        card.x + 26,
        card.y + 26,
        escape(card.icon)
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-weight=\"600\" fill=\"#201f1e\">{}</text>",
        card.x + 46,
        card.y + 22,
        escape(&shorten(&card.name, NAME_CHARS))
    );
    let mut second = card.label.clone();
    if card.hidden > 0 {
        second = format!("{second} · {} nested actions not drawn", card.hidden);
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" fill=\"#605e5c\" font-size=\"12\">{}</text>",
        card.x + 46,
        card.y + 42,
        escape(&shorten(&second, NAME_CHARS + 6))
    );
    if let Some(mark) = &card.run {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"{stroke}\" font-weight=\"600\" font-size=\"12\">{}</text>",
            card.x + 14,
            card.y + 66,
            escape(&run_line(symbol, word, mark))
        );
    }
    out.push_str("</g>\n");
}

fn edge_svg(out: &mut String, edge: &Edge, prefix: &str) {
    let points: Vec<String> =
        edge.points.iter().map(|(x, y)| format!("{x},{y}")).collect();
    let dashed = if edge.label.is_some() { " stroke-dasharray=\"6 3\"" } else { "" };
    let _ = writeln!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#605e5c\" stroke-width=\"1.5\"{dashed} \
         marker-end=\"url(#{prefix}-arrow)\"/>",
        points.join(" ")
    );
    if let Some(label) = &edge.label {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#a4262c\" font-size=\"11\" font-weight=\"600\">\
             runs after: {}</text>",
            edge.label_at.0,
            edge.label_at.1,
            escape(label)
        );
    }
}

/// `✓ Succeeded · 1.2 s · 2 retries`.
fn run_line(symbol: &str, word: &str, mark: &RunMark) -> String {
    let mut line = format!("{symbol} {word}");
    if let Some(d) = &mark.duration {
        line.push_str(&format!(" · {d}"));
    }
    if let Some(n) = mark.iterations {
        line.push_str(&format!(" · {n} iteration{}", if n == 1 { "" } else { "s" }));
    }
    match mark.retries {
        0 => {}
        1 => line.push_str(" · 1 retry"),
        n => line.push_str(&format!(" · {n} retries")),
    }
    line
}

fn card_text(card: &Card) -> String {
    let mut text = format!("{} ({})", card.name, card.label);
    if card.hidden > 0 {
        text.push_str(&format!(", {} nested actions not drawn", card.hidden));
    }
    if let Some(mark) = &card.run {
        let (symbol, word, _, _) = status_style(mark.status);
        text.push_str(": ");
        text.push_str(&run_line(symbol, word, mark));
        if let Some(code) = &mark.code {
            text.push_str(&format!(" ({code})"));
        }
    }
    text
}

/// The whole flow as text, for `<desc>`.
fn describe(picture: &Picture) -> String {
    let mut lines = Vec::new();
    if let Some(t) = &picture.trigger {
        lines.push(format!("Trigger {}.", card_text(t)));
    }
    describe_region(&picture.body, &mut lines);
    lines.join(" ")
}

fn describe_region(region: &Region, lines: &mut Vec<String>) {
    if !region.label.is_empty() {
        lines.push(format!("{}:", region.label));
        if region.blocks.is_empty() {
            lines.push("no actions.".to_owned());
        }
    }
    for block in &region.blocks {
        lines.push(format!("{}.", card_text(&block.card)));
        for r in &block.regions {
            describe_region(r, lines);
        }
        if !block.regions.is_empty() {
            lines.push(format!("End of {}.", block.card.name));
        }
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}
