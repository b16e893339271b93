//! The xtask's mdbook preprocessors: code blocks shown flush left, and the
//! language switch at the top of every page.

use std::path::Path;

use mdbook_driver::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use super::LANGUAGES;

/// Removes the indentation that code blocks share: an included region comes
/// from inside a function, and the book shows it flush left. Runs after
/// `links`; only fences at the start of a line are touched.
pub(super) struct Dedent;

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
pub(super) struct LanguageSwitch {
    pub(super) lang: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_lose_their_common_indentation_and_prose_keeps_its_own() {
        let md = "  prose\n```rust\n    let a = 1;\n\n        b();\n```\n  more\n";
        assert_eq!(
            dedent_code_blocks(md),
            "  prose\n```rust\nlet a = 1;\n\n    b();\n```\n  more\n"
        );
    }

    #[test]
    fn the_language_switch_links_to_the_same_page_in_the_other_language() {
        let switch = language_switch("fr", Path::new("02-register-app.md"));
        assert!(switch.contains(r#"<a href="../en/02-register-app.html""#), "{switch}");
        assert!(switch.contains(r#"<strong lang="fr">Français</strong>"#), "{switch}");
    }
}
