//! `docs/po/fr.po`: statistics, the messages the English book has now, and
//! `--update-po`'s merge.

use std::path::Path;

use anyhow::{Context, anyhow};
use mdbook_i18n_helpers::renderers::Xgettext;
use polib::{catalog::Catalog, message::Message, metadata::CatalogMetadata, po_file};

use super::{LANGUAGES, book_dir, build::load};

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

    pub(super) fn problems(&self) -> Vec<String> {
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
pub(super) fn stale_po_problems(root: &Path) -> anyhow::Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_inline_code_alone_needs_no_translation() {
        assert!(only_code("`--beta`"));
        assert!(only_code("`GET`, `POST`"));
        assert!(!only_code("`PUT` (after the replication delay)"));
        assert!(!only_code("Routes"));
    }
}
