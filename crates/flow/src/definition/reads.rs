//! What a workflow's expressions read of its actions' results, found once
//! when the definition is read, so that the engine keeps only those: an
//! action whose result no expression names needs no result object, and a
//! loop or scope that no `result()` names needs no array of its actions'
//! results. A name computed at run time (`body(variables('step'))`) may
//! read any of them, and then everything is kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::expr::{CompiledValue, Reference};

/// How much of an action's result expressions read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Read {
    /// `body('A')`, `outputs('A')` and the form-data functions: its outputs.
    Outputs,
    /// `actions('A')`: the whole result object, inputs included.
    Whole,
}

/// The results a workflow's expressions read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Some expression names an action or scope only at run time.
    any: bool,
    /// Actions by key, with how much of each is read.
    actions: BTreeMap<String, Read>,
    /// Loops and scopes that `result()` names.
    results: BTreeSet<String>,
}

impl Reads {
    /// Everything may be read (what a definition that cannot be analysed
    /// gets).
    pub fn everything() -> Reads {
        Reads { any: true, ..Reads::default() }
    }

    /// The reads of every expression anywhere in `definition` (actions,
    /// nested actions, conditions, loop inputs, outputs).
    pub fn of(definition: &Value) -> Reads {
        let Ok(compiled) = CompiledValue::compile(definition) else {
            return Reads::everything();
        };
        let mut reads = Reads::default();
        for reference in compiled.references() {
            match reference {
                Reference::Action { function, name } => {
                    let read =
                        if function == "actions" { Read::Whole } else { Read::Outputs };
                    let entry = reads.actions.entry(name).or_insert(read);
                    *entry = (*entry).max(read);
                }
                Reference::Result(name) => {
                    reads.results.insert(name);
                }
                Reference::Unnamed(_) => reads.any = true,
                _ => {}
            }
        }
        reads
    }

    /// How much of action `name`'s result is read, if any of it is.
    pub fn action(&self, name: &str) -> Option<Read> {
        if self.any { Some(Read::Whole) } else { self.actions.get(name).copied() }
    }

    /// Whether `result(name)` is read.
    pub fn result(&self, name: &str) -> bool {
        self.any || self.results.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_what_each_function_reads_and_gives_up_on_computed_names() {
        let reads = Reads::of(&json!({"actions": {
            "A": {"type": "Compose", "inputs": "@body('B')"},
            "C": {"type": "Compose", "inputs": "@{actions('B')?['status']} @{outputs('D')}"},
            "E": {"type": "Compose", "inputs": "@result('Loop')"}
        }}));
        assert_eq!(reads.action("B"), Some(Read::Whole));
        assert_eq!(reads.action("D"), Some(Read::Outputs));
        assert_eq!(reads.action("A"), None);
        assert!(reads.result("Loop"));
        assert!(!reads.result("Other"));

        let dynamic = Reads::of(&json!({"actions": {
            "A": {"type": "Compose", "inputs": "@body(variables('step'))"}
        }}));
        assert_eq!(dynamic.action("anything"), Some(Read::Whole));
        assert!(dynamic.result("anything"));
    }
}
