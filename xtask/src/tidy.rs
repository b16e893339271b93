//! `cargo xtask tidy`: rules the codebase checks on itself (also a `#[test]`).
//!
//! - every Rust file opens with a `//!` doc comment saying what it is for;
//! - no silenced tests and no stubs;
//! - the lab directory and build output are never committed;
//! - every `{{#include path:anchor}}` of the book names a non-empty region.

use std::{fs, path::Path};

/// Problems found under `root`, one line each (`path: what`).
pub fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "lab-steps"] {
        files.extend(crate::files_with_extension(&root.join(dir), "rs"));
    }
    let ignore_attr = concat!("#[", "ignore");
    let stubs = [concat!("todo", "!("), concat!("unimplemented", "!(")];
    for file in files {
        let text = fs::read_to_string(&file)?;
        let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{shown}: does not open with a `//!` doc comment"));
        }
        for (n, line) in text.lines().enumerate() {
            if line.contains(ignore_attr) {
                problems.push(format!("{shown}:{}: a silenced test", n + 1));
            }
            if stubs.iter().any(|s| line.contains(s)) {
                problems.push(format!("{shown}:{}: a stub", n + 1));
            }
        }
    }
    problems.extend(crate::docs::include_problems(root)?);
    let gitignore = fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
    for needed in ["/target", "/.lab"] {
        if !gitignore.lines().any(|l| l.trim() == needed) {
            problems.push(format!(".gitignore: does not list {needed}"));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_workspace_is_tidy() {
        let problems = super::check(&crate::root()).unwrap();
        assert!(problems.is_empty(), "tidy problems:\n{}", problems.join("\n"));
    }
}
