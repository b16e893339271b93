//! JSON with comments (JSONC), as Microsoft's connector schemas are written.
//!
//! [`strip_comments`] blanks out `// line` and `/* block */` comments outside
//! of strings, so a strict JSON parser can read the text. Comment characters
//! become spaces and newlines are kept, so line and column numbers in parse
//! errors still point into the original text. `//` inside a string (a URL,
//! say) is left alone.

/// Returns `text` with its comments replaced by spaces (newlines kept).
///
/// An unterminated block comment is blanked to the end of the text; the JSON
/// parser then reports whatever is missing.
pub fn strip_comments(text: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        String,
        Escape,
        Line,
        Block,
        BlockStar,
    }
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        state = match state {
            State::Code => match (c, chars.peek()) {
                ('"', _) => {
                    out.push(c);
                    State::String
                }
                ('/', Some('/')) => {
                    chars.next();
                    out.push_str("  ");
                    State::Line
                }
                ('/', Some('*')) => {
                    chars.next();
                    out.push_str("  ");
                    State::Block
                }
                _ => {
                    out.push(c);
                    State::Code
                }
            },
            State::String => {
                out.push(c);
                match c {
                    '\\' => State::Escape,
                    '"' => State::Code,
                    _ => State::String,
                }
            }
            State::Escape => {
                out.push(c);
                State::String
            }
            State::Line => {
                if c == '\n' {
                    out.push('\n');
                    State::Code
                } else {
                    blank(&mut out, c);
                    State::Line
                }
            }
            State::Block | State::BlockStar => {
                if state == State::BlockStar && c == '/' {
                    out.push(' ');
                    State::Code
                } else {
                    blank(&mut out, c);
                    if c == '*' { State::BlockStar } else { State::Block }
                }
            }
        };
    }
    out
}

/// Keeps line structure: newlines stay, everything else becomes one space per
/// character (columns are counted in characters by the JSON parser).
fn blank(out: &mut String, c: char) {
    out.push(if c == '\n' || c == '\r' { c } else { ' ' });
}

/// Parses JSONC text into a JSON value.
pub fn parse(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(&strip_comments(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_comments_go_and_lines_stay() {
        let text = "{\n  \"a\": 1, // one\n  \"b\": 2\n}";
        let stripped = strip_comments(text);
        assert_eq!(stripped.lines().count(), text.lines().count());
        assert_eq!(parse(text).unwrap(), serde_json::json!({"a": 1, "b": 2}));
        assert!(!stripped.contains("one"));
    }

    #[test]
    fn slashes_inside_strings_are_kept() {
        let text =
            r#"{"url": "https://example.com//x", "q": "a \" // b", "c": "/* no */"}"#;
        assert_eq!(strip_comments(text), text);
        let v = parse(text).unwrap();
        assert_eq!(v["url"], "https://example.com//x");
        assert_eq!(v["q"], "a \" // b");
        assert_eq!(v["c"], "/* no */");
    }

    #[test]
    fn block_comments_keep_columns_and_newlines() {
        let text = "{ /* x\n y */ \"a\": /* z */ [1, 2] }";
        let stripped = strip_comments(text);
        assert_eq!(stripped.chars().count(), text.chars().count());
        assert_eq!(stripped.matches('\n').count(), 1);
        assert_eq!(parse(text).unwrap(), serde_json::json!({"a": [1, 2]}));
    }

    #[test]
    fn a_comment_only_object_is_empty() {
        let text = "{\n  // TODO\n}";
        assert_eq!(parse(text).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn escaped_backslash_before_quote_ends_the_string() {
        let text = r#"{"a": "x\\"} // c"#;
        assert_eq!(parse(text).unwrap(), serde_json::json!({"a": "x\\"}));
    }

    #[test]
    fn unterminated_block_comment_blanks_the_rest() {
        let text = "[1] /* never closed";
        assert_eq!(strip_comments(text).trim(), "[1]");
    }

    #[test]
    fn parse_errors_point_into_the_original_text() {
        let text = "{\n  // c\n  \"a\": ,\n}";
        let err = parse(text).unwrap_err();
        assert_eq!((err.line(), err.column()), (3, 8));
    }
}
