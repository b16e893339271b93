//! Prints expressions in their canonical form.

use std::fmt::{self, Write};

use super::lexer::is_identifier;
use super::parser::Expr;

/// Writes a string literal: single quotes, `'` doubled.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' {
            f.write_str("''")?;
        } else {
            f.write_char(c)?;
        }
    }
    f.write_char('\'')
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Null => f.write_str("null"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Int(n) => write!(f, "{n}"),
            // Debug keeps a `.` or an exponent, so the text reads back as a
            // float, and never prints hundreds of digits.
            Expr::Float(x) => write!(f, "{x:?}"),
            Expr::String(s) => write_string(f, s),
            Expr::Call { name, args } => {
                write!(f, "{name}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_char(')')
            }
            Expr::Property { target, name, null_safe } => {
                write!(f, "{target}")?;
                if *null_safe {
                    f.write_char('?')?;
                }
                if is_identifier(name) {
                    write!(f, ".{name}")
                } else {
                    f.write_char('[')?;
                    write_string(f, name)?;
                    f.write_char(']')
                }
            }
            Expr::Index { target, index, null_safe } => {
                write!(f, "{target}")?;
                if *null_safe {
                    f.write_char('?')?;
                }
                write!(f, "[{index}]")
            }
        }
    }
}
