//! Building the book: every language in-process with mdbook-driver, the
//! warnings mdbook logs, and the landing page.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::{Context, anyhow};
use mdbook_driver::{MDBook, config::Config};
use mdbook_i18n_helpers::preprocessors::Gettext;
use tracing_subscriber::layer::SubscriberExt as _;

use super::{
    LANGUAGES,
    preprocess::{Dedent, LanguageSwitch},
};

/// The book's title per language (book.toml has the English one).
const TITLES: [(&str, &str); 1] =
    [("fr", "Le traitement par lots JSON de Microsoft Graph, pas à pas")];

/// What a build produced.
#[derive(Debug)]
pub struct Report {
    /// Per language: code and pages (chapters of SUMMARY.md).
    pub languages: Vec<(String, usize)>,
    /// Warnings and errors mdbook logged, one line each.
    pub warnings: Vec<String>,
    /// Wall time of the whole build.
    pub secs: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        let langs: Vec<String> =
            self.languages.iter().map(|(l, n)| format!("{l}: {n} pages")).collect();
        write!(
            f,
            "book built in {:.1}s ({}), {} warning(s); open {}",
            self.secs,
            langs.join(", "),
            self.warnings.len(),
            book_dir(&crate::root()).join("index.html").display()
        )
    }
}

/// Where the books are written: `target/book/{en,fr}`.
pub fn book_dir(root: &Path) -> PathBuf {
    root.join("target").join("book")
}

/// Builds every language and the landing page. Warnings do not fail the
/// build; they are in the report (and `--check` fails on them).
pub fn build(root: &Path) -> anyhow::Result<Report> {
    let started = Instant::now();
    let out = book_dir(root);
    let mut languages = Vec::new();
    let warnings = capture_warnings(|| {
        for (lang, _) in LANGUAGES {
            let pages = build_language(root, lang, &out.join(lang))
                .with_context(|| format!("building the {lang} book"))?;
            languages.push((lang.to_owned(), pages));
        }
        anyhow::Ok(())
    })?;
    fs::write(out.join("index.html"), landing_page())
        .context("writing target/book/index.html")?;
    Ok(Report { languages, warnings, secs: started.elapsed().as_secs_f64() })
}

/// The book's configuration for one language, written to `dest`.
pub(super) fn load(root: &Path, lang: &str, dest: &Path) -> anyhow::Result<MDBook> {
    let docs = root.join("docs");
    let mut config = Config::from_disk(docs.join("book.toml"))?;
    config.set("book.language", lang)?;
    if let Some((_, title)) = TITLES.iter().find(|(l, _)| *l == lang) {
        config.set("book.title", title)?;
    }
    config.set("build.build-dir", dest)?;
    // The 404 page links its assets from the site's root: each language is
    // served under /<lang>/ (`cargo xtask docs --serve` serves target/book).
    config.set("output.html.site-url", format!("/{lang}/"))?;
    let mut book = MDBook::load_with_config(&docs, config)?;
    // Replaces the `mdbook-gettext` command book.toml names, in place (same
    // position in the preprocessor order: after `links`).
    book.with_preprocessor(Gettext);
    Ok(book)
}

fn build_language(root: &Path, lang: &str, dest: &Path) -> anyhow::Result<usize> {
    let mut book = load(root, lang, dest)?;
    book.with_preprocessor(Dedent);
    book.with_preprocessor(LanguageSwitch { lang: lang.to_owned() });
    let pages = book
        .iter()
        .filter(|item| {
            matches!(item, mdbook_driver::book::BookItem::Chapter(c) if c.path.is_some())
        })
        .count();
    book.build()?;
    Ok(pages)
}

/// Runs `f` with a tracing subscriber that records mdbook's warnings and
/// errors (mdbook logs through `tracing`; a failed include, for one, is only
/// logged).
fn capture_warnings(
    f: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<Vec<String>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
    tracing::subscriber::with_default(subscriber, f)?;
    let lines = lines.lock().map_err(|_| anyhow!("log capture poisoned"))?.clone();
    Ok(lines)
}

struct Capture(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        if *meta.level() > tracing::Level::WARN {
            return;
        }
        let mut text = String::new();
        event.record(&mut Fields(&mut text));
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!("{} {}: {}", meta.level(), meta.target(), text.trim()));
        }
    }
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(
        &mut self,
        field: &tracing::field::Field,
        value: &dyn std::fmt::Debug,
    ) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?} ");
        } else {
            let _ = write!(self.0, "{}={value:?} ", field.name());
        }
    }
}

fn landing_page() -> String {
    let links: String = LANGUAGES
        .iter()
        .map(|(code, label)| {
            format!(
                "    <li><a href=\"{code}/index.html\" hreflang=\"{code}\" lang=\"{code}\">{label}</a></li>\n"
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Microsoft Graph JSON batching, step by step</title>
  <style>
    body {{ font-family: "Open Sans", sans-serif; max-width: 40em; margin: 4em auto;
           padding: 0 1em; color: #333; }}
    h1 {{ font-weight: 400; }}
    ul {{ list-style: none; padding: 0; display: flex; gap: 1em; }}
    a {{ display: block; padding: 0.8em 1.6em; border: 1px solid #4183c4;
        border-radius: 6px; color: #4183c4; text-decoration: none; font-size: 1.2em; }}
    a:hover {{ background: #4183c4; color: #fff; }}
  </style>
</head>
<body>
  <h1>Microsoft Graph JSON batching, step by step</h1>
  <p>The lab <em>create a Microsoft Graph JSON batch custom connector for Power
  Automate and Azure Logic Apps</em>, in Rust, with an emulated tenant.</p>
  <p lang="fr">L'atelier <em>créer un connecteur personnalisé de lots JSON Microsoft
  Graph pour Power Automate et Azure Logic Apps</em>, en Rust, avec un locataire
  émulé.</p>
  <ul>
{links}  </ul>
</body>
</html>
"#
    )
}
