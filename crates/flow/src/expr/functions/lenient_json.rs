//! The JSON that `json()` reads beyond strict JSON, as Newtonsoft's
//! `JToken.Parse` (which the platform uses) accepts it: strings in single
//! quotes, property names without quotes, `//` and `/* */` comments, and a
//! trailing comma in arrays and objects. Strict JSON is parsed by
//! serde_json first; this parser is the fallback. Nesting is bounded.

use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 128;

/// Parses `text`, or says why not (with the character offset).
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser { chars: text.chars().collect(), at: 0 };
    let v = p.value(0)?;
    p.skip_space()?;
    if p.at < p.chars.len() {
        return Err(p.fail("unexpected text after the value"));
    }
    Ok(v)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn fail(&self, what: &str) -> String {
        format!("{what} at character {}", self.at + 1)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) -> Result<(), String> {
        loop {
            match (self.peek(), self.chars.get(self.at + 1)) {
                (Some(c), _) if c.is_whitespace() => self.at += 1,
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.at += 1;
                    }
                }
                (Some('/'), Some('*')) => {
                    self.at += 2;
                    loop {
                        match (self.peek(), self.chars.get(self.at + 1)) {
                            (None, _) => return Err(self.fail("unterminated comment")),
                            (Some('*'), Some('/')) => {
                                self.at += 2;
                                break;
                            }
                            _ => self.at += 1,
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nesting too deep"));
        }
        self.skip_space()?;
        match self.peek() {
            Some('{') => self.object(depth),
            Some('[') => self.array(depth),
            Some(q @ ('"' | '\'')) => self.string(q).map(Value::String),
            Some(c) if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => {
                self.number()
            }
            Some(c) if c.is_alphabetic() => {
                let word = self.word();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" | "undefined" => Ok(Value::Null),
                    _ => Err(self.fail(&format!("unexpected word '{word}'"))),
                }
            }
            Some(_) => Err(self.fail("unexpected character")),
            None => Err(self.fail("unexpected end")),
        }
    }

    fn word(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        let text = text.strip_prefix('+').unwrap_or(&text);
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.fail(&format!("'{text}' is not a number")))
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.fail("unterminated string"));
            };
            self.at += 1;
            match c {
                c if c == quote => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.fail("unterminated string"));
                    };
                    self.at += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex: String =
                                self.chars.iter().skip(self.at).take(4).collect();
                            let code = u32::from_str_radix(&hex, 16)
                                .map_err(|_| self.fail("bad \\u escape"))?;
                            self.at += 4;
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            if self.peek() == Some(']') {
                self.at += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_space()?;
            match self.peek() {
                Some(',') => self.at += 1,
                Some(']') => {}
                _ => return Err(self.fail("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut map = Map::new();
        loop {
            self.skip_space()?;
            let key = match self.peek() {
                Some('}') => {
                    self.at += 1;
                    return Ok(Value::Object(map));
                }
                Some(q @ ('"' | '\'')) => self.string(q)?,
                Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => self.word(),
                _ => return Err(self.fail("expected a property name")),
            };
            self.skip_space()?;
            if self.peek() != Some(':') {
                return Err(self.fail("expected ':'"));
            }
            self.at += 1;
            let value = self.value(depth + 1)?;
            map.insert(key, value);
            self.skip_space()?;
            match self.peek() {
                Some(',') => self.at += 1,
                Some('}') => {}
                _ => return Err(self.fail("expected ',' or '}'")),
            }
        }
    }
}
