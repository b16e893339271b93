//! The one error type of parsing and evaluation.

use std::fmt;

/// What kind of problem an [`ExprError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not an expression (unterminated string, missing
    /// parenthesis, trailing characters, bad number, unclosed `@{`, ...).
    Parse,
    /// A function that the language does not have.
    UnknownFunction,
    /// A function called with too few or too many arguments.
    Arity,
    /// Nesting deeper than the limits ([`super::MAX_DEPTH`],
    /// [`super::MAX_JSON_DEPTH`]).
    TooDeep,
    /// The expression is well formed but failed at run time (wrong type,
    /// missing property, index out of range, division by zero, ...).
    Evaluation,
}

/// Why an expression could not be parsed or evaluated.
///
/// Displays as `column N: message`, prefixed by `PATH: ` inside a
/// [`super::CompiledValue`] (`$.body.requests[0].url: column 3: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExprError {
    kind: ErrorKind,
    message: String,
    column: Option<usize>,
    path: Option<String>,
}

impl ExprError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ExprError { kind, message: message.into(), column: None, path: None }
    }

    pub(crate) fn at(kind: ErrorKind, column: usize, message: impl Into<String>) -> Self {
        ExprError { kind, message: message.into(), column: Some(column), path: None }
    }

    pub(crate) fn eval(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Evaluation, message)
    }

    /// Sets the column when none is known yet.
    pub(crate) fn or_column(mut self, column: usize) -> Self {
        if self.column.is_none() {
            self.column = Some(column);
        }
        self
    }

    /// Moves the column right by `offset` characters (an expression's place
    /// inside its string value).
    pub(crate) fn shifted(mut self, offset: usize) -> Self {
        if let Some(c) = self.column.as_mut() {
            *c += offset;
        }
        self
    }

    /// Sets the JSON path when none is known yet.
    pub(crate) fn or_path(mut self, path: impl FnOnce() -> String) -> Self {
        if self.path.is_none() {
            self.path = Some(path());
        }
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The 1-based column, in characters, in the string value (counting the
    /// leading `@`): where a parse problem is, or where the expression that
    /// failed to evaluate starts. `None` for expressions parsed alone and
    /// evaluated outside a [`super::Template`].
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The problem, in the platform's words where it has some.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the string value sits inside a [`super::CompiledValue`], as a
    /// JSON path (`$.body.requests[0].url`); `None` outside one.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        if let Some(column) = self.column {
            write!(f, "column {column}: ")?;
        }
        f.write_str(&self.message)
    }
}
