//! The links check: every internal `href`/`src` of the generated HTML and
//! its `#fragment` exist.

use std::{
    collections::{BTreeSet, HashMap},
    fs,
    path::{Component, Path, PathBuf},
};

use super::files_with_extension;

/// Every internal `href`/`src` of the generated HTML points at an existing
/// file, and every `#fragment` at an existing `id`.
pub(super) fn link_problems(out: &Path) -> anyhow::Result<Vec<String>> {
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

/// `%XX` escapes decoded; invalid UTF-8 replaced.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
