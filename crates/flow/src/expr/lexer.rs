//! Splits an expression's text into tokens. Positions are character
//! indexes (0-based) into the text.

use super::error::{ErrorKind, ExprError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Question,
    Str(String),
    Int(i64),
    Float(f64),
    Ident(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 0-based character index of the token's first character.
    pub pos: usize,
}

/// Whether `c` may appear in an identifier (a function or property name):
/// anything but the language's punctuation, quotes and white space.
pub(crate) fn is_ident_char(c: char) -> bool {
    !matches!(c, '.' | ',' | '(' | ')' | '{' | '}' | '@' | '[' | ']' | '?' | '\'' | '"')
        && !c.is_whitespace()
}

/// Whether `s` lexes as one identifier token.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_ident_char(c) && !c.is_ascii_digit() && c != '+' && c != '-' => {}
        _ => return false,
    }
    chars.all(is_ident_char)
}

fn err(pos: usize, message: impl Into<String>) -> ExprError {
    ExprError::at(ErrorKind::Parse, pos + 1, message)
}

/// Tokenizes the whole text; the last token is always [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '?' => Some(Tok::Question),
            _ => None,
        };
        if let Some(tok) = simple {
            tokens.push(Token { tok, pos: start });
            i += 1;
            continue;
        }
        match c {
            '.' => {
                // `.5` is a number where a value is expected (after `(`, `,`,
                // `[` or at the start); elsewhere a dot selects a property.
                let value_expected = matches!(
                    tokens.last().map(|t| &t.tok),
                    None | Some(Tok::LParen | Tok::Comma | Tok::LBracket)
                );
                if value_expected && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                {
                    let (tok, next) = number(&chars, i)?;
                    tokens.push(Token { tok, pos: start });
                    i = next;
                } else {
                    tokens.push(Token { tok: Tok::Dot, pos: start });
                    i += 1;
                }
            }
            '\'' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(err(
                                start,
                                "The string literal is not terminated.",
                            ));
                        }
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            value.push('\'');
                            j += 2;
                        }
                        Some('\'') => {
                            j += 1;
                            break;
                        }
                        Some(&ch) => {
                            value.push(ch);
                            j += 1;
                        }
                    }
                }
                tokens.push(Token { tok: Tok::Str(value), pos: start });
                i = j;
            }
            '"' => {
                return Err(err(
                    start,
                    "Unexpected double quote: string literals are enclosed in single \
                     quotes ('text').",
                ));
            }
            '+' | '-' | '0'..='9' => {
                let (tok, next) = number(&chars, i)?;
                tokens.push(Token { tok, pos: start });
                i = next;
            }
            c if is_ident_char(c) => {
                let mut j = i;
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                tokens.push(Token {
                    tok: Tok::Ident(chars[i..j].iter().collect()),
                    pos: start,
                });
                i = j;
            }
            c => return Err(err(start, format!("Unexpected character '{c}'."))),
        }
    }
    tokens.push(Token { tok: Tok::End, pos: chars.len() });
    Ok(tokens)
}

/// Reads a number starting at `start`: an optional sign, digits, an
/// optional fraction and an optional exponent.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), ExprError> {
    let digits = |mut j: usize| {
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut j = start;
    if matches!(chars[j], '+' | '-') {
        j += 1;
    }
    let int_start = j;
    j = digits(j);
    let mut is_float = false;
    let int_digits = j - int_start;
    let mut frac_digits = 0;
    if chars.get(j) == Some(&'.') {
        is_float = true;
        let f = j + 1;
        j = digits(f);
        frac_digits = j - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err(err(start, "A number is expected after the sign."));
    }
    if matches!(chars.get(j), Some('e' | 'E')) {
        is_float = true;
        let mut k = j + 1;
        if matches!(chars.get(k), Some('+' | '-')) {
            k += 1;
        }
        let e = k;
        k = digits(k);
        if k == e {
            return Err(err(start, "The number's exponent has no digits."));
        }
        j = k;
    }
    if let Some(&c) = chars.get(j)
        && (is_ident_char(c) || c == '.')
    {
        return Err(err(j, format!("Unexpected character '{c}' in a number.")));
    }
    let text: String = chars[start..j].iter().collect();
    if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((Tok::Float(f), j)),
            _ => Err(err(start, format!("The number '{text}' is out of range."))),
        }
    } else {
        match text.parse::<i64>() {
            Ok(n) => Ok((Tok::Int(n), j)),
            Err(_) => Err(err(start, format!("The integer '{text}' is out of range."))),
        }
    }
}
