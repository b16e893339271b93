//! The expression tree and its parser.

use super::MAX_DEPTH;
use super::error::{ErrorKind, ExprError};
use super::functions;
use super::lexer::{Tok, Token, tokenize};

/// A parsed expression (the text after `@`, or inside `@{...}`).
///
/// [`Display`](std::fmt::Display) prints a canonical form that parses back
/// to the same tree: calls as `name(a, b)`, strings in single quotes with
/// `''` escapes, floats always with a `.` or an exponent.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer literal (`42`, `-7`).
    Int(i64),
    /// A floating-point literal (`1.5`, `.3`, `1e3`); always finite.
    Float(f64),
    /// A string literal (`'it''s'` holds `it's`).
    String(String),
    /// A function call. The name is kept as written; functions are looked
    /// up without regard to case, as the platform does.
    Call {
        /// The function's name as written.
        name: String,
        /// The arguments, evaluated left to right.
        args: Vec<Expr>,
    },
    /// A property selection by name: `target.name` (`target?.name` when
    /// null-safe). The name is an identifier; others print as `['name']`.
    Property {
        /// The value whose property is selected.
        target: Box<Expr>,
        /// The property's name.
        name: String,
        /// `?.`: a missing property (or a null target) gives null instead of
        /// an error.
        null_safe: bool,
    },
    /// A selection by a computed key: `target['name']` selects a property,
    /// `target[0]` an array item (`target?[...]` when null-safe).
    Index {
        /// The object or array selected from.
        target: Box<Expr>,
        /// The key: a string for properties, an integer for array items.
        index: Box<Expr>,
        /// `?[`: a missing property or item (or a null target) gives null.
        null_safe: bool,
    },
}

impl Expr {
    /// Evaluates the expression against a scope (as `"@<expr>"` does).
    pub fn evaluate(
        &self,
        scope: &dyn super::Scope,
    ) -> Result<serde_json::Value, ExprError> {
        super::eval::evaluate(self, scope)
    }
}

/// Parses one expression: the text of a string value after its leading
/// `@` (or inside `@{...}`). Unknown functions and wrong argument counts are
/// errors here, with the column of the function's name.
pub fn parse_expression(text: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    if parser.peek().tok == Tok::End {
        return Err(ExprError::at(ErrorKind::Parse, 1, "The expression is empty."));
    }
    let expr = parser.value(0)?;
    let token = parser.peek();
    if token.tok != Tok::End {
        return Err(parser.unexpected(
            token.pos,
            &token.tok.clone(),
            "the end of the expression",
        ));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Comma => "','".into(),
        Tok::Dot => "'.'".into(),
        Tok::Question => "'?'".into(),
        Tok::Str(_) => "a string".into(),
        Tok::Int(_) | Tok::Float(_) => "a number".into(),
        Tok::Ident(name) => format!("'{name}'"),
        Tok::End => "the end of the expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with End, and `at` never passes it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.next();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, pos: usize, found: &Tok, expected: &str) -> ExprError {
        let message = if *found == Tok::End {
            format!("The expression ends too early: expected {expected}.")
        } else {
            format!("Unexpected {}: expected {expected}.", describe(found))
        };
        ExprError::at(ErrorKind::Parse, pos + 1, message)
    }

    fn too_deep(pos: usize) -> ExprError {
        ExprError::at(
            ErrorKind::TooDeep,
            pos + 1,
            format!("The expression nests more than {MAX_DEPTH} levels deep."),
        )
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> Result<Token, ExprError> {
        let token = self.next();
        if &token.tok == tok {
            Ok(token)
        } else {
            Err(self.unexpected(token.pos, &token.tok, expected))
        }
    }

    /// A value at nesting `depth`: a literal, or a call with its selections.
    fn value(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let token = self.next();
        if depth > MAX_DEPTH {
            return Err(Self::too_deep(token.pos));
        }
        match token.tok {
            Tok::Str(s) => Ok(Expr::String(s)),
            Tok::Int(n) => Ok(Expr::Int(n)),
            Tok::Float(f) => Ok(Expr::Float(f)),
            Tok::Ident(name) if name.eq_ignore_ascii_case("null") => Ok(Expr::Null),
            Tok::Ident(name) if name.eq_ignore_ascii_case("true") => Ok(Expr::Bool(true)),
            Tok::Ident(name) if name.eq_ignore_ascii_case("false") => {
                Ok(Expr::Bool(false))
            }
            Tok::Ident(name) => self.call(name, token.pos, depth),
            other => Err(self.unexpected(
                token.pos,
                &other,
                "a value (a literal or a function call)",
            )),
        }
    }

    fn call(
        &mut self,
        name: String,
        pos: usize,
        depth: usize,
    ) -> Result<Expr, ExprError> {
        self.expect(&Tok::LParen, &format!("'(' after the function name '{name}'"))?;
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.value(depth + 1)?);
                let token = self.next();
                match token.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    other => {
                        return Err(self.unexpected(token.pos, &other, "',' or ')'"));
                    }
                }
            }
        }
        functions::check_call(&name, args.len()).map_err(|e| e.or_column(pos + 1))?;
        let mut expr = Expr::Call { name, args };
        let mut level = depth;
        loop {
            let null_safe = self.eat(&Tok::Question);
            let token = self.peek().clone();
            match token.tok {
                Tok::Dot | Tok::LBracket => {
                    level += 1;
                    if level > MAX_DEPTH {
                        return Err(Self::too_deep(token.pos));
                    }
                }
                _ if null_safe => {
                    return Err(self.unexpected(
                        token.pos,
                        &token.tok,
                        "'.' or '[' after '?'",
                    ));
                }
                _ => break,
            }
            self.next();
            if token.tok == Tok::Dot {
                let name = self.next();
                let Tok::Ident(name) = name.tok else {
                    return Err(self.unexpected(
                        name.pos,
                        &name.tok,
                        "a property name after '.'",
                    ));
                };
                expr = Expr::Property { target: Box::new(expr), name, null_safe };
            } else {
                let index = self.value(level + 1)?;
                self.expect(&Tok::RBracket, "']'")?;
                expr = Expr::Index {
                    target: Box::new(expr),
                    index: Box::new(index),
                    null_safe,
                };
            }
        }
        Ok(expr)
    }
}
