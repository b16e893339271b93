//! A job's input: the lab's `{"requests":[...]}` document or JSON lines (one
//! item per line). Which one it is is decided here, once, for
//! [`parse_items`](crate::parse_items) and `graphlab batch run` alike: by
//! the first non-blank line, which is a whole item in JSON lines and only the
//! start of a document otherwise (a one-line document is `{"requests":...}`).

use std::io::BufRead;

use serde_json::Value;

use crate::{BatchError, BatchItem, item::parse_document, item::parse_line};

/// The two input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"requests":[...]}`, the body of a `$batch` call.
    Document,
    /// One item per line.
    JsonLines,
}

impl Format {
    /// The format of input whose first non-blank line is `line`: JSON lines
    /// when that line is a whole JSON object naming `id`, `method` or `url`
    /// and not `requests`; a document otherwise.
    pub fn detect(line: &str) -> Format {
        let item = serde_json::from_str::<Value>(line).is_ok_and(|v| {
            v.as_object().is_some_and(|o| {
                ["id", "method", "url"].iter().any(|k| o.contains_key(*k))
                    && !o.contains_key("requests")
            })
        });
        if item { Format::JsonLines } else { Format::Document }
    }
}

/// A job's input, its format detected: a document, read whole, or JSON lines,
/// read one line at a time so that memory stays flat.
#[derive(Debug)]
pub enum Input<R> {
    /// The items of a `{"requests":[...]}` document, in order (item `i` is
    /// `requests[i]`).
    Document(Vec<BatchItem>),
    /// JSON lines, each item with its line number.
    Lines(Lines<R>),
}

/// The items of JSON lines, each with its line number (blank lines are
/// skipped, and counted); errors name `file:line[:column]`.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    file: String,
    /// The first non-blank line, read to detect the format, and its number.
    first: Option<(usize, String)>,
    /// The number of the last line read.
    number: usize,
    /// A read failed: the input ends there.
    failed: bool,
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<(usize, BatchItem), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            let (number, line) = match self.first.take() {
                Some(first) => first,
                None => {
                    let mut line = String::new();
                    match self.reader.read_line(&mut line) {
                        Ok(0) => return None,
                        Ok(_) => {
                            self.number += 1;
                            (self.number, line)
                        }
                        Err(e) => {
                            self.failed = true;
                            return Some(Err(cannot_read(&self.file, &e)));
                        }
                    }
                }
            };
            match parse_line(&line, &self.file, number) {
                Ok(Some(item)) => return Some(Ok((number, item))),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn cannot_read(file: &str, e: &std::io::Error) -> BatchError {
    BatchError::Input { at: file.to_owned(), message: format!("cannot read: {e}") }
}

/// Reads a job's input from `reader` (`file` names it in errors): detects its
/// format by the first non-blank line, then reads a document whole, or
/// returns the JSON lines to read one by one. Empty input is an error.
pub fn read_input<R: BufRead>(mut reader: R, file: &str) -> Result<Input<R>, BatchError> {
    let mut first = String::new();
    let mut number = 0;
    loop {
        first.clear();
        let read = reader.read_line(&mut first).map_err(|e| cannot_read(file, &e))?;
        if read == 0 {
            return Err(BatchError::Input {
                at: file.to_owned(),
                message: "the input is empty: give {\"requests\":[...]} or one request per line"
                    .into(),
            });
        }
        number += 1;
        if !first.trim().is_empty() {
            break;
        }
    }
    match Format::detect(&first) {
        Format::Document => {
            // Line numbers of the document count the blank lines skipped.
            let mut text = "\n".repeat(number - 1);
            text.push_str(&first);
            reader.read_to_string(&mut text).map_err(|e| cannot_read(file, &e))?;
            parse_document(&text, file).map(Input::Document)
        }
        Format::JsonLines => Ok(Input::Lines(Lines {
            reader,
            file: file.to_owned(),
            first: Some((number, first)),
            number,
            failed: false,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_line_json_lines_input_is_json_lines() {
        for text in [
            "{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}",
            "{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}\n",
            "\n\r\n{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}\r\n",
        ] {
            let Input::Lines(lines) = read_input(text.as_bytes(), "one.jsonl").unwrap()
            else {
                panic!("{text:?} is JSON lines")
            };
            let items: Vec<_> = lines.collect::<Result<_, _>>().unwrap();
            assert_eq!(items.len(), 1, "{text:?}");
            assert_eq!(items[0].1.id, "1");
            assert_eq!(
                items[0].0,
                text.lines().position(|l| !l.trim().is_empty()).unwrap() + 1
            );
        }
    }

    #[test]
    fn a_document_on_one_line_or_several_is_a_document() {
        for text in [
            "{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}]}",
            "\n{\n \"requests\": [\n  {\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}\n ]\n}\n",
        ] {
            let Input::Document(items) = read_input(text.as_bytes(), "d.json").unwrap()
            else {
                panic!("{text:?} is a document")
            };
            assert_eq!(items.len(), 1);
        }
        // The blank lines before a document count in its errors' places.
        let err = read_input(
            "\n\n{\n \"requests\": [\n  {\"id\":\"1\",}]}".as_bytes(),
            "d.json",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("d.json:5:"), "{err}");
    }

    #[test]
    fn empty_input_is_an_error_naming_the_file() {
        let err = read_input(" \n\n".as_bytes(), "e.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("e.jsonl: the input is empty"), "{err}");
    }
}
