//! Findings and reports, the one shape of every offline check of the
//! workspace: the connector validator ([`crate::validate`]) and
//! `graphlab flow check` (which re-exports these types) both report a
//! [`Report`] of [`Finding`]s, each with a rule id of the checker's own
//! `rules::ALL`, a [`Severity`], the file and a JSON path.

use std::fmt;

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// It works, but could be better or not as meant (a connector that would
    /// fail certification, a flow that runs but probably not as meant).
    Warning,
    /// It is broken: the platform would refuse it (or, with certification,
    /// a connector would be refused), or a run would fail.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem: which rule, how serious, where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id, one of the checker's `rules::ALL` (e.g.
    /// `cert.title-length` or `runafter.cycle`).
    pub rule: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the package directory, or as given.
    pub file: String,
    /// Where in the file: a JSON path such as `$.info.title` (`$` for the
    /// whole file).
    pub path: String,
    /// What is wrong. Never contains a secret value.
    pub message: String,
    /// For malformed JSON: the 1-based line of the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// For malformed JSON, or an expression's error: the 1-based column (in
    /// the file, or in the string value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Finding {
    /// A finding of `rule` at `path` in `file`, with no line or column.
    pub fn new(
        rule: &'static str,
        severity: Severity,
        file: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity,
            file: file.into(),
            path: path.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}] {}", self.severity, self.rule, self.file)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, " {}: {}", self.path, self.message)
    }
}

/// Everything found in one package or file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What the file was read as, when the checker recognises shapes
    /// (`graphlab flow check`: "workflow definition", "ARM template", ...);
    /// the connector validator leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// The findings, in the order the checker documents.
    pub findings: Vec<Finding>,
}

impl Report {
    /// A report of `findings` with no shape.
    pub fn of(findings: Vec<Finding>) -> Report {
        Report { shape: None, findings }
    }

    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }

    /// How many findings are warnings.
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }

    /// No errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors() == 0
    }

    /// The distinct rule ids found, sorted.
    pub fn rules(&self) -> Vec<&'static str> {
        let mut ids: Vec<_> = self.findings.iter().map(|f| f.rule).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        write!(f, "{} error(s), {} warning(s)", self.errors(), self.warnings())
    }
}
