//! String values of a definition: literals, `@expressions` and
//! `@{interpolations}`.

use std::fmt;

use serde_json::Value;

use super::error::{ErrorKind, ExprError};
use super::eval;
use super::functions::to_text;
use super::parser::{Expr, parse_expression};
use super::scope::Scope;

/// One string value of a workflow definition, parsed:
///
/// - `"plain"`: a literal (also any text whose `@` is not followed by `{`,
///   such as `"a@b.com"`);
/// - `"@expr"`: a whole expression, which evaluates to any JSON value
///   (`"@add(1, 2)"` → `3`);
/// - `"a @{expr} b"`: an interpolation, which is always a string; values
///   render as `string()` renders them (null as empty, objects and arrays
///   as JSON text, booleans as `True`/`False`). A value that is only
///   `"@{expr}"` is an interpolation too, so it gives a string.
///
/// Escapes: a value starting with `@@` is the literal text after the
/// first `@` (`"@@x"` → `"@x"`); inside text, `@@{` is a literal `@{`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Literal(String),
    Expression(Expr),
    Interpolation(Vec<Segment>),
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Text(String),
    /// An expression and the 1-based column where its text starts.
    Expr(Expr, usize),
}

impl Template {
    /// Parses a string value. Errors carry the 1-based column in `text`.
    pub fn parse(text: &str) -> Result<Template, ExprError> {
        let kind = if let Some(rest) = text.strip_prefix('@')
            && !rest.starts_with('{')
        {
            if let Some(literal) = rest.strip_prefix('@') {
                Kind::Literal(format!("@{literal}"))
            } else {
                Kind::Expression(parse_expression(rest).map_err(|e| e.shifted(1))?)
            }
        } else if text.contains("@{") {
            Kind::Interpolation(interpolation(text)?)
        } else {
            Kind::Literal(text.to_string())
        };
        Ok(Template { source: text.to_string(), kind })
    }

    /// A template for a literal string, whatever it contains.
    pub fn literal(text: &str) -> Template {
        let source = if text.starts_with('@') {
            format!("@{text}")
        } else {
            text.replace("@{", "@@{")
        };
        Template { source, kind: Kind::Literal(text.to_string()) }
    }

    /// Whether the value has no expression (evaluating it needs no scope).
    pub fn is_literal(&self) -> bool {
        matches!(self.kind, Kind::Literal(_))
    }

    /// The text of a literal value (after unescaping `@@`).
    pub fn as_literal(&self) -> Option<&str> {
        match &self.kind {
            Kind::Literal(s) => Some(s),
            _ => None,
        }
    }

    /// The expression of a whole-expression value (`"@expr"`), which
    /// evaluates to any JSON type; `None` for literals and interpolations
    /// (always strings).
    pub fn as_expression(&self) -> Option<&Expr> {
        match &self.kind {
            Kind::Expression(e) => Some(e),
            _ => None,
        }
    }

    /// The source text, as given to [`Template::parse`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the value: the literal text, the expression's JSON value,
    /// or the interpolated string.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, ExprError> {
        match &self.kind {
            Kind::Literal(s) => Ok(Value::String(s.clone())),
            // Evaluation errors point at the expression's first character.
            Kind::Expression(expr) => {
                eval::evaluate(expr, scope).map_err(|e| e.or_column(2))
            }
            Kind::Interpolation(segments) => {
                let mut out = String::new();
                for segment in segments {
                    match segment {
                        Segment::Text(s) => out.push_str(s),
                        Segment::Expr(expr, column) => out.push_str(&to_text(
                            &eval::evaluate(expr, scope)
                                .map_err(|e| e.or_column(*column))?,
                        )),
                    }
                }
                Ok(Value::String(out))
            }
        }
    }

    /// The expressions in the value, in order.
    pub fn expressions(&self) -> Vec<&Expr> {
        match &self.kind {
            Kind::Literal(_) => Vec::new(),
            Kind::Expression(expr) => vec![expr],
            Kind::Interpolation(segments) => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Expr(e, _) => Some(e),
                    Segment::Text(_) => None,
                })
                .collect(),
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Splits `"a @{x} b"` into text and expressions. `@@{` is a literal `@{`;
/// the expression ends at the first `}` outside a string literal.
fn interpolation(text: &str) -> Result<Vec<Segment>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' && chars.get(i + 1) == Some(&'{') {
            if i > 0 && chars[i - 1] == '@' {
                // `@@{`: the first `@` is already in `literal`; drop this one.
                literal.push('{');
                i += 2;
                continue;
            }
            let start = i;
            let mut j = i + 2;
            let mut in_string = false;
            let end = loop {
                match chars.get(j) {
                    None => {
                        return Err(ExprError::at(
                            ErrorKind::Parse,
                            start + 1,
                            "The interpolated expression '@{' is not closed by '}'.",
                        ));
                    }
                    Some('\'') => in_string = !in_string,
                    Some('}') if !in_string => break j,
                    Some(_) => {}
                }
                j += 1;
            };
            if !literal.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut literal)));
            }
            let inner: String = chars[start + 2..end].iter().collect();
            let expr = parse_expression(&inner).map_err(|e| e.shifted(start + 2))?;
            segments.push(Segment::Expr(expr, start + 3));
            i = end + 1;
        } else {
            literal.push(chars[i]);
            i += 1;
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(segments)
}
