//! The definition's tree, read from raw JSON: its declared parameters, its
//! triggers, and every action with the container it belongs to. Problems
//! met on the way (what should be an object is not, duplicate names, the
//! service's limits) are findings; reading goes on past them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::Sink;
use crate::definition::{MAX_ACTIONS, MAX_NESTING, key_path};

/// One action of the workflow.
pub(crate) struct Node<'a> {
    /// Its key.
    pub name: &'a str,
    /// Its JSON path.
    pub path: String,
    /// Its JSON object.
    pub raw: &'a Map<String, Value>,
    /// `type`, lower-cased (empty when missing).
    pub kind: String,
    /// The container it belongs to (an index into [`Model::blocks`]).
    pub block: usize,
    /// How many container actions enclose it (0 at the top level).
    pub level: usize,
}

/// A container: the top level, or the inside of a container action (an
/// `If`'s `actions` or `else.actions`, a Switch case, a loop, a Scope).
pub(crate) struct Block {
    /// The container action, `None` at the top level.
    pub owner: Option<usize>,
    /// The JSON path of its `actions` object.
    pub path: String,
    /// Its actions (indexes into [`Model::nodes`]).
    pub members: Vec<usize>,
}

/// A definition, as far as the checks need it.
pub(crate) struct Model<'a> {
    /// The JSON path of the definition object.
    pub root: String,
    /// The definition object.
    pub definition: &'a Map<String, Value>,
    /// Declared parameters.
    pub parameters: BTreeSet<&'a str>,
    /// Triggers: name, path, object.
    pub triggers: Vec<(&'a str, String, &'a Map<String, Value>)>,
    /// Every action, parents before their children.
    pub nodes: Vec<Node<'a>>,
    /// Every container; block 0 is the top level.
    pub blocks: Vec<Block>,
    /// Action names → their nodes (more than one when duplicated).
    pub by_name: BTreeMap<&'a str, Vec<usize>>,
}

/// The keys under which a container action of type `kind` holds actions:
/// (JSON path suffix, the actions object).
pub(crate) fn bodies<'a>(
    kind: &str,
    raw: &'a Map<String, Value>,
) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    match kind {
        "if" => {
            if let Some(a) = raw.get("actions") {
                out.push((".actions".to_owned(), a));
            }
            if let Some(a) = raw.get("else").and_then(|e| e.get("actions")) {
                out.push((".else.actions".to_owned(), a));
            }
        }
        "switch" => {
            if let Some(cases) = raw.get("cases").and_then(Value::as_object) {
                for (name, case) in cases {
                    if let Some(a) = case.get("actions") {
                        out.push((format!(".cases{}.actions", key_path(name)), a));
                    }
                }
            }
            if let Some(a) = raw.get("default").and_then(|d| d.get("actions")) {
                out.push((".default.actions".to_owned(), a));
            }
        }
        "foreach" | "until" | "scope" => {
            if let Some(a) = raw.get("actions") {
                out.push((".actions".to_owned(), a));
            }
        }
        _ => {}
    }
    out
}

impl<'a> Model<'a> {
    /// Reads the definition; `None` when it is not even an object.
    pub(crate) fn build(
        definition: &'a Value,
        root: &str,
        sink: &mut Sink,
    ) -> Option<Model<'a>> {
        let Some(object) = definition.as_object() else {
            sink.error(
                "structure.object",
                root,
                "a workflow definition is a JSON object",
            );
            return None;
        };
        let mut model = Model {
            root: root.to_owned(),
            definition: object,
            parameters: BTreeSet::new(),
            triggers: Vec::new(),
            nodes: Vec::new(),
            blocks: Vec::new(),
            by_name: BTreeMap::new(),
        };
        for key in ["parameters", "triggers", "actions", "outputs"] {
            if let Some(v) = object.get(key).filter(|v| !v.is_object()) {
                let kind = if v.is_null() { "null" } else { "not an object" };
                sink.error(
                    "structure.object",
                    format!("{root}.{key}"),
                    format!("'{key}' is {kind}: expected a JSON object"),
                );
            }
        }
        if let Some(declared) = object.get("parameters").and_then(Value::as_object) {
            model.parameters = declared.keys().map(String::as_str).collect();
        }
        if let Some(triggers) = object.get("triggers").and_then(Value::as_object) {
            for (name, t) in triggers {
                let at = format!("{root}.triggers{}", key_path(name));
                match t.as_object() {
                    Some(t) => model.triggers.push((name, at, t)),
                    None => {
                        sink.error("structure.object", at, "a trigger is a JSON object")
                    }
                }
            }
        }
        let top = object.get("actions").and_then(Value::as_object);
        model.blocks.push(Block {
            owner: None,
            path: format!("{root}.actions"),
            members: Vec::new(),
        });
        let mut reported_nesting = false;
        if let Some(top) = top {
            model.read_block(top, 0, 0, sink, &mut reported_nesting);
        }
        if model.nodes.len() > MAX_ACTIONS {
            sink.error(
                "limits.actions",
                format!("{root}.actions"),
                format!(
                    "the workflow has {} actions; Logic Apps allows at most {MAX_ACTIONS} per \
                     workflow (\"Limits and configuration reference for Azure Logic Apps\")",
                    model.nodes.len()
                ),
            );
        }
        for (name, nodes) in &model.by_name {
            for &dup in nodes.iter().skip(1) {
                sink.error(
                    "action.name-duplicate",
                    model.nodes[dup].path.clone(),
                    format!(
                        "another action is named '{name}' ({}): action names are unique in a \
                         workflow, whatever container they are in",
                        model.nodes[nodes[0]].path
                    ),
                );
            }
        }
        Some(model)
    }

    fn read_block(
        &mut self,
        actions: &'a Map<String, Value>,
        block: usize,
        level: usize,
        sink: &mut Sink,
        reported_nesting: &mut bool,
    ) {
        let base = self.blocks[block].path.clone();
        for (name, action) in actions {
            let path = format!("{base}{}", key_path(name));
            let Some(raw) = action.as_object() else {
                sink.error("structure.object", path, "an action is a JSON object");
                continue;
            };
            let kind = raw
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            let index = self.nodes.len();
            self.nodes.push(Node {
                name,
                path: path.clone(),
                raw,
                kind: kind.clone(),
                block,
                level,
            });
            self.blocks[block].members.push(index);
            self.by_name.entry(name).or_default().push(index);
            for (suffix, inner) in bodies(&kind, raw) {
                let inner_path = format!("{path}{suffix}");
                let Some(inner) = inner.as_object() else {
                    sink.error(
                        "structure.object",
                        inner_path,
                        "'actions' is a JSON object",
                    );
                    continue;
                };
                if level + 1 > MAX_NESTING {
                    if !*reported_nesting && !inner.is_empty() {
                        *reported_nesting = true;
                        sink.error(
                            "limits.nesting",
                            inner_path,
                            format!(
                                "actions are nested {} levels deep here; Logic Apps allows at \
                                 most {MAX_NESTING} (\"Limits and configuration reference for \
                                 Azure Logic Apps\": nesting depth for actions)",
                                level + 1
                            ),
                        );
                    }
                    continue;
                }
                let child = self.blocks.len();
                self.blocks.push(Block {
                    owner: Some(index),
                    path: inner_path,
                    members: Vec::new(),
                });
                self.read_block(inner, child, level + 1, sink, reported_nesting);
            }
        }
    }

    /// The container action enclosing `node`, if any.
    pub(crate) fn parent(&self, node: usize) -> Option<usize> {
        self.blocks[self.nodes[node].block].owner
    }

    /// `node`, then its enclosing container actions, innermost first.
    pub(crate) fn ancestors_or_self(&self, node: usize) -> Vec<usize> {
        let mut out = vec![node];
        let mut at = node;
        while let Some(p) = self.parent(at) {
            out.push(p);
            at = p;
        }
        out
    }

    /// The one action with this name (the first, when duplicated).
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).and_then(|v| v.first().copied())
    }

    /// The actions of `node`'s container that `node` waits for, directly:
    /// its `runAfter` names that are in the same container.
    pub(crate) fn run_after(&self, node: usize) -> Vec<usize> {
        let n = &self.nodes[node];
        let Some(map) = n.raw.get("runAfter").and_then(Value::as_object) else {
            return Vec::new();
        };
        map.keys()
            .filter_map(|k| {
                self.by_name.get(k.as_str()).and_then(|v| {
                    v.iter().copied().find(|&i| self.nodes[i].block == n.block)
                })
            })
            .collect()
    }

    /// Every action `node` waits for through `runAfter`, transitively,
    /// within its own container.
    pub(crate) fn predecessors(&self, node: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = self.run_after(node);
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                stack.extend(self.run_after(next));
            }
        }
        seen
    }

    /// Whether `earlier` has ended whenever `later` starts: some container
    /// action enclosing `later` (or `later` itself) waits, through
    /// `runAfter`, for `earlier` or for a container action enclosing it.
    pub(crate) fn runs_before(&self, earlier: usize, later: usize) -> bool {
        let earlier_chain = self.ancestors_or_self(earlier);
        self.ancestors_or_self(later).into_iter().any(|a| {
            let block = self.nodes[a].block;
            let candidates: Vec<usize> = earlier_chain
                .iter()
                .copied()
                .filter(|&e| self.nodes[e].block == block && e != a)
                .collect();
            !candidates.is_empty() && {
                let before = self.predecessors(a);
                candidates.iter().any(|c| before.contains(c))
            }
        })
    }
}
