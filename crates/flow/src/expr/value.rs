//! Whole JSON values whose string leaves are templates.

use serde_json::{Map, Value};

use super::MAX_JSON_DEPTH;
use super::error::{ErrorKind, ExprError};
use super::reference::{Reference, collect};
use super::scope::Scope;
use super::template::Template;

/// A JSON value from a definition (an action's `inputs`, a loop's
/// `foreach`) with every string leaf parsed as a [`Template`]; object keys
/// are kept as they are, never evaluated.
///
/// Errors of [`compile`](Self::compile) and [`evaluate`](Self::evaluate)
/// name the string's place as a JSON path (`$.body.requests[0].url`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledValue {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A value without any expression, kept as it is.
    Literal(Value),
    Template(Template),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// A JSON path's step, for error messages.
fn push_key(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if simple {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::to_string(key).unwrap_or_default())
    }
}

impl CompiledValue {
    /// Parses every string leaf of `value`. Nesting deeper than
    /// [`MAX_JSON_DEPTH`] is a [`ErrorKind::TooDeep`] error.
    pub fn compile(value: &Value) -> Result<CompiledValue, ExprError> {
        Ok(CompiledValue { node: compile(value, 0, &mut || "$".to_string())? })
    }

    /// Evaluates the value: each template in place, the rest as it is.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, ExprError> {
        evaluate(&self.node, scope, &|| "$".to_string())
    }

    /// Whether the value holds no expression at all.
    pub fn is_literal(&self) -> bool {
        matches!(self.node, Node::Literal(_))
    }

    /// What the value's expressions read of the run: actions, variables,
    /// parameters, loops, the trigger (calls whose name argument is a
    /// string literal), in order of appearance, without repeats.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        self.for_each_template(&mut |t| {
            for expr in t.expressions() {
                collect(expr, &mut out);
            }
        });
        out
    }

    /// Every template in the value, depth first.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        fn walk<'a>(node: &'a Node, out: &mut Vec<&'a Template>) {
            match node {
                Node::Literal(_) => {}
                Node::Template(t) => out.push(t),
                Node::Array(items) => items.iter().for_each(|n| walk(n, out)),
                Node::Object(entries) => entries.iter().for_each(|(_, n)| walk(n, out)),
            }
        }
        walk(&self.node, &mut out);
        out
    }

    fn for_each_template(&self, f: &mut dyn FnMut(&Template)) {
        for t in self.templates() {
            f(t);
        }
    }
}

fn too_deep(path: String) -> ExprError {
    ExprError::new(
        ErrorKind::TooDeep,
        format!("The JSON value nests more than {MAX_JSON_DEPTH} levels deep."),
    )
    .or_path(|| path)
}

fn compile(
    value: &Value,
    depth: usize,
    path: &mut dyn FnMut() -> String,
) -> Result<Node, ExprError> {
    if depth > MAX_JSON_DEPTH {
        return Err(too_deep(path()));
    }
    match value {
        Value::String(s) => {
            let template = Template::parse(s).map_err(|e| e.or_path(&mut *path))?;
            Ok(if template.is_literal() {
                Node::Literal(value.clone())
            } else {
                Node::Template(template)
            })
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                nodes.push(compile(item, depth + 1, &mut || format!("{}[{i}]", path()))?);
            }
            Ok(if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Array(nodes)
            })
        }
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                entries.push((
                    k.clone(),
                    compile(v, depth + 1, &mut || push_key(&path(), k))?,
                ));
            }
            Ok(if entries.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Object(entries)
            })
        }
        other => Ok(Node::Literal(other.clone())),
    }
}

fn evaluate(
    node: &Node,
    scope: &dyn Scope,
    path: &dyn Fn() -> String,
) -> Result<Value, ExprError> {
    match node {
        Node::Literal(v) => Ok(v.clone()),
        Node::Template(t) => t.evaluate(scope).map_err(|e| e.or_path(path)),
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(evaluate(item, scope, &|| format!("{}[{i}]", path()))?);
            }
            Ok(Value::Array(out))
        }
        Node::Object(entries) => {
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), evaluate(v, scope, &|| push_key(&path(), k))?);
            }
            Ok(Value::Object(out))
        }
    }
}
