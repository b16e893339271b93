//! `cargo xtask docs`: the book in `docs/`, in English and in French.
//!
//! - `cargo xtask docs` builds `target/book/en`, `target/book/fr` and the
//!   landing page `target/book/index.html`, in-process with `mdbook-driver`;
//!   French goes through mdbook-i18n-helpers' gettext preprocessor and
//!   `docs/po/fr.po`.
//! - `--check` builds, then fails on any build warning, include region that
//!   does not resolve, dead internal link, page or code block missing from
//!   the French book, or French message missing, stale or fuzzy.
//! - `--update-po` extracts the English messages (mdbook-i18n-helpers'
//!   xgettext, in-process) and merges them into `docs/po/fr.po`.
//! - `--browser` opens pages in headless Chromium: no console error allowed;
//!   screenshots go to `target/book-screenshots/`.
//! - `--serve` builds, serves `target/book` on loopback and rebuilds when
//!   `docs/` or `lab-steps/` change.

//!
//! One module per job: [`build`] (mdbook in-process, the landing page),
//! [`preprocess`] (the xtask's preprocessors), [`check`] and [`links`]
//! (`--check`), [`po`] (fr.po), [`browser`] (`--browser`), [`serve`]
//! (`--serve`).

mod browser;
mod build;
mod check;
mod links;
mod po;
mod preprocess;
mod serve;

use std::path::Path;

use anyhow::bail;

use crate::files_with_extension;

pub use build::build;
pub use check::include_problems;

use self::{
    browser::browser, build::book_dir, check::check, po::update_po, serve::serve,
};

/// The book's languages: code and the label of the language switch. The
/// first is the source language.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("fr", "Français")];

/// `cargo xtask docs` options.
#[derive(Debug, clap::Args)]
pub struct DocsOptions {
    /// Build, then fail on warnings, unresolved includes, dead links, a
    /// French book that lacks a page or code block, or an incomplete fr.po.
    #[arg(long)]
    check: bool,
    /// Extract the English messages and merge them into docs/po/fr.po.
    #[arg(long)]
    update_po: bool,
    /// Open pages in headless Chromium (no console error allowed) and save
    /// screenshots under target/book-screenshots.
    #[arg(long)]
    browser: bool,
    /// Serve target/book on loopback and rebuild when the sources change.
    #[arg(long)]
    serve: bool,
    /// Port for --serve.
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

/// Runs `cargo xtask docs` with its options.
pub fn run(root: &Path, options: &DocsOptions) -> anyhow::Result<()> {
    if options.update_po {
        update_po(root)?;
    }
    if options.check {
        let problems = check(root)?;
        for p in &problems {
            println!("{p}");
        }
        if !problems.is_empty() {
            bail!("docs: {} problem(s)", problems.len());
        }
    } else {
        let report = build(root)?;
        println!("{report}");
    }
    if options.browser {
        browser(root)?;
    }
    if options.serve {
        serve(root, options.port)?;
    }
    Ok(())
}
