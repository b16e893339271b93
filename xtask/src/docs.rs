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

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt::Write as _,
    fs,
    io::{BufRead, BufReader, Write as _},
    net::{TcpListener, TcpStream},
    path::{Component, Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context, anyhow, bail};
use mdbook_driver::{MDBook, book::Book, config::Config};
use mdbook_i18n_helpers::{preprocessors::Gettext, renderers::Xgettext};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use polib::{catalog::Catalog, message::Message, metadata::CatalogMetadata, po_file};
use tracing_subscriber::layer::SubscriberExt as _;

/// The book's languages: code and the label of the language switch. The
/// first is the source language.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("fr", "Français")];

/// The book's title per language (book.toml has the English one).
const TITLES: [(&str, &str); 1] =
    [("fr", "Le traitement par lots JSON de Microsoft Graph, pas à pas")];

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
fn load(root: &Path, lang: &str, dest: &Path) -> anyhow::Result<MDBook> {
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

/// Removes the indentation that code blocks share: an included region comes
/// from inside a function, and the book shows it flush left. Runs after
/// `links`; only fences at the start of a line are touched.
struct Dedent;

impl Preprocessor for Dedent {
    fn name(&self) -> &str {
        "graphlab-dedent"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        book.for_each_chapter_mut(|chapter| {
            chapter.content = dedent_code_blocks(&chapter.content)
        });
        Ok(book)
    }
}

fn dedent_code_blocks(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut block: Option<Vec<&str>> = None;
    for line in markdown.split_inclusive('\n') {
        match &mut block {
            None => {
                out.push_str(line);
                if line.starts_with("```") {
                    block = Some(Vec::new());
                }
            }
            Some(lines) if line.starts_with("```") => {
                let indent = lines
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start_matches(' ').len())
                    .min()
                    .unwrap_or(0);
                for l in lines.drain(..) {
                    out.push_str(l.get(indent..).unwrap_or(l.trim_start_matches(' ')));
                }
                out.push_str(line);
                block = None;
            }
            Some(lines) => lines.push(line),
        }
    }
    for l in block.into_iter().flatten() {
        out.push_str(l);
    }
    out
}

/// Puts the language switch at the top of every page: links to the same page
/// in the other languages (`../fr/page.html`), so it works over `file://`.
struct LanguageSwitch {
    lang: String,
}

impl Preprocessor for LanguageSwitch {
    fn name(&self) -> &str {
        "graphlab-language-switch"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        book.for_each_chapter_mut(|chapter| {
            let Some(path) = &chapter.path else { return };
            let switch = language_switch(&self.lang, path);
            chapter.content = format!("{switch}\n\n{}", chapter.content);
        });
        Ok(book)
    }

    fn supports_renderer(&self, renderer: &str) -> anyhow::Result<bool> {
        Ok(renderer == "html")
    }
}

/// The switch's HTML for the page at `path` (relative to `src/`) in `lang`.
fn language_switch(lang: &str, path: &Path) -> String {
    let page = path.with_extension("html");
    let page = page.to_string_lossy().replace('\\', "/");
    let up = "../".repeat(path.components().count());
    let links: Vec<String> = LANGUAGES
        .iter()
        .map(|(code, label)| {
            if *code == lang {
                format!("<strong lang=\"{code}\">{label}</strong>")
            } else {
                format!("<a href=\"{up}{code}/{page}\" hreflang=\"{code}\" lang=\"{code}\">{label}</a>")
            }
        })
        .collect();
    format!("<div class=\"lang-switch\">{}</div>", links.join(" | "))
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

/// Builds and runs every check of the book; problems, one line each.
pub fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = include_problems(root)?;
    let report = build(root)?;
    println!("{report}");
    problems.extend(report.warnings.iter().map(|w| format!("build: {w}")));
    let out = book_dir(root);
    problems.extend(link_problems(&out)?);
    problems.extend(parity_problems(&out)?);
    let stats = PoStats::of(&root.join("docs/po/fr.po"))?;
    println!("docs/po/fr.po: {stats}");
    problems.extend(stats.problems());
    problems.extend(stale_po_problems(root)?);
    Ok(problems)
}

/// Every `{{#include path:anchor}}` in `docs/src` names an existing file
/// and, with an anchor, a non-empty `ANCHOR: name` … `ANCHOR_END: name`
/// region. (mdbook only logs a missing file, and shows nothing for a
/// missing anchor.)
pub fn include_problems(root: &Path) -> anyhow::Result<Vec<String>> {
    let src = root.join("docs").join("src");
    let mut problems = Vec::new();
    for md in files_with_extension(&src, "md") {
        let text = fs::read_to_string(&md)?;
        let shown = md.strip_prefix(root).unwrap_or(&md).display().to_string();
        for (line_no, line) in text.lines().enumerate() {
            for (target, anchor) in includes_in(line) {
                let where_ = format!("{shown}:{}", line_no + 1);
                let file = md.parent().unwrap_or(&src).join(&target);
                let Ok(content) = fs::read_to_string(&file) else {
                    problems.push(format!("{where_}: `{target}` does not exist"));
                    continue;
                };
                let region = match &anchor {
                    Some(anchor)
                        if !anchor.chars().all(|c| c.is_ascii_digit() || c == ':') =>
                    {
                        match anchored_region(&content, anchor) {
                            Some(region) => region,
                            None => {
                                problems.push(format!(
                                    "{where_}: `{target}` has no `ANCHOR: {anchor}` region"
                                ));
                                continue;
                            }
                        }
                    }
                    _ => content,
                };
                if region.trim().is_empty() {
                    let what = anchor.map(|a| format!(":{a}")).unwrap_or_default();
                    problems.push(format!("{where_}: `{target}{what}` is empty"));
                }
            }
        }
    }
    Ok(problems)
}

/// `{{#include path}}` and `{{#include path:anchor}}` directives in a line.
fn includes_in(line: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = after[..end].trim();
        rest = &after[end + 2..];
        let Some(arg) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        else {
            continue;
        };
        let arg = arg.trim();
        match arg.split_once(':') {
            Some((path, anchor)) => {
                found.push((path.to_owned(), Some(anchor.to_owned())))
            }
            None => found.push((arg.to_owned(), None)),
        }
    }
    found
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without other
/// anchor lines, as mdbook's `links` preprocessor takes them.
fn anchored_region(content: &str, anchor: &str) -> Option<String> {
    let is_marker = |line: &str, marker: &str| {
        line.split_once(marker).is_some_and(|(_, name)| {
            name.trim_start()
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .next()
                == Some(anchor)
        })
    };
    let mut region = String::new();
    let mut inside = false;
    let mut closed = false;
    for line in content.lines() {
        if !inside {
            inside = is_marker(line, "ANCHOR:");
        } else if is_marker(line, "ANCHOR_END:") {
            closed = true;
            break;
        } else if !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            region.push_str(line);
            region.push('\n');
        }
    }
    closed.then_some(region)
}

/// Every internal `href`/`src` of the generated HTML points at an existing
/// file, and every `#fragment` at an existing `id`.
fn link_problems(out: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut ids: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    let mut pages = files_with_extension(out, "html");
    // The 404 page is served from the site's root (`<base href="/">`), which
    // a file:// tree does not have.
    pages.retain(|p| p.file_name().is_none_or(|n| n != "404.html"));
    for page in pages {
        let html = fs::read_to_string(&page)?;
        let shown = page.strip_prefix(out).unwrap_or(&page).display().to_string();
        for link in links_in(&html) {
            if is_external(&link) {
                continue;
            }
            let link = html_unescape(&link);
            let (path, fragment) = match link.split_once('#') {
                Some((p, f)) => (p.to_owned(), Some(f.to_owned())),
                None => (link.clone(), None),
            };
            let path = path.split('?').next().unwrap_or_default();
            let target = if path.is_empty() {
                page.clone()
            } else {
                let joined =
                    normalize(&page.parent().unwrap_or(out).join(percent_decode(path)));
                if joined.is_dir() { joined.join("index.html") } else { joined }
            };
            if !target.starts_with(out) || !target.is_file() {
                problems.push(format!("link: {shown}: `{link}` points at nothing"));
                continue;
            }
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else { continue };
            if target.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let known = match ids.get(&target) {
                Some(known) => known,
                None => {
                    let text = fs::read_to_string(&target)?;
                    ids.entry(target.clone()).or_insert_with(|| ids_in(&text))
                }
            };
            if !known.contains(&percent_decode(&fragment)) {
                problems.push(format!("link: {shown}: `{link}`: no such fragment"));
            }
        }
    }
    Ok(problems)
}

fn is_external(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    ["http:", "https:", "mailto:", "javascript:", "data:", "//", "file:"]
        .iter()
        .any(|p| lower.starts_with(p))
        || link.contains("{{")
}

/// The values of `href="..."` and `src="..."` attributes.
fn links_in(html: &str) -> Vec<String> {
    attribute_values(html, &[" href=\"", " src=\""])
}

/// The values of `id="..."` (and `name="..."`) attributes.
fn ids_in(html: &str) -> BTreeSet<String> {
    attribute_values(html, &[" id=\"", " name=\""])
        .into_iter()
        .map(|v| html_unescape(&v))
        .collect()
}

fn attribute_values(html: &str, prefixes: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    for prefix in prefixes {
        let mut rest = html;
        while let Some(start) = rest.find(prefix) {
            let after = &rest[start + prefix.len()..];
            let Some(end) = after.find('"') else { break };
            values.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    values
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The French book has the English book's pages, each as many code blocks
/// (`<pre>`) as in English, and each chapter's text differs from the English
/// one (the gettext preprocessor did translate it), except the bilingual 404.
fn parity_problems(out: &Path) -> anyhow::Result<Vec<String>> {
    struct Page {
        blocks: usize,
        /// `<main>` without the language switch, for chapter pages.
        text: Option<String>,
    }
    let pages = |lang: &str| -> anyhow::Result<BTreeMap<PathBuf, Page>> {
        let dir = out.join(lang);
        files_with_extension(&dir, "html")
            .into_iter()
            .map(|p| {
                let html = fs::read_to_string(&p)?;
                let page =
                    Page { blocks: html.matches("<pre").count(), text: main_text(&html) };
                Ok((p.strip_prefix(&dir)?.to_path_buf(), page))
            })
            .collect()
    };
    let (source, _) = LANGUAGES[0];
    let english = pages(source)?;
    let mut problems = Vec::new();
    for (lang, _) in &LANGUAGES[1..] {
        let other = pages(lang)?;
        for (path, page) in &english {
            let shown = path.display();
            let Some(translated) = other.get(path) else {
                problems.push(format!("{lang}: page {shown} is missing"));
                continue;
            };
            if translated.blocks != page.blocks {
                problems.push(format!(
                    "{lang}: {shown} has {} code block(s), {source} has {}",
                    translated.blocks, page.blocks
                ));
            }
            // The 404 page (docs/src/404.md) is one bilingual page, not a chapter.
            let bilingual = path.as_os_str() == "404.html";
            if page.text.is_some() && !bilingual && translated.text == page.text {
                problems.push(format!("{lang}: {shown} is the same as in {source}"));
            }
        }
        for path in other.keys().filter(|p| !english.contains_key(*p)) {
            problems.push(format!(
                "{lang}: page {} is not in the {source} book",
                path.display()
            ));
        }
    }
    Ok(problems)
}

/// The `<main>` element of a chapter page (one with a language switch),
/// without the switch.
fn main_text(html: &str) -> Option<String> {
    const SWITCH: &str = "<div class=\"lang-switch\">";
    let start = html.find("<main>")?;
    let end = html[start..].find("</main>")? + start;
    let mut main = &html[start..end];
    let mut text = String::new();
    let mut found = false;
    while let Some(at) = main.find(SWITCH) {
        found = true;
        text.push_str(&main[..at]);
        let rest = &main[at..];
        main = rest.find("</div>").map_or("", |close| &rest[close + "</div>".len()..]);
    }
    text.push_str(main);
    found.then_some(text)
}

/// Translation statistics of a PO file, as `msgfmt --statistics` counts them.
#[derive(Debug, Default)]
pub struct PoStats {
    /// Messages with a translation that is not fuzzy.
    pub translated: usize,
    /// Messages marked fuzzy.
    pub fuzzy: usize,
    /// Messages with no translation.
    pub untranslated: usize,
    fuzzy_ids: Vec<String>,
    untranslated_ids: Vec<String>,
}

impl PoStats {
    /// Counts the messages of `path`.
    pub fn of(path: &Path) -> anyhow::Result<PoStats> {
        let catalog = parse_po(path)?;
        let mut stats = PoStats::default();
        for m in catalog.messages() {
            if m.is_fuzzy() {
                stats.fuzzy += 1;
                stats.fuzzy_ids.push(m.msgid().to_owned());
            } else if m.is_translated() {
                stats.translated += 1;
            } else {
                stats.untranslated += 1;
                stats.untranslated_ids.push(m.msgid().to_owned());
            }
        }
        Ok(stats)
    }

    fn problems(&self) -> Vec<String> {
        let first_line = |s: &String| s.lines().next().unwrap_or_default().to_owned();
        self.fuzzy_ids
            .iter()
            .map(|id| format!("fr.po: fuzzy: {}", first_line(id)))
            .chain(
                self.untranslated_ids
                    .iter()
                    .map(|id| format!("fr.po: untranslated: {}", first_line(id))),
            )
            .collect()
    }
}

impl std::fmt::Display for PoStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} translated messages, {} fuzzy translations, {} untranslated messages.",
            self.translated, self.fuzzy, self.untranslated
        )
    }
}

fn parse_po(path: &Path) -> anyhow::Result<Catalog> {
    po_file::parse(path).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Extracts the English messages, as the gettext preprocessor will look them
/// up, with mdbook-i18n-helpers' xgettext renderer run in-process.
fn extract_messages(root: &Path) -> anyhow::Result<Catalog> {
    let dest = book_dir(root).join("xgettext");
    let mut book = load(root, LANGUAGES[0].0, &dest)?;
    // Sources as file names only: line numbers would change fr.po on every
    // edit of an English page.
    book.config.set("output.xgettext.granularity", 0)?;
    book.execute_build_process(&Xgettext).context("extracting messages")?;
    parse_po(&dest.join("messages.pot"))
}

/// Every English message has a translation in fr.po, and fr.po has no
/// message the English book lost.
fn stale_po_problems(root: &Path) -> anyhow::Result<Vec<String>> {
    let pot = extract_messages(root)?;
    let po = parse_po(&root.join("docs/po/fr.po"))?;
    let mut problems = Vec::new();
    let first_line = |s: &str| s.lines().next().unwrap_or_default().to_owned();
    for m in pot.messages() {
        if po.find_message(None, m.msgid(), None).is_none() {
            problems.push(format!(
                "fr.po: new English message (run `cargo xtask docs --update-po`): {}",
                first_line(m.msgid())
            ));
        }
    }
    for m in po.messages() {
        if pot.find_message(None, m.msgid(), None).is_none() {
            problems.push(format!(
                "fr.po: message no longer in the English book (run `cargo xtask docs --update-po`): {}",
                first_line(m.msgid())
            ));
        }
    }
    Ok(problems)
}

/// Rewrites `docs/po/fr.po` with the current English messages, keeping the
/// translations of unchanged messages. A changed English message loses its
/// translation (no fuzzy matching): the check then lists it as untranslated.
pub fn update_po(root: &Path) -> anyhow::Result<()> {
    let pot = extract_messages(root)?;
    let path = root.join("docs/po/fr.po");
    let old = if path.exists() { Some(parse_po(&path)?) } else { None };
    let metadata = french_metadata(old.as_ref().map(|o| &o.metadata))?;
    let mut catalog = Catalog::new(metadata);
    let (mut kept, mut new) = (0, 0);
    for m in pot.messages() {
        let translation = old
            .as_ref()
            .and_then(|old| old.find_message(None, m.msgid(), None))
            .filter(|o| o.is_translated() && !o.is_fuzzy())
            .and_then(|o| o.msgstr().ok().map(str::to_owned));
        let translation = match translation {
            Some(kept_one) => {
                kept += 1;
                kept_one
            }
            // Only inline code (a table cell such as `--beta`): nothing to
            // translate, the message stands for itself.
            None if only_code(m.msgid()) => m.msgid().to_owned(),
            None => {
                new += 1;
                String::new()
            }
        };
        catalog.append_or_update(
            Message::build_singular()
                .with_source(m.source().to_owned())
                .with_comments(m.comments().to_owned())
                .with_msgid(m.msgid().to_owned())
                .with_msgstr(translation)
                .done(),
        );
    }
    let dropped = old.as_ref().map_or(0, |old| {
        old.messages()
            .filter(|o| pot.find_message(None, o.msgid(), None).is_none())
            .count()
    });
    po_file::write(&catalog, &path)
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "docs/po/fr.po: {kept} translation(s) kept, {new} message(s) to translate, {dropped} dropped"
    );
    Ok(())
}

/// Whether a message is only inline code and punctuation, with no prose.
fn only_code(msgid: &str) -> bool {
    msgid.split('`').step_by(2).all(|prose| !prose.chars().any(char::is_alphabetic))
}

/// fr.po's header: French plural rules, dates kept from the old header.
fn french_metadata(old: Option<&CatalogMetadata>) -> anyhow::Result<CatalogMetadata> {
    let date =
        |d: Option<&String>| d.filter(|d| !d.is_empty()).cloned().unwrap_or_default();
    let header = format!(
        "Project-Id-Version: graph-batch-lab\nPOT-Creation-Date: {}\nPO-Revision-Date: {}\n\
         Last-Translator: {}\nLanguage-Team: French\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\
         Language: fr\nPlural-Forms: nplurals=2; plural=(n > 1);\n",
        date(old.map(|o| &o.pot_creation_date)),
        date(old.map(|o| &o.po_revision_date)),
        old.map(|o| o.last_translator.as_str()).unwrap_or_default(),
    );
    CatalogMetadata::parse(&header).map_err(|e| anyhow!("{e}"))
}

/// The pages the browser check opens: name and path under `target/book`.
const BROWSER_PAGES: [(&str, &str); 4] = [
    ("landing", "index.html"),
    ("en-intro", "en/01-intro.html"),
    ("fr-intro", "fr/01-intro.html"),
    ("en-step05", "en/05-explore-batch.html"),
];

/// Opens pages in headless Chromium (Debian's `chromium`, or `$CHROMIUM`),
/// fails on any console message (errors, failed loads), and saves a
/// screenshot of each under `target/book-screenshots/`.
pub fn browser(root: &Path) -> anyhow::Result<()> {
    let out = book_dir(root);
    if !out.join("index.html").is_file() {
        build(root)?;
    }
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let shots = root.join("target").join("book-screenshots");
    fs::create_dir_all(&shots)?;
    // First a page that does log an error: proves the console is captured.
    let canary = shots.join("canary.html");
    fs::write(
        &canary,
        "<!DOCTYPE html><title>canary</title><script>console.error('graphlab canary')</script>",
    )?;
    let messages = open_in_chromium(&chromium, &canary, &shots.join("canary.png"))?;
    if !messages.iter().any(|m| m.contains("graphlab canary")) {
        bail!("Chromium's console is not captured: the canary page's error did not show");
    }
    fs::remove_file(&canary)?;
    let _ = fs::remove_file(shots.join("canary.png"));
    let mut problems = Vec::new();
    for (name, page) in BROWSER_PAGES {
        let shot = shots.join(format!("{name}.png"));
        let _ = fs::remove_file(&shot);
        let messages = open_in_chromium(&chromium, &out.join(page), &shot)?;
        problems.extend(messages.into_iter().map(|m| format!("{page}: console: {m}")));
        match fs::metadata(&shot) {
            Ok(meta) if meta.len() > 0 => println!("{page}: ok, {}", shot.display()),
            _ => problems.push(format!("{page}: no screenshot")),
        }
    }
    for p in &problems {
        println!("{p}");
    }
    if !problems.is_empty() {
        bail!("browser check: {} problem(s)", problems.len());
    }
    Ok(())
}

/// Loads `page` in headless Chromium, saves a screenshot, and returns the
/// console messages it logged.
fn open_in_chromium(
    chromium: &Path,
    page: &Path,
    shot: &Path,
) -> anyhow::Result<Vec<String>> {
    let profile = shot.with_extension("profile");
    let _ = fs::remove_dir_all(&profile);
    let url = format!("file://{}", fs::canonicalize(page)?.display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // Containers often give /dev/shm 64 MB, too little for Chromium.
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("cannot run {} (apt-get install chromium)", chromium.display())
        })?;
    let stderr = child.stderr.take().context("no stderr")?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("Chromium did not finish with {url} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines = reader.join().map_err(|_| anyhow!("stderr reader panicked"))?;
    let _ = fs::remove_dir_all(&profile);
    if !status.success() {
        bail!("Chromium failed on {url} ({status}):\n{}", lines.join("\n"));
    }
    // `[pid:tid:date:INFO:CONSOLE(12)] "message", source: url (12)`, or
    // `...:INFO:CONSOLE:12] ...` in newer versions.
    Ok(lines.into_iter().filter(|l| l.contains(":CONSOLE")).collect())
}

/// Builds, serves `target/book` on `127.0.0.1:port` and rebuilds when the
/// sources change. A development aid; stops with Ctrl-C.
pub fn serve(root: &Path, port: u16) -> anyhow::Result<()> {
    let out = book_dir(root);
    if !out.join("index.html").is_file() {
        println!("{}", build(root)?);
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!("serving the book at http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let watched = [root.join("docs"), root.join("lab-steps")];
    let root_owned = root.to_path_buf();
    std::thread::spawn(move || {
        let mut last = newest(&watched);
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = newest(&watched);
            if now > last {
                last = now;
                match build(&root_owned) {
                    Ok(report) => println!("{report}"),
                    Err(err) => eprintln!("docs: {err:#}"),
                }
            }
        }
    });
    for stream in listener.incoming().flatten() {
        let out = out.clone();
        std::thread::spawn(move || {
            if let Err(err) = answer(stream, &out) {
                eprintln!("docs serve: {err:#}");
            }
        });
    }
    Ok(())
}

fn newest(dirs: &[PathBuf]) -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    walk(&path, newest);
                }
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in dirs {
        walk(dir, &mut newest);
    }
    newest
}

/// Answers one HTTP/1.x GET with a file under `out`.
fn answer(mut stream: TcpStream, out: &Path) -> anyhow::Result<()> {
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut request_line)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = percent_decode(path.split(['?', '#']).next().unwrap_or("/"));
    let relative = Path::new(path.trim_start_matches('/'));
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_)));
    let mut file = out.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    let (status, body, kind) = match fs::read(&file) {
        Ok(body) if safe => ("200 OK", body, content_type(&file)),
        _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    Ok(())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_builds_in_both_languages_and_passes_its_checks() {
        let problems = check(&crate::root()).unwrap();
        assert!(problems.is_empty(), "book problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn an_anchor_region_is_found_and_other_anchor_lines_are_dropped() {
        let file = "a\n// ANCHOR: outer\nx\n// ANCHOR: inner\ny\n// ANCHOR_END: inner\n\
                    // ANCHOR_END: outer\n";
        assert_eq!(anchored_region(file, "outer").as_deref(), Some("x\ny\n"));
        assert_eq!(anchored_region(file, "inner").as_deref(), Some("y\n"));
        assert_eq!(anchored_region(file, "inn"), None);
        assert_eq!(anchored_region("// ANCHOR: open\nx\n", "open"), None);
    }

    #[test]
    fn include_directives_are_read_with_and_without_anchor() {
        assert_eq!(
            includes_in("{{#include ../a.rs:sign-in}} and {{#include out/b.txt}}"),
            vec![
                ("../a.rs".to_owned(), Some("sign-in".to_owned())),
                ("out/b.txt".to_owned(), None)
            ]
        );
        assert!(includes_in("{{#title x}}").is_empty());
    }

    #[test]
    fn dead_links_and_missing_fragments_are_reported() {
        let dir = crate::root().join("target").join("docs-link-test");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("en")).unwrap();
        fs::write(
            dir.join("en/a.html"),
            r##"<h1 id="top">A</h1><a href="b.html#here">ok</a> <a href="b.html#gone">x</a>
            <a href="missing.html">x</a> <a href="#top">ok</a> <a href="https://example.com/">ok</a>
            <img src="../en/b.html">"##,
        )
        .unwrap();
        fs::write(dir.join("en/b.html"), r#"<h2 id="here">B</h2>"#).unwrap();
        let problems = link_problems(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("b.html#gone") && problems[0].contains("fragment"));
        assert!(problems[1].contains("missing.html"));
    }

    #[test]
    fn code_blocks_lose_their_common_indentation_and_prose_keeps_its_own() {
        let md = "  prose\n```rust\n    let a = 1;\n\n        b();\n```\n  more\n";
        assert_eq!(
            dedent_code_blocks(md),
            "  prose\n```rust\nlet a = 1;\n\n    b();\n```\n  more\n"
        );
    }

    #[test]
    fn a_page_left_in_english_is_reported() {
        let dir = crate::root().join("target").join("docs-parity-test");
        let _ = fs::remove_dir_all(&dir);
        let page = |text: &str| {
            format!(
                "<main><div class=\"lang-switch\">x</div><p>{text}</p><pre>c</pre></main>"
            )
        };
        for (lang, a, b) in [("en", "Hello", "Same"), ("fr", "Bonjour", "Same")] {
            fs::create_dir_all(dir.join(lang)).unwrap();
            fs::write(dir.join(lang).join("a.html"), page(a)).unwrap();
            fs::write(dir.join(lang).join("b.html"), page(b)).unwrap();
        }
        fs::write(dir.join("en/c.html"), "<pre>1</pre><pre>2</pre>").unwrap();
        fs::write(dir.join("fr/c.html"), "<pre>1</pre>").unwrap();
        let problems = parity_problems(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            problems,
            [
                "fr: b.html is the same as in en",
                "fr: c.html has 1 code block(s), en has 2"
            ]
        );
    }

    #[test]
    fn a_message_of_inline_code_alone_needs_no_translation() {
        assert!(only_code("`--beta`"));
        assert!(only_code("`GET`, `POST`"));
        assert!(!only_code("`PUT` (after the replication delay)"));
        assert!(!only_code("Routes"));
    }

    #[test]
    fn the_language_switch_links_to_the_same_page_in_the_other_language() {
        let switch = language_switch("fr", Path::new("02-register-app.md"));
        assert!(switch.contains(r#"<a href="../en/02-register-app.html""#), "{switch}");
        assert!(switch.contains(r#"<strong lang="fr">Français</strong>"#), "{switch}");
    }
}
