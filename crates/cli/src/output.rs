//! The CLI's output layer: lines to stdout that end the program quietly
//! when the reader has gone (`graphlab batch run big.jsonl | head -1`), as
//! ripgrep does, instead of panicking on a broken pipe; and the one-line
//! cause of a failure.

use std::{
    fmt::Display,
    io::{ErrorKind, Write},
};

/// Writes one line to stdout. When the pipe is closed, exits at once with
/// status 0: whoever read the output has what they wanted.
pub fn line(text: impl Display) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("graphlab: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` through [`line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
