//! One table of `dependsOn` shapes, and both sides held to it: the client's
//! check (`plan::check`, then `plan::one_batch`: would it send the items as
//! they are, in one batch?) and the emulator's answer to the same payload
//! posted raw over HTTP (200, or 400 for a shape Graph refuses).
//!
//! Graph's rule (the known issues of JSON batching, as Microsoft's Graph
//! SDKs check it in `BatchRequestContent.validateDependencies`): a request
//! depends on at most one other, and a batch is parallel (no `dependsOn`),
//! serial (each on the one before), or "same": every request that names a
//! dependency names the same one, which names none and may stand anywhere.

use graphlab_batch::{BatchItem, plan};
use graphlab_tenant::{Tenant, TenantConfig, seed};
use serde_json::{Value, json};

/// A shape: each item's `dependsOn` (item `i` is named by `ID[i]`), and
/// whether Graph takes it as one batch.
struct Shape {
    name: &'static str,
    depends_on: &'static [&'static [&'static str]],
    accepted: bool,
}

const ID: [&str; 4] = ["a", "b", "c", "d"];

const SHAPES: &[Shape] = &[
    Shape { name: "one item", depends_on: &[&[]], accepted: true },
    Shape { name: "parallel", depends_on: &[&[], &[], &[]], accepted: true },
    Shape { name: "chain", depends_on: &[&[], &["a"], &["b"], &["c"]], accepted: true },
    Shape {
        name: "star with its root first",
        depends_on: &[&[], &["a"], &["a"], &["a"]],
        accepted: true,
    },
    Shape {
        name: "star with its root in the middle",
        depends_on: &[&["b"], &[], &["b"]],
        accepted: true,
    },
    Shape {
        name: "star with its root last",
        depends_on: &[&["c"], &["c"], &[]],
        accepted: true,
    },
    Shape { name: "a pair, the root second", depends_on: &[&["b"], &[]], accepted: true },
    Shape { name: "two roots", depends_on: &[&[], &[], &["a"], &["b"]], accepted: false },
    Shape {
        name: "a free item beside a star",
        depends_on: &[&[], &["a"], &[]],
        accepted: false,
    },
    Shape {
        name: "a chain, then a fan",
        depends_on: &[&[], &["a"], &["b"], &["b"]],
        accepted: false,
    },
    Shape {
        name: "a star whose root depends on another",
        depends_on: &[&["d"], &["a"], &["a"], &[]],
        accepted: false,
    },
    Shape {
        name: "two dependencies",
        depends_on: &[&[], &[], &["a", "b"]],
        accepted: false,
    },
    Shape { name: "a cycle of two", depends_on: &[&["b"], &["a"]], accepted: false },
    Shape {
        name: "a cycle of three",
        depends_on: &[&["c"], &["a"], &["b"]],
        accepted: false,
    },
    Shape { name: "itself", depends_on: &[&[], &["b"]], accepted: false },
    Shape { name: "a missing id", depends_on: &[&[], &["z"]], accepted: false },
];

fn items(shape: &Shape) -> Vec<BatchItem> {
    shape
        .depends_on
        .iter()
        .enumerate()
        .map(|(i, deps)| {
            let mut item = BatchItem::get(ID[i], "/me?$select=id");
            item.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
            item
        })
        .collect()
}

fn payload(items: &[BatchItem]) -> Value {
    let requests: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut request = json!({"id": item.id, "method": "GET", "url": item.url});
            if !item.depends_on.is_empty() {
                request["dependsOn"] = json!(item.depends_on);
            }
            request
        })
        .collect();
    json!({ "requests": requests })
}

/// The client's verdict: the items pass `check` and go as one batch, as is.
fn client_accepts(items: Vec<BatchItem>) -> bool {
    plan::check(items, "v1.0", &[], false).is_ok_and(|checked| plan::one_batch(&checked))
}

#[tokio::test]
async fn client_and_emulator_agree_on_every_depends_on_shape() {
    let tenant = Tenant::open(&TenantConfig::in_memory().reuse_key()).unwrap();
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let token = tenant.issue_token(seed::ADMIN_UPN, &["User.Read"]).unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1.0/$batch", running.base_url());
    let post = |items: &[BatchItem]| {
        http.post(&url).bearer_auth(&token).json(&payload(items)).send()
    };
    for shape in SHAPES {
        let items = items(shape);
        let answer = post(&items).await.unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        let emulator = match status {
            200 => true,
            400 => false,
            other => panic!("{}: the emulator answered {other}: {body}", shape.name),
        };
        assert_eq!(emulator, shape.accepted, "the emulator, {}: {body}", shape.name);
        assert_eq!(client_accepts(items), shape.accepted, "the client, {}", shape.name);
        if emulator {
            let responses = body["responses"].as_array().unwrap();
            assert_eq!(responses.len(), shape.depends_on.len(), "{}", shape.name);
            assert!(
                responses.iter().all(|r| r["status"] == 200),
                "{}: {body}",
                shape.name
            );
        }
    }
    // More than 20 requests: no shape makes that one batch.
    let many: Vec<BatchItem> =
        (0..21).map(|i| BatchItem::get(format!("m{i}"), "/me?$select=id")).collect();
    let status = post(&many).await.unwrap().status();
    assert_eq!(status, 400);
    assert!(!client_accepts(many));
    running.shutdown().await;
}
