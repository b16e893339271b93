//! `cargo xtask docs --check`: includes that resolve, a build with no
//! warning, links, the French book's parity with the English one, and fr.po.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use super::{
    LANGUAGES, book_dir, build, files_with_extension,
    links::link_problems,
    po::{PoStats, stale_po_problems},
};

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
}
