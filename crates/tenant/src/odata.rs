//! The OData subset Graph clients use: `$select`, `$filter` (eq, ne, gt, ge,
//! lt, le, and, or, not, parentheses, `startswith`, `endswith`), `$top` with
//! `@odata.nextLink` paging through `$skiptoken`, and `$count`.
//!
//! The `$filter` parser is recursive descent; its depth (parentheses and
//! `not`) and its size (operators and terms) are bounded by
//! [`MAX_FILTER_DEPTH`] and [`MAX_FILTER_NODES`], so the evaluator, which
//! walks the tree recursively, and the tree's drop are bounded too.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::{
    error::GraphError,
    limits::{MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_SELECT_FIELDS, TOP_RANGE},
};

/// Parsed query options.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// `$select`, if given.
    pub select: Option<Vec<String>>,
    /// `$filter`, if given.
    pub filter: Option<Expr>,
    /// `$top`, if given.
    pub top: Option<usize>,
    /// `$skiptoken`: the id after which the next page starts.
    pub skip_after: Option<String>,
    /// `$count=true`.
    pub count: bool,
    /// The raw query pairs, minus `$skiptoken` (to rebuild next links).
    pub raw: Vec<(String, String)>,
}

impl QueryOptions {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Result<QueryOptions, GraphError> {
        // `form_urlencoded` replaces invalid UTF-8; Graph refuses it, so
        // check first (the separators are ASCII: the whole query decodes
        // as UTF-8 exactly when every name and value does).
        if percent_decode_str(query).decode_utf8().is_err() {
            return Err(GraphError::bad_request("The query string is not valid UTF-8."));
        }
        let mut options = QueryOptions::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            let name = key.strip_prefix('$').unwrap_or(&key).to_ascii_lowercase();
            let is_option = key.starts_with('$');
            match (is_option, name.as_str()) {
                (true, "select") => {
                    let fields: Vec<String> = value
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if fields.is_empty() {
                        return Err(GraphError::bad_request(
                            "The $select query option is empty.",
                        ));
                    }
                    if fields.len() > MAX_SELECT_FIELDS {
                        return Err(GraphError::bad_request(format!(
                            "The $select query option names {} properties; at most \
                             {MAX_SELECT_FIELDS} are allowed.",
                            fields.len()
                        )));
                    }
                    options.select = Some(fields);
                }
                (true, "filter") => options.filter = Some(parse_filter(&value)?),
                (true, "top") => {
                    let n: usize = value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for $top query option found."
                        ))
                    })?;
                    if !TOP_RANGE.contains(&n) {
                        return Err(GraphError::directory_bad_request(format!(
                            "Invalid page size specified: '{n}'. Must be between {} and {} inclusive.",
                            TOP_RANGE.start(),
                            TOP_RANGE.end()
                        )));
                    }
                    options.top = Some(n);
                }
                (true, "skiptoken") => {
                    let id = URL_SAFE_NO_PAD
                        .decode(value.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| {
                            GraphError::bad_request("Invalid $skiptoken value.")
                        })?;
                    options.skip_after = Some(id);
                    continue;
                }
                (true, "count") => {
                    options.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(GraphError::bad_request(format!(
                                "Invalid value '{value}' for $count query option found. \
                                 Valid values are 'true', 'false'."
                            )));
                        }
                    }
                }
                (true, "expand" | "orderby" | "search" | "skip" | "format") => {
                    return Err(GraphError::bad_request(format!(
                        "Query option '${name}' is not supported by the graphlab emulator."
                    )));
                }
                (true, other) => {
                    return Err(GraphError::bad_request(format!(
                        "Query option '${other}' is not allowed."
                    )));
                }
                (false, _) => {}
            }
            options.raw.push((key, value));
        }
        Ok(options)
    }
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `path op literal`
    Cmp(Vec<String>, CmpOp, Value),
    /// `startswith(path, 'x')` / `endswith(path, 'x')`
    Func(StrFunc, Vec<String>, String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// eq
    Eq,
    /// ne
    Ne,
    /// gt
    Gt,
    /// ge
    Ge,
    /// lt
    Lt,
    /// le
    Le,
}

/// String functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFunc {
    /// startswith
    StartsWith,
    /// endswith
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
}

fn invalid(detail: impl std::fmt::Display) -> GraphError {
    GraphError::bad_request(format!("Invalid filter clause: {detail}"))
}

fn lex(input: &str) -> Result<Vec<Tok>, GraphError> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(invalid("unterminated string literal")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n =
                    text.parse().map_err(|_| invalid(format!("bad number '{text}'")))?;
                out.push(Tok::Num(n));
            }
            c if c.is_alphabetic() || c == '_' || c == '@' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || matches!(chars[i], '_' | '/' | '.' | '@'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(invalid(format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// How deep the parser is in parentheses and `not`s.
    depth: usize,
    /// Operators and terms so far.
    nodes: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), GraphError> {
        match self.next() {
            Some(t) if t == tok => Ok(()),
            _ => Err(invalid(format!("expected {what}"))),
        }
    }

    /// Counts one more operator or term.
    fn node(&mut self) -> Result<(), GraphError> {
        self.nodes += 1;
        if self.nodes > MAX_FILTER_NODES {
            return Err(GraphError::bad_request(format!(
                "The query specified in the URI is not valid. The node count limit of \
                 '{MAX_FILTER_NODES}' has been exceeded."
            )));
        }
        Ok(())
    }

    /// Goes one level deeper (a parenthesis or a `not`).
    fn deeper(&mut self) -> Result<(), GraphError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(invalid(format!(
                "the expression nests deeper than {MAX_FILTER_DEPTH} levels of \
                 parentheses and 'not'"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, GraphError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            self.node()?;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, GraphError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            self.node()?;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, GraphError> {
        if self.keyword("not") {
            self.pos += 1;
            self.node()?;
            self.deeper()?;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.deeper()?;
            let e = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            self.depth -= 1;
            return Ok(e);
        }
        self.node()?;
        let Some(Tok::Ident(name)) = self.next() else {
            return Err(invalid("expected a property name"));
        };
        let func = match name.to_ascii_lowercase().as_str() {
            "startswith" => Some(StrFunc::StartsWith),
            "endswith" => Some(StrFunc::EndsWith),
            _ => None,
        };
        if let Some(func) = func {
            self.expect(Tok::LParen, "'(' after function name")?;
            let Some(Tok::Ident(path)) = self.next() else {
                return Err(invalid("expected a property name in function call"));
            };
            self.expect(Tok::Comma, "','")?;
            let Some(Tok::Str(arg)) = self.next() else {
                return Err(invalid("expected a string literal in function call"));
            };
            self.expect(Tok::RParen, "')'")?;
            return Ok(Expr::Func(func, split_path(&path), arg));
        }
        let op = match self.next() {
            Some(Tok::Ident(op)) => match op.to_ascii_lowercase().as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                other => return Err(invalid(format!("unsupported operator '{other}'"))),
            },
            _ => return Err(invalid(format!("expected an operator after '{name}'"))),
        };
        let literal = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Num(n)) => {
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
            }
            Some(Tok::Ident(w)) if w == "true" => Value::Bool(true),
            Some(Tok::Ident(w)) if w == "false" => Value::Bool(false),
            Some(Tok::Ident(w)) if w == "null" => Value::Null,
            _ => return Err(invalid(format!("expected a literal after '{name}'"))),
        };
        Ok(Expr::Cmp(split_path(&name), op, literal))
    }
}

fn split_path(path: &str) -> Vec<String> {
    path.split('/').map(str::to_owned).collect()
}

/// Parses a `$filter` value.
pub fn parse_filter(input: &str) -> Result<Expr, GraphError> {
    let mut parser = Parser { toks: lex(input)?, pos: 0, depth: 0, nodes: 0 };
    if parser.toks.is_empty() {
        return Err(invalid("the expression is empty"));
    }
    let e = parser.or()?;
    if parser.pos < parser.toks.len() {
        return Err(invalid("unexpected text after the expression"));
    }
    Ok(e)
}

fn lookup<'a>(value: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(value, |v, seg| v.get(seg).unwrap_or(&Value::Null))
}

impl Expr {
    /// Whether `value` matches.
    pub fn matches(&self, value: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.matches(value) && b.matches(value),
            Expr::Or(a, b) => a.matches(value) || b.matches(value),
            Expr::Not(a) => !a.matches(value),
            Expr::Func(f, path, arg) => {
                let Some(s) = lookup(value, path).as_str() else { return false };
                let (s, arg) = (s.to_lowercase(), arg.to_lowercase());
                match f {
                    StrFunc::StartsWith => s.starts_with(&arg),
                    StrFunc::EndsWith => s.ends_with(&arg),
                }
            }
            Expr::Cmp(path, op, literal) => compare(lookup(value, path), *op, literal),
        }
    }

    /// Whether the expression uses `ne` or `not` (advanced queries on directory objects).
    pub fn is_advanced(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.is_advanced() || b.is_advanced(),
            Expr::Not(_) => true,
            Expr::Cmp(_, op, _) => *op == CmpOp::Ne,
            Expr::Func(StrFunc::EndsWith, ..) => true,
            Expr::Func(..) => false,
        }
    }
}

fn compare(actual: &Value, op: CmpOp, literal: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (actual, literal) {
        (Value::String(a), Value::String(b)) => {
            Some(a.to_lowercase().cmp(&b.to_lowercase()))
        }
        (Value::Number(a), Value::Number(b)) => {
            a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b))
        }
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        CmpOp::Eq => ordering == Some(Ordering::Equal),
        CmpOp::Ne => ordering != Some(Ordering::Equal),
        CmpOp::Gt => ordering == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Lt => ordering == Some(Ordering::Less),
        CmpOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
    }
}

/// Removes internal (`_`-prefixed) fields and applies `$select` or the
/// default property set. `entity` names the type in error messages.
pub fn project(
    value: &Value,
    select: Option<&[String]>,
    defaults: Option<&[&str]>,
    entity: &str,
) -> Result<Value, GraphError> {
    let Some(object) = value.as_object() else { return Ok(value.clone()) };
    let visible = |k: &str| !k.starts_with('_');
    let out: Map<String, Value> = match (select, defaults) {
        (Some(fields), _) => {
            let mut out = Map::new();
            for field in fields {
                match object
                    .iter()
                    .find(|(k, _)| visible(k) && k.eq_ignore_ascii_case(field))
                {
                    Some((k, v)) => {
                        out.insert(k.clone(), v.clone());
                    }
                    None => {
                        return Err(GraphError::bad_request(format!(
                            "Could not find a property named '{field}' on type 'microsoft.graph.{entity}'."
                        )));
                    }
                }
            }
            out
        }
        (None, Some(defaults)) => defaults
            .iter()
            .filter_map(|k| object.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
        (None, None) => object
            .iter()
            .filter(|(k, _)| visible(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    Ok(Value::Object(out))
}

/// The `$skiptoken` for a page that ended with `last_id`.
pub fn skiptoken(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id)
}

/// Builds a next link: the same query with `$skiptoken` replaced.
pub fn next_link(
    root: &str,
    path: &str,
    raw: &[(String, String)],
    token: &str,
) -> String {
    // Graph writes the options' `$` as is (`$top=2&$skiptoken=…`).
    let encode =
        |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut link = format!("{root}{path}?");
    for (k, v) in raw {
        let key = encode(k);
        let key = key.strip_prefix("%24").map_or(key.clone(), |rest| format!("${rest}"));
        link.push_str(&format!("{key}={}&", encode(v)));
    }
    link.push_str("$skiptoken=");
    link.push_str(&encode(token));
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_size_are_bounded() {
        let nest = |n: usize| format!("{}a eq 1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_filter(&nest(MAX_FILTER_DEPTH)).is_ok());
        let err = parse_filter(&nest(MAX_FILTER_DEPTH + 1)).unwrap_err();
        assert!(err.message().contains("nests deeper"), "{err}");
        assert!(parse_filter(&nest(100_000)).is_err());
        let nots = format!("{}a eq 1", "not ".repeat(100_000));
        assert!(parse_filter(&nots).is_err());
        let chain = |n: usize| vec!["a eq 1"; n].join(" or ");
        // n terms and n - 1 operators.
        assert!(parse_filter(&chain(MAX_FILTER_NODES / 2)).is_ok());
        let err = parse_filter(&chain(100_000)).unwrap_err();
        assert!(err.message().contains("node count"), "{err}");
        // Unbalanced input ends in an error, not a panic.
        assert!(parse_filter(&"(".repeat(100_000)).is_err());
        assert!(parse_filter(&")".repeat(100_000)).is_err());
    }

    #[test]
    fn select_is_bounded() {
        let fields = vec!["id"; MAX_SELECT_FIELDS + 1].join(",");
        assert!(QueryOptions::parse(&format!("$select={fields}")).is_err());
        let fields = vec!["id"; MAX_SELECT_FIELDS].join(",");
        assert!(QueryOptions::parse(&format!("$select={fields}")).is_ok());
    }
}
