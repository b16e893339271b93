//! The geometry of a flow picture: every action a box, every container a
//! box holding its branches, every `runAfter` an arrow. Pure: no SVG here.
//!
//! Within one container, an action's row is one more than the deepest of
//! the actions it runs after (the actions with an empty `runAfter` start
//! the container), so actions that run in parallel share a row and stand
//! side by side, as in the Power Automate designer.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::definition::{Action, ActionKind, Container, DataOp, Status, Workflow};

/// A card's width.
pub const CARD_W: i32 = 260;
/// A card's height without a run.
pub const CARD_H: i32 = 58;
/// A card's height with a run (one more line: status, duration, retries).
pub const CARD_H_RUN: i32 = 78;
/// Space between side-by-side boxes.
pub const H_GAP: i32 = 32;
/// Space between rows (room for an arrow and its label).
pub const V_GAP: i32 = 52;
/// Padding inside a container's box.
pub const PAD: i32 = 16;
/// Height of a branch's label ("True", "Case 'a'").
pub const LABEL_H: i32 = 22;
/// An empty branch's height.
pub const EMPTY_H: i32 = 34;
/// The margin around the whole picture.
pub const MARGIN: i32 = 20;

/// A whole picture.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The workflow's name.
    pub name: String,
    /// The run's id and status, when one is laid over.
    pub run: Option<(String, Option<Status>)>,
    /// Width and height.
    pub size: (i32, i32),
    /// The trigger's card.
    pub trigger: Option<Card>,
    /// The top-level actions.
    pub body: Region,
    /// Arrows from the trigger to the first actions.
    pub edges: Vec<Edge>,
}

/// A branch of actions: the top level, or one side of a container.
#[derive(Debug, Clone, Default)]
pub struct Region {
    /// "True", "False", "Case 'x'", "Default", "Actions" (empty at the top).
    pub label: String,
    /// Top-left corner.
    pub x: i32,
    /// Top-left corner.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height (label included).
    pub h: i32,
    /// The actions' boxes.
    pub blocks: Vec<Block>,
    /// The `runAfter` arrows between them.
    pub edges: Vec<Edge>,
}

/// One action's box: a card, and, for a container, its branches.
#[derive(Debug, Clone)]
pub struct Block {
    /// The action's card (a container's header).
    pub card: Card,
    /// Top-left corner.
    pub x: i32,
    /// Top-left corner.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
    /// A container's branches (empty for a plain action).
    pub regions: Vec<Region>,
}

/// An action's (or the trigger's) card.
#[derive(Debug, Clone)]
pub struct Card {
    /// The action's name.
    pub name: String,
    /// What it is ("HTTP", "Condition", "Batch · connector").
    pub label: String,
    /// A short symbol for its kind.
    pub icon: &'static str,
    /// The run's record, when a run is laid over.
    pub run: Option<RunMark>,
    /// Actions not drawn below this card (deeper than the depth bound).
    pub hidden: usize,
    /// Top-left corner.
    pub x: i32,
    /// Top-left corner.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

/// What a run says of one card.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMark {
    /// The status, or `None` when the run has no record of the action (a
    /// branch that was not taken).
    pub status: Option<Status>,
    /// How long it took, written for people (`1.2 s`), when it ran.
    pub duration: Option<String>,
    /// Attempts beyond the first.
    pub retries: usize,
    /// `OK`, `NotFound`, `ActionFailed`, ...
    pub code: Option<String>,
    /// Iterations of a loop.
    pub iterations: Option<usize>,
}

/// An arrow, as a polyline from its tail to its head.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The points.
    pub points: Vec<(i32, i32)>,
    /// The statuses that let the target run, when not just `Succeeded`
    /// ("Failed, TimedOut").
    pub label: Option<String>,
    /// Where the label goes.
    pub label_at: (i32, i32),
}

/// Lays `workflow` out, with `run` (a run document) over it.
pub fn layout(workflow: &Workflow, run: Option<&Value>, max_depth: usize) -> Picture {
    let with_run = run.is_some();
    let card_h = if with_run { CARD_H_RUN } else { CARD_H };
    let records = run.map(|r| r.get("actions").and_then(Value::as_object));
    let mut body = region(&workflow.actions, "", records, 1, max_depth, card_h);
    let trigger = workflow.trigger.as_ref().map(|t| Card {
        name: t.name.clone(),
        label: match t.trigger_kind.as_deref() {
            Some(kind) => format!("Trigger · {} ({kind})", t.kind),
            None => format!("Trigger · {}", t.kind),
        },
        icon: "▶",
        run: run.map(|r| mark(Some(&r["trigger"]))),
        hidden: 0,
        x: 0,
        y: 0,
        w: CARD_W,
        h: card_h,
    });
    let width = body.w.max(CARD_W);
    let mut top = MARGIN;
    let mut edges = Vec::new();
    let trigger = trigger.map(|mut card| {
        card.x = MARGIN + (width - CARD_W) / 2;
        card.y = top;
        top += card.h + V_GAP;
        card
    });
    let dx = MARGIN + (width - body.w) / 2;
    move_region(&mut body, dx, top);
    if let Some(card) = &trigger {
        for block in body.blocks.iter().filter(|b| b.y == top + label_h(&body)) {
            edges.push(arrow(card.x + card.w / 2, card.y + card.h, block, None));
        }
    }
    let height = top + body.h + MARGIN;
    Picture {
        name: workflow.name.clone(),
        run: run.map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["status"].as_str().and_then(Status::parse),
            )
        }),
        size: (width + 2 * MARGIN, height),
        trigger,
        body,
        edges,
    }
}

fn label_h(region: &Region) -> i32 {
    if region.label.is_empty() { 0 } else { LABEL_H }
}

/// Which records a container's actions have: `None` without a run,
/// `Some(None)` with a run that has none (a branch not taken).
type Records<'a> = Option<Option<&'a Map<String, Value>>>;

fn region(
    container: &Container,
    label: &str,
    records: Records<'_>,
    depth: usize,
    max_depth: usize,
    card_h: i32,
) -> Region {
    let label_h = if label.is_empty() { 0 } else { LABEL_H };
    let mut out = Region { label: label.to_owned(), ..Region::default() };
    if container.actions.is_empty() {
        out.w = CARD_W;
        out.h = label_h + EMPTY_H;
        return out;
    }
    let rows = rows(container);
    let mut blocks: BTreeMap<&str, Block> = BTreeMap::new();
    let mut y = label_h;
    let mut width = 0;
    let mut placed_rows = Vec::new();
    for row in &rows {
        let row_blocks: Vec<Block> = row
            .iter()
            .map(|action| {
                let record = records.map(|r| r.and_then(|m| m.get(&action.name)));
                block(action, record, depth, max_depth, card_h)
            })
            .collect();
        let row_w = row_blocks.iter().map(|b| b.w).sum::<i32>()
            + H_GAP * (row_blocks.len() as i32 - 1);
        let row_h = row_blocks.iter().map(|b| b.h).max().unwrap_or(0);
        width = width.max(row_w);
        placed_rows.push((row_w, y, row_blocks));
        y += row_h + V_GAP;
    }
    for (row_w, row_y, row_blocks) in placed_rows {
        let mut x = (width - row_w) / 2;
        for mut b in row_blocks {
            // Blocks are built at (0, 0).
            shift_block(&mut b, x, row_y);
            x += b.w + H_GAP;
            blocks.insert(container_name(container, &b.card.name), b);
        }
    }
    for action in &container.actions {
        let Some(target) = blocks.get(action.name.as_str()) else { continue };
        for (before, statuses) in &action.run_after {
            let Some(source) = blocks.get(before.as_str()) else { continue };
            let label = (statuses.as_slice() != [Status::Succeeded]).then(|| {
                statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            });
            out.edges.push(arrow(
                source.x + source.w / 2,
                source.y + source.h,
                target,
                label,
            ));
        }
    }
    out.w = width;
    out.h = y - V_GAP;
    out.blocks =
        rows.iter().flatten().filter_map(|a| blocks.remove(a.name.as_str())).collect();
    out
}

/// The name as the container holds it (to key the map with the
/// container's own `&str`).
fn container_name<'a>(container: &'a Container, name: &str) -> &'a str {
    container.get(name).map(|a| a.name.as_str()).unwrap_or_default()
}

/// The actions of a container by rows: an action's row is one more than
/// its deepest predecessor's. A `runAfter` naming an action outside the
/// container, or a cycle (which `flow check` reports), counts as none.
fn rows(container: &Container) -> Vec<Vec<&Action>> {
    let n = container.actions.len();
    let mut rank: Vec<Option<usize>> = vec![None; n];
    let index = |name: &str| container.actions.iter().position(|a| a.name == name);
    // At most n passes settle every rank of an acyclic graph; what is left
    // is on a cycle and goes after everything else.
    for _ in 0..=n {
        let mut changed = false;
        for (i, action) in container.actions.iter().enumerate() {
            if rank[i].is_some() {
                continue;
            }
            let mut deepest = Some(0);
            for (before, _) in &action.run_after {
                match index(before) {
                    None => {}
                    Some(j) => match rank[j] {
                        Some(r) => deepest = deepest.map(|d: usize| d.max(r + 1)),
                        None => deepest = None,
                    },
                }
            }
            if let Some(r) = deepest {
                rank[i] = Some(r);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let last = rank.iter().flatten().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<&Action>> = Vec::new();
    for (i, action) in container.actions.iter().enumerate() {
        let r = rank[i].unwrap_or(last);
        if rows.len() <= r {
            rows.resize_with(r + 1, Vec::new);
        }
        rows[r].push(action);
    }
    rows.retain(|r| !r.is_empty());
    rows
}

fn block(
    action: &Action,
    record: Option<Option<&Value>>,
    depth: usize,
    max_depth: usize,
    card_h: i32,
) -> Block {
    let (label, icon) = describe(action);
    let mut card = Card {
        name: action.name.clone(),
        label,
        icon,
        run: record.map(mark),
        hidden: 0,
        x: 0,
        y: 0,
        w: CARD_W,
        h: card_h,
    };
    let branches = branches(action);
    if branches.is_empty() {
        return Block { card, x: 0, y: 0, w: CARD_W, h: card_h, regions: Vec::new() };
    }
    if depth >= max_depth {
        card.hidden = branches.iter().map(|(_, c)| count(c)).sum();
        return Block { card, x: 0, y: 0, w: CARD_W, h: card_h, regions: Vec::new() };
    }
    // A loop's inner records: its last iteration's.
    let inner: Option<Option<&Map<String, Value>>> = record.map(|r| {
        let r = r?;
        match r.get("repetitions").and_then(Value::as_array) {
            Some(reps) => {
                reps.last().and_then(|l| l.get("actions")).and_then(Value::as_object)
            }
            None => r.get("actions").and_then(Value::as_object),
        }
    });
    let mut regions: Vec<Region> = branches
        .iter()
        .map(|(label, c)| region(c, label, inner, depth + 1, max_depth, card_h))
        .collect();
    let inner_w =
        regions.iter().map(|r| r.w).sum::<i32>() + H_GAP * (regions.len() as i32 - 1);
    let w = inner_w.max(CARD_W) + 2 * PAD;
    let inner_h = regions.iter().map(|r| r.h).max().unwrap_or(0);
    let h = PAD + card_h + PAD + inner_h + PAD;
    let mut x = PAD + (w - 2 * PAD - inner_w) / 2;
    for r in &mut regions {
        move_region(r, x, PAD + card_h + PAD);
        x += r.w + H_GAP;
    }
    card.x = (w - CARD_W) / 2;
    card.y = PAD;
    Block { card, x: 0, y: 0, w, h, regions }
}

/// A container's branches, with their labels.
fn branches(action: &Action) -> Vec<(String, &Container)> {
    match &action.kind {
        ActionKind::If { then, otherwise, .. } => {
            vec![("True".to_owned(), then), ("False".to_owned(), otherwise)]
        }
        ActionKind::Switch { cases, default, .. } => {
            let mut out: Vec<(String, &Container)> = cases
                .iter()
                .map(|(name, value, c)| {
                    let value = match value {
                        Value::String(s) => format!("'{s}'"),
                        other => other.to_string(),
                    };
                    (format!("Case {name} = {value}"), c)
                })
                .collect();
            out.push(("Default".to_owned(), default));
            out
        }
        ActionKind::Foreach { actions, .. }
        | ActionKind::Until { actions, .. }
        | ActionKind::Scope { actions } => vec![("Actions".to_owned(), actions)],
        _ => Vec::new(),
    }
}

/// Every action inside a container, at any depth.
fn count(container: &Container) -> usize {
    container
        .actions
        .iter()
        .map(|a| 1 + branches(a).iter().map(|(_, c)| count(c)).sum::<usize>())
        .sum()
}

/// What a card says an action is, and its symbol.
fn describe(action: &Action) -> (String, &'static str) {
    match &action.kind {
        ActionKind::Http { .. } => ("HTTP".to_owned(), "⇄"),
        ActionKind::Connector { host, .. } => {
            let operation = action
                .raw
                .pointer("/inputs/host/operationId")
                .or_else(|| host.get("operationId"))
                .and_then(Value::as_str);
            match operation {
                Some(op) => (format!("{op} · {}", action.type_name), "⚡"),
                None => (action.type_name.clone(), "⚡"),
            }
        }
        ActionKind::If { .. } => ("Condition".to_owned(), "◇"),
        ActionKind::Switch { .. } => ("Switch".to_owned(), "⑂"),
        ActionKind::Foreach { .. } => ("Apply to each".to_owned(), "↻"),
        ActionKind::Until { .. } => ("Do until".to_owned(), "↺"),
        ActionKind::Scope { .. } => ("Scope".to_owned(), "▭"),
        ActionKind::Query { .. } => ("Filter array".to_owned(), "≡"),
        ActionKind::Select { .. } => ("Select".to_owned(), "≡"),
        ActionKind::Data { op, .. } => {
            let icon = match op {
                DataOp::Compose | DataOp::ParseJson => "{}",
                DataOp::Wait => "◷",
                DataOp::Terminate => "■",
                DataOp::Join => "≡",
                _ => "x",
            };
            (action.type_name.clone(), icon)
        }
    }
}

/// A record's mark; `None` for an action the run has no record of.
fn mark(record: Option<&Value>) -> RunMark {
    let Some(r) = record.filter(|r| r.is_object()) else {
        return RunMark {
            status: None,
            duration: None,
            retries: 0,
            code: None,
            iterations: None,
        };
    };
    let status = r["status"].as_str().and_then(Status::parse);
    let duration = match (r["startTime"].as_str(), r["endTime"].as_str()) {
        (Some(s), Some(e)) if status != Some(Status::Skipped) => {
            match (OffsetDateTime::parse(s, &Rfc3339), OffsetDateTime::parse(e, &Rfc3339))
            {
                (Ok(s), Ok(e)) => Some(human((e - s).whole_milliseconds().max(0))),
                _ => None,
            }
        }
        _ => None,
    };
    RunMark {
        status,
        duration,
        retries: r["attempts"].as_array().map_or(0, |a| a.len().saturating_sub(1)),
        code: r["code"].as_str().map(str::to_owned),
        iterations: r["repetitions"].as_array().map(Vec::len),
    }
}

/// `350 ms`, `1.2 s`, `1 min 5 s`.
pub fn human(ms: i128) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    } else {
        let s = ms / 1000;
        format!("{} min {} s", s / 60, s % 60)
    }
}

fn arrow(x0: i32, y0: i32, target: &Block, label: Option<String>) -> Edge {
    let x1 = target.x + target.w / 2;
    let y1 = target.y;
    let mid = y1 - V_GAP / 2;
    let points = if x0 == x1 {
        vec![(x0, y0), (x1, y1)]
    } else {
        vec![(x0, y0), (x0, mid), (x1, mid), (x1, y1)]
    };
    Edge { points, label, label_at: (x1 + 6, y1 - 8) }
}

fn move_region(region: &mut Region, dx: i32, dy: i32) {
    region.x += dx;
    region.y += dy;
    for b in &mut region.blocks {
        shift_block(b, dx, dy);
    }
    for e in &mut region.edges {
        for p in &mut e.points {
            p.0 += dx;
            p.1 += dy;
        }
        e.label_at.0 += dx;
        e.label_at.1 += dy;
    }
}

fn shift_block(block: &mut Block, dx: i32, dy: i32) {
    block.x += dx;
    block.y += dy;
    block.card.x += dx;
    block.card.y += dy;
    for r in &mut block.regions {
        move_region(r, dx, dy);
    }
}
