//! Validation (Graph's rules, checked before anything is sent) and the
//! planner that turns any number of items into batches Graph accepts.
//!
//! Graph takes a batch of at most 20 requests whose `dependsOn` is one of
//! three shapes: none (parallel), a chain (each on the one before), or every
//! dependent on the same request (see [`graph_accepts`]); the planner puts
//! that request first. Items linked by `dependsOn` form
//! trees (each item names one dependency); a tree that fits a shape and the
//! size goes out as one batch ([`Unit`] with wire dependencies). Everything
//! else becomes single items whose order the client enforces itself: an item
//! is sent only once what it depends on has succeeded. Items with references
//! (`{{id.body.x}}`) are always sent after the items they refer to, since the
//! value must exist before the request is written. Independent items are
//! packed by the executor into full batches.

use std::collections::{HashMap, hash_map::Entry};

use crate::{BatchError, BatchItem, Body, Caseless, reference};

/// The items, checked and resolved to indices.
#[derive(Debug)]
pub struct Checked {
    /// The items, URLs made relative.
    pub items: Vec<BatchItem>,
    /// For each item, the indices it depends on (explicit and by reference).
    pub deps: Vec<Vec<usize>>,
    /// Whether an item holds references (resolved at send time).
    pub late: Vec<bool>,
    /// Whether another item refers to this one (its answer is kept).
    pub referenced: Vec<bool>,
    /// The items referred to, by the id as each reference spells it (the
    /// spelling was matched to its item with [`Caseless`], once).
    pub referenced_ids: HashMap<String, usize>,
}

/// Checks items the way Graph would, before sending anything. `version` is
/// `v1.0` or `beta`; `hosts` are the Graph hosts absolute URLs may name.
/// With `strict`, a URL Graph itself would refuse (absolute, or naming the
/// version) is an error instead of being made relative.
pub fn check(
    mut items: Vec<BatchItem>,
    version: &str,
    hosts: &[&str],
    strict: bool,
) -> Result<Checked, BatchError> {
    let invalid =
        |id: &str, message: String| BatchError::Invalid { id: id.to_owned(), message };
    let mut index: HashMap<Caseless<'_>, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.id.trim().is_empty() {
            return Err(invalid(&item.id, "the id is empty".into()));
        }
        match index.entry(Caseless(&item.id)) {
            Entry::Occupied(e) => {
                return Err(invalid(
                    &item.id,
                    format!(
                        "the id is also used by item '{}' (ids are compared without regard to case)",
                        items[*e.get()].id
                    ),
                ));
            }
            Entry::Vacant(e) => {
                e.insert(i);
            }
        }
    }
    let mut deps = vec![Vec::new(); items.len()];
    let mut late = vec![false; items.len()];
    let mut referenced = vec![false; items.len()];
    let mut referenced_ids = HashMap::new();
    // URLs to rewrite once the index, which borrows the items, is done with.
    let mut urls: Vec<(usize, String)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let rewritten =
            relative_url(&item.url, version, hosts).map_err(|m| invalid(&item.id, m))?;
        if strict && let Some(why) = graph_refuses(&item.url) {
            return Err(invalid(
                &item.id,
                format!("Graph answers 400 to the url '{}': {why}", item.url),
            ));
        }
        let url = rewritten.as_deref().unwrap_or(&item.url);
        if item.body.is_some() && item.content_type().is_none() {
            return Err(invalid(
                &item.id,
                "a request with a body needs a Content-Type header".into(),
            ));
        }
        let mut refs = reference::scan(url).map_err(|m| invalid(&item.id, m))?;
        for (_, v) in &item.headers {
            refs.extend(reference::scan(v).map_err(|m| invalid(&item.id, m))?);
        }
        if let Some(Body::Json(body)) = &item.body {
            refs.extend(reference::scan_json(body).map_err(|m| invalid(&item.id, m))?);
        }
        late[i] = !refs.is_empty();
        for r in &refs {
            if let Some(&j) = index.get(&Caseless(&r.id)) {
                referenced[j] = true;
                referenced_ids.entry(r.id.clone()).or_insert(j);
            }
        }
        let named = item
            .depends_on
            .iter()
            .map(|d| (d.as_str(), "depends on"))
            .chain(refs.iter().map(|r| (r.id.as_str(), "refers to")));
        for (target, how) in named {
            let &j = index.get(&Caseless(target)).ok_or_else(|| {
                invalid(
                    &item.id,
                    format!("it {how} '{target}', which is not an item of this job"),
                )
            })?;
            if j == i {
                return Err(invalid(&item.id, format!("it {how} itself")));
            }
            if !deps[i].contains(&j) {
                deps[i].push(j);
            }
        }
        if let Some(url) = rewritten {
            urls.push((i, url));
        }
    }
    drop(index);
    for (i, url) in urls {
        items[i].url = url;
    }
    if let Some(cycle) = find_cycle(&deps) {
        let names: Vec<&str> = cycle.iter().map(|&i| items[i].id.as_str()).collect();
        return Err(invalid(
            names[0],
            format!("its dependencies form a cycle: {}", names.join(" -> ")),
        ));
    }
    Ok(Checked { items, deps, late, referenced, referenced_ids })
}

/// A URL Graph would refuse in a `$batch` item, made relative by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// What the client sends instead.
    pub url: String,
    /// Why Graph would refuse the URL as given.
    pub why: &'static str,
}

/// What the client makes of a URL that Graph itself would refuse in a
/// `$batch` item (Graph takes only URLs relative to the version root:
/// "/me", not "https://graph.microsoft.com/v1.0/me" nor "/v1.0/me"):
/// `Ok(Some(rewrite))`; `Ok(None)` when Graph takes it as it is; an error
/// when it cannot be sent at all (another host or version).
pub fn rewrite(
    url: &str,
    version: &str,
    hosts: &[&str],
) -> Result<Option<Rewrite>, String> {
    let relative = relative_url(url, version, hosts)?;
    Ok(match (relative, graph_refuses(url)) {
        (Some(url), Some(why)) => Some(Rewrite { url, why }),
        _ => None,
    })
}

/// Why Graph answers 400 to this item URL, if it does: an absolute URL, or
/// one that names the version (Graph would look for `/v1.0/v1.0/...`).
fn graph_refuses(url: &str) -> Option<&'static str> {
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("//") {
        return Some("batch request URLs are relative to the version root, such as /me");
    }
    let path = lower.trim_start_matches('/');
    ["v1.0", "beta"]
        .iter()
        .any(|v| {
            path.strip_prefix(v)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        })
        .then_some(
            "the version is the $batch call's, not the item's: write /me, not /v1.0/me",
        )
}

/// An absolute Graph URL of the same version becomes relative, as does a
/// relative one that names the version; `None` when `url` is fine as it is.
/// Any other absolute URL, or another version, is an error.
fn relative_url(
    url: &str,
    version: &str,
    hosts: &[&str],
) -> Result<Option<String>, String> {
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err("the url is empty".into());
    }
    let Some(rest) =
        trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"))
    else {
        if trimmed.starts_with("//") {
            return Err(format!("'{url}' is not a relative URL"));
        }
        let path = trimmed.trim_start_matches('/');
        if let Some(after) = path.strip_prefix(version)
            && (after.is_empty() || after.starts_with('/'))
        {
            return Ok(Some(format!("/{}", after.trim_start_matches('/'))));
        }
        if ["v1.0/", "beta/"].iter().any(|other| path.starts_with(other)) {
            return Err(format!(
                "'{url}' names another Graph version than this job's ({version})"
            ));
        }
        return Ok((path.len() + 1 != url.len()).then(|| format!("/{path}")));
    };
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(format!("'{url}' is not a Microsoft Graph URL"));
    }
    match path.strip_prefix(version) {
        Some(p) if p.starts_with('/') => Ok(Some(p.to_owned())),
        Some(p) if p.starts_with('?') => Ok(Some(format!("/{p}"))),
        _ => Err(format!("'{url}' is not under /{version}, this job's Graph version")),
    }
}

fn find_cycle(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; deps.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..deps.len() {
        if mark[start] != Mark::New {
            continue;
        }
        if deps[start].is_empty() {
            mark[start] = Mark::Done;
            continue;
        }
        stack.clear();
        stack.push((start, 0));
        mark[start] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&d) = deps[node].get(*next) {
                *next += 1;
                match mark[d] {
                    Mark::New => {
                        mark[d] = Mark::Open;
                        stack.push((d, 0));
                    }
                    Mark::Open => {
                        let mut cycle: Vec<usize> = stack
                            .iter()
                            .map(|(n, _)| *n)
                            .skip_while(|n| *n != d)
                            .collect();
                        cycle.push(d);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

/// Items that travel together in one batch, with the `dependsOn` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Item indices, in batch order.
    pub items: Vec<usize>,
    /// For each item, the index (into `items`' item indices) it depends on in the batch.
    pub wire: Vec<Option<usize>>,
    /// Items outside the unit that must have succeeded before it is sent.
    pub external: Vec<usize>,
}

impl Unit {
    /// A unit of one item whose dependencies the client enforces.
    pub fn single(item: usize, deps: &[usize]) -> Unit {
        Unit { items: vec![item], wire: vec![None], external: deps.to_vec() }
    }

    /// Whether it has no wire dependencies (so it can share a batch).
    pub fn is_loose(&self) -> bool {
        self.wire.iter().all(Option::is_none)
    }
}

/// Turns checked items into units; `max` is the batch size (1–20).
pub fn plan(checked: &Checked, max: usize) -> Vec<Unit> {
    let n = checked.items.len();
    // An item may travel with its dependency when it names exactly one and
    // holds no reference; those edges form trees.
    let wire_parent: Vec<Option<usize>> = (0..n)
        .map(|i| {
            (!checked.late[i] && checked.deps[i].len() == 1).then(|| checked.deps[i][0])
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in wire_parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    let mut units = Vec::new();
    // Items that depend on nothing and that nothing travels with share
    // units of `max` (one allocation per batch, not per item).
    let mut free = Unit { items: Vec::new(), wire: Vec::new(), external: Vec::new() };
    for root in (0..n).filter(|&i| wire_parent[i].is_none()) {
        if children[root].is_empty() {
            if !checked.deps[root].is_empty() {
                units.push(Unit::single(root, &checked.deps[root]));
                continue;
            }
            if free.items.is_empty() {
                free.items.reserve_exact(max);
                free.wire.reserve_exact(max);
            }
            free.items.push(root);
            free.wire.push(None);
            if free.items.len() == max {
                units.push(std::mem::replace(
                    &mut free,
                    Unit { items: Vec::new(), wire: Vec::new(), external: Vec::new() },
                ));
            }
            continue;
        }
        let mut tree = vec![root];
        let mut k = 0;
        while k < tree.len() {
            tree.extend(children[tree[k]].iter().copied());
            k += 1;
        }
        let external = checked.deps[root].clone();
        if tree.len() == 1 {
            units.push(Unit::single(root, &external));
            continue;
        }
        let is_path = tree.iter().all(|&i| children[i].len() <= 1);
        let is_star = children[root].len() == tree.len() - 1;
        if is_path {
            // A chain: batches of `max` consecutive items; each waits for the previous.
            let mut previous: Option<usize> = None;
            for chunk in tree.chunks(max) {
                let mut ext =
                    if previous.is_none() { external.clone() } else { Vec::new() };
                ext.extend(previous);
                let wire = (0..chunk.len()).map(|j| j.checked_sub(1)).collect();
                units.push(Unit { items: chunk.to_vec(), wire, external: ext });
                previous = chunk.last().copied();
            }
        } else if is_star && tree.len() <= max {
            let wire = (0..tree.len()).map(|j| (j > 0).then_some(0)).collect();
            units.push(Unit { items: tree, wire, external });
        } else {
            // Any other tree: one item at a time, in order, by the client.
            for &i in &tree {
                units.push(Unit::single(i, &checked.deps[i]));
            }
        }
    }
    if !free.items.is_empty() {
        units.push(free);
    }
    units
}

/// Whether a batch's `dependsOn` is a shape Graph accepts: `wire[j]` is the
/// position item j depends on. Graph's rule (the known issues of JSON
/// batching, as Microsoft's Graph SDKs check it in
/// `BatchRequestContent.validateDependencies`): at most 20 items, and
/// parallel (no item names a dependency), serial (each item names the one
/// before it), or "same": every item that names a dependency names the same
/// one, the root, which names none and may stand anywhere in the batch. The
/// emulator applies the same rule; `tests/it/shapes.rs` holds both to one
/// table.
pub fn graph_accepts(wire: &[Option<usize>]) -> bool {
    let parallel = wire.iter().all(Option::is_none);
    let serial = wire.iter().enumerate().all(|(j, w)| *w == j.checked_sub(1));
    let same = wire.iter().flatten().next().is_some_and(|&root| {
        wire.get(root) == Some(&None)
            && wire.iter().enumerate().all(|(j, w)| j == root || *w == Some(root))
    });
    wire.len() <= 20 && (parallel || serial || same)
}

/// Whether `checked`'s items, in their order, can go as one batch with their
/// `dependsOn` as given: each names at most one dependency (references
/// count as dependencies; they are resolved before sending, so an item with
/// one never goes with what it refers to) and the shape is one Graph accepts
/// ([`graph_accepts`]).
pub fn one_batch(checked: &Checked) -> bool {
    let mut wire = Vec::with_capacity(checked.items.len());
    for (i, deps) in checked.deps.iter().enumerate() {
        match deps[..] {
            [] => wire.push(None),
            [d] if !checked.late[i] => wire.push(Some(d)),
            _ => return false,
        }
    }
    graph_accepts(&wire)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::BatchItem;

    fn items(deps: &[Vec<usize>]) -> Vec<BatchItem> {
        deps.iter()
            .enumerate()
            .map(|(i, d)| {
                let mut item = BatchItem::get(format!("i{i}"), "/me");
                item.depends_on = d.iter().map(|j| format!("i{j}")).collect();
                item
            })
            .collect()
    }

    #[test]
    fn independent_items_are_loose_and_chains_are_split_by_twenty() {
        let checked = check(items(&vec![vec![]; 45]), "v1.0", &[], false).unwrap();
        let units = plan(&checked, 20);
        assert!(units.iter().all(|u| u.is_loose() && u.external.is_empty()));
        assert_eq!(units.iter().map(|u| u.items.len()).collect::<Vec<_>>(), [20, 20, 5]);
        let chain: Vec<Vec<usize>> =
            (0..45).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect();
        let units = plan(&check(items(&chain), "v1.0", &[], false).unwrap(), 20);
        assert_eq!(
            units.iter().map(|u| u.items.len()).collect::<Vec<_>>(),
            vec![20, 20, 5]
        );
        assert_eq!(units[1].external, vec![19]);
    }

    #[test]
    fn validation_names_the_item() {
        let mut dup = items(&[vec![], vec![]]);
        dup[1].id = "I0".into();
        let err = check(dup, "v1.0", &[], false).unwrap_err().to_string();
        assert!(err.contains("'I0'") && err.contains("'i0'"), "{err}");
        let cycle = items(&[vec![2], vec![0], vec![1]]);
        assert!(
            check(cycle, "v1.0", &[], false).unwrap_err().to_string().contains("cycle")
        );
        let mut abs = items(&[vec![]]);
        abs[0].url = "https://graph.microsoft.com/v1.0/users?$top=1".into();
        assert_eq!(
            check(abs.clone(), "v1.0", &["graph.microsoft.com"], false).unwrap().items[0]
                .url,
            "/users?$top=1"
        );
        assert!(check(abs.clone(), "beta", &["graph.microsoft.com"], false).is_err());
        abs[0].url = "https://example.com/v1.0/users".into();
        assert!(
            check(abs, "v1.0", &["graph.microsoft.com"], false)
                .unwrap_err()
                .to_string()
                .contains("not a Microsoft Graph URL")
        );
        let mut strict = items(&[vec![]]);
        strict[0].url = "/v1.0/me".into();
        let err = check(strict.clone(), "v1.0", &[], true).unwrap_err().to_string();
        assert!(err.contains("Graph answers 400") && err.contains("/v1.0/me"), "{err}");
        assert_eq!(check(strict, "v1.0", &[], false).unwrap().items[0].url, "/me");
        let fix = rewrite(
            "https://graph.microsoft.com/v1.0/me",
            "v1.0",
            &["graph.microsoft.com"],
        );
        assert_eq!(fix.unwrap().unwrap().url, "/me");
        assert_eq!(rewrite("me", "v1.0", &[]), Ok(None), "Graph takes it as it is");
        assert_eq!(rewrite("/me/events", "v1.0", &[]), Ok(None));
        let mut body = items(&[vec![]]);
        body[0].body = Some(crate::Body::Json(serde_json::json!({})));
        assert!(
            check(body, "v1.0", &[], false)
                .unwrap_err()
                .to_string()
                .contains("Content-Type")
        );
    }

    fn arb_graph() -> impl Strategy<Value = Vec<Vec<usize>>> {
        (1usize..120).prop_flat_map(|n| {
            proptest::collection::vec(
                proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
                n,
            )
            .prop_map(move |raw| {
                raw.iter()
                    .enumerate()
                    .map(|(i, picks)| {
                        if i == 0 {
                            return vec![];
                        }
                        let mut d: Vec<usize> =
                            picks.iter().map(|p| p.index(i)).collect();
                        d.sort();
                        d.dedup();
                        d
                    })
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn every_item_is_planned_once_and_every_unit_is_a_shape_graph_accepts(deps in arb_graph(), max in 1usize..=20) {
            let checked = check(items(&deps), "v1.0", &[], false).unwrap();
            let units = plan(&checked, max);
            let mut seen = vec![0; deps.len()];
            for u in &units {
                prop_assert!(u.items.len() <= max);
                prop_assert!(graph_accepts(&u.wire));
                for (pos, &i) in u.items.iter().enumerate() {
                    seen[i] += 1;
                    // Every dependency is either on the wire, earlier in the unit, or external.
                    for d in &checked.deps[i] {
                        let on_wire = u.wire[pos].map(|w| u.items[w]) == Some(*d);
                        prop_assert!(on_wire || u.external.contains(d) || !u.items.contains(d),
                            "item {} depends on {} in the same unit without a wire edge", i, d);
                    }
                }
            }
            prop_assert!(seen.iter().all(|&c| c == 1));
        }
    }
}
