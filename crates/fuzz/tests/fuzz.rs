//! The fuzz targets: one test per parser of untrusted input. Each runs a
//! fixed number of cases from a fixed seed (`cargo test`), or for a time
//! (`cargo xtask fuzz --secs N`); see `graphlab_fuzz`.

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use graphlab_fuzz::{bytes, deep, fuzz, json_value, mutated, object_with, soup};
use proptest::{prelude::*, sample::select};
use serde_json::{Value, json};

fn seeds(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

const ITEM_KEYS: &[&str] = &["id", "method", "url", "headers", "body", "dependsOn", "x"];

/// A `$batch` payload of generated items (any keys, any values).
fn batch_payload() -> impl Strategy<Value = Vec<u8>> {
    let item = prop_oneof![
        object_with(ITEM_KEYS),
        (
            select(vec!["1", "2", "a", "A"]),
            select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "get", "HEAD"]),
            select(vec![
                "/me",
                "me",
                "/users?$filter=x eq 1",
                "https://x/v1.0/me",
                "/$batch",
                ""
            ]),
            proptest::option::of(json_value()),
            proptest::option::of(select(vec!["1", "2", "a", "z"])),
        )
            .prop_map(|(id, method, url, body, dep)| {
                let mut item = json!({"id": id, "method": method, "url": url});
                if let Some(body) = body {
                    item["body"] = body;
                    item["headers"] = json!({"Content-Type": "application/json"});
                }
                if let Some(dep) = dep {
                    item["dependsOn"] = json!([dep]);
                }
                item
            }),
    ];
    proptest::collection::vec(item, 0..24)
        .prop_map(|items| json!({ "requests": items }).to_string().into_bytes())
}

const BATCH_SEEDS: &[&str] = &[
    r#"{"requests":[{"id":"1","method":"GET","url":"/me"}]}"#,
    r#"{"requests":[{"id":"1","method":"POST","url":"/groups","headers":{"Content-Type":"application/json"},"body":{"displayName":"x"}},{"id":"2","method":"PUT","url":"/groups/{{1.body.id}}/team","dependsOn":["1"],"headers":{"content-type":"application/json"},"body":{}}]}"#,
    r#"{"requests":[{"id":"1","method":"POST","url":"/x","headers":{"Content-Type":"text/plain"},"body":"aGVsbG8="}]}"#,
];

#[test]
fn tenant_batch_payload() {
    let strategy = prop_oneof![
        3 => batch_payload(),
        3 => mutated(seeds(BATCH_SEEDS)),
        1 => deep(400),
        1 => bytes(256),
    ];
    fuzz("tenant_batch_payload", 10_000, strategy, |input| {
        match graphlab_tenant::fuzz::batch_payload(input) {
            Ok(n) if n == 0 || n > 20 => Err(format!("accepted a batch of {n} requests")),
            Err(message) if message.is_empty() => Err("a 400 without a message".into()),
            _ => Ok(()),
        }
    });
}

#[test]
fn tenant_json_body() {
    let strategy = prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        mutated(seeds(&[
            r#"{"displayName":"x","groupTypes":["Unified"],"mailEnabled":true}"#
        ])),
        deep(400),
        bytes(128),
    ];
    fuzz("tenant_json_body", 20_000, strategy, |input| {
        let _ = graphlab_tenant::fuzz::json_object(input);
        Ok(())
    });
}

const FILTER_WORDS: &[&str] = &[
    "(",
    ")",
    " ",
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "'x'",
    "''",
    "'",
    "1",
    "-2.5",
    "1e9",
    "true",
    "false",
    "null",
    "displayName",
    "mail",
    "nested/x",
    "@odata.x",
    "startswith",
    "endswith",
    "(displayName,'A')",
    ",",
    "in",
    "any",
    "/",
    "$",
    "%28",
    "é",
];

/// A `$filter` from the grammar, a few levels deep.
fn filter_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (
            select(vec![
                "displayName",
                "mail",
                "n",
                "accountEnabled",
                "nested/x",
                "missing"
            ]),
            select(vec!["eq", "ne", "gt", "ge", "lt", "le", "EQ"]),
            select(vec!["'Adele'", "''", "3", "-1.5", "true", "null", "'it''s'"]),
        )
            .prop_map(|(p, o, v)| format!("{p} {o} {v}")),
        (select(vec!["startswith", "endswith"]), select(vec!["'A'", "''", "'é'"]))
            .prop_map(|(f, a)| format!("{f}(displayName,{a})")),
    ];
    leaf.prop_recursive(6, 64, 2, |inner| {
        prop_oneof![
            (inner.clone(), select(vec!["and", "or"]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|e| format!("not ({e})")),
            inner.prop_map(|e| format!("({e})")),
        ]
    })
}

#[test]
fn tenant_odata_query() {
    let query = |filter: String, select: &str, top: &str| {
        format!("$filter={filter}&$select={select}&$top={top}&$count=true").into_bytes()
    };
    let strategy = prop_oneof![
        3 => (filter_expr(), select(vec!["id", "id,displayName", "", ",,", "x"]), select(vec!["1", "0", "999", "1000", "-1", "x"]))
            .prop_map(move |(f, s, t)| query(f, s, t)),
        2 => soup(FILTER_WORDS, 40).prop_map(|f| [b"$filter=".to_vec(), f].concat()),
        2 => mutated(seeds(&[
            "$filter=(startswith(displayName,'A') or not (mail eq null)) and n gt 2&$select=id,mail&$top=5",
            "$skiptoken=MQ&$count=false&$orderby=x",
            "$select=id,displayName&$filter=nested/x eq 'y'",
        ])),
        1 => deep(300).prop_map(|d| [b"$filter=".to_vec(), d].concat()),
        1 => bytes(128),
    ];
    fuzz("tenant_odata_query", 30_000, strategy, |input| {
        let text = String::from_utf8_lossy(input);
        let _ = graphlab_tenant::fuzz::query(&text);
        Ok(())
    });
}

#[test]
fn form_and_query_decoding() {
    let strategy = prop_oneof![
        mutated(seeds(&[
            "grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2Flocalhost&code_verifier=x+y",
            "client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&scope=User.Read%20openid",
        ])),
        soup(&["=", "&", "%", "%2", "%41", "%ff", "+", "a", "é", "\0"], 60),
        bytes(256),
    ];
    fuzz("form_and_query_decoding", 30_000, strategy, |input| {
        let pairs = graphlab_tenant::fuzz::form(input);
        if pairs > input.len() + 1 {
            return Err(format!("{pairs} parameters out of {} bytes", input.len()));
        }
        let _ = graphlab_tenant::fuzz::query(&String::from_utf8_lossy(input));
        Ok(())
    });
}

struct Keys {
    tenant: graphlab_tenant::Tenant,
    token: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let tenant =
            graphlab_tenant::Tenant::open(&graphlab_tenant::TenantConfig::in_memory())
                .expect("tenant");
        let token = tenant
            .issue_token(graphlab_tenant::seed::ADMIN_UPN, &["User.Read"])
            .expect("token");
        Keys { tenant, token }
    })
}

#[test]
fn jwt_parsing() {
    let keys = keys();
    let b64 = |s: String| URL_SAFE_NO_PAD.encode(s);
    let token_parts = (
        prop_oneof![
            select(vec![
                r#"{"alg":"none"}"#,
                r#"{"alg":"HS256","kid":"k"}"#,
                r#"{"alg":"RS256"}"#,
                "[]",
                "{"
            ])
            .prop_map(|s| s.to_owned()),
            json_value().prop_map(|v| v.to_string()),
        ],
        json_value().prop_map(|v| v.to_string()),
        select(vec!["", "sig", "AAAA", "!!"]),
    )
        .prop_map(move |(h, c, s)| format!("{}.{}.{s}", b64(h), b64(c)).into_bytes());
    let strategy = prop_oneof![
        3 => mutated(vec![keys.token.clone().into_bytes()]),
        2 => token_parts,
        1 => soup(&["eyJ", ".", "A", "-", "_", "=", "+", "/", "é"], 80),
        1 => bytes(200),
    ];
    // The tokens were minted on the system clock, the tenant's by default.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let original = keys
        .tenant
        .signing_key()
        .validate(&keys.token, graphlab_tenant::seed::TENANT_ID, now)
        .expect("valid");
    fuzz("jwt_parsing", 10_000, strategy, |input| {
        let text = String::from_utf8_lossy(input);
        let _ = graphlab_auth::fuzz::claims(&text);
        match keys.tenant.signing_key().validate(
            &text,
            graphlab_tenant::seed::TENANT_ID,
            now,
        ) {
            Ok(claims) if claims.oid != original.oid || claims.scp != original.scp => {
                Err(format!("forged claims accepted: {claims:?}"))
            }
            _ => Ok(()),
        }
    });
}

#[test]
fn auth_answers_and_token_cache() {
    let strategy = prop_oneof![
        object_with(&[
            "access_token",
            "token_type",
            "expires_in",
            "ext_expires_in",
            "refresh_token",
            "id_token",
            "scope",
            "expires_on",
            "resource",
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id"
        ])
        .prop_map(|v| v.to_string().into_bytes()),
        object_with(&[
            "Account",
            "AccessToken",
            "RefreshToken",
            "IdToken",
            "AppMetadata"
        ])
        .prop_map(|v| v.to_string().into_bytes()),
        mutated(seeds(&[
            r#"{"token_type":"Bearer","expires_in":"3599","access_token":"a","scope":"User.Read"}"#,
            r#"{"error":"invalid_grant","error_description":"AADSTS70000: x","error_codes":[70000]}"#,
        ])),
        deep(300),
    ];
    fuzz("auth_answers_and_token_cache", 10_000, strategy, |input| {
        let _ = graphlab_auth::fuzz::token_answer(input);
        let _ = graphlab_auth::fuzz::cache(&String::from_utf8_lossy(input));
        Ok(())
    });
}

#[test]
fn batch_client_answer_reader() {
    let answer = (
        select(vec![json!("1"), json!(1), json!(null), json!({}), json!("a\"b")]),
        select(vec![
            json!(200),
            json!(204),
            json!(-1),
            json!(70000),
            json!("200"),
            json!(null),
        ]),
        proptest::option::of(object_with(&[
            "Content-Type",
            "content-type",
            "Location",
            "x",
        ])),
        proptest::option::of(json_value()),
    )
        .prop_map(|(id, status, headers, body)| {
            let mut a = json!({"id": id, "status": status});
            if let Some(h) = headers {
                a["headers"] = h;
            }
            if let Some(b) = body {
                a["body"] = b;
            }
            a
        });
    let page =
        (proptest::collection::vec(answer, 0..24), proptest::option::of(json_value()))
            .prop_map(|(responses, next)| {
                let mut page = json!({ "responses": responses });
                if let Some(next) = next {
                    page["@odata.nextLink"] = next;
                }
                page.to_string().into_bytes()
            });
    let strategy = prop_oneof![
        3 => page,
        2 => mutated(seeds(&[
            r#"{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"x"}},{"id":"2","status":201,"headers":{"Content-Type":"image/png"},"body":"iVBORw0K"}],"@odata.nextLink":"https://x/v1.0/$batch?$skiptoken=a"}"#,
        ])),
        1 => deep(400),
        1 => bytes(256),
    ];
    fuzz("batch_client_answer_reader", 10_000, strategy, |input| {
        let _ = graphlab_batch::fuzz::read_answer(input.to_vec());
        Ok(())
    });
}

#[test]
fn lab_files_and_json_lines() {
    let lines =
        proptest::collection::vec(object_with(ITEM_KEYS), 0..8).prop_map(|items| {
            items.iter().map(Value::to_string).collect::<Vec<_>>().join("\n").into_bytes()
        });
    let strategy = prop_oneof![
        2 => batch_payload(),
        2 => lines,
        2 => mutated(seeds(&[
            BATCH_SEEDS[1],
            "{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/me\"}\n{\"id\":\"b\",\"method\":\"GET\",\"url\":\"/me/messages\",\"dependsOn\":[\"a\"]}\n",
        ])),
        1 => deep(400),
        1 => bytes(256),
    ];
    fuzz("lab_files_and_json_lines", 10_000, strategy, |input| {
        let text = String::from_utf8_lossy(input);
        if let Ok(items) = graphlab_batch::parse_items(&text, "f.json") {
            // What was read must pass the checks or be refused, never panic.
            let _ = graphlab_batch::plan::check(
                items,
                "v1.0",
                &["graph.microsoft.com"],
                false,
            );
        }
        for (n, line) in text.lines().enumerate() {
            let _ = graphlab_batch::parse_line(line, "f.jsonl", n + 1);
        }
        Ok(())
    });
}

#[test]
fn batch_reference_templates() {
    struct Source;
    impl graphlab_batch::reference::Source for Source {
        fn lookup(&self, r: &graphlab_batch::reference::Reference) -> Option<Value> {
            let body = json!({"id": "x", "value": [{"id": 1}], "n": null});
            graphlab_batch::reference::lookup(
                201,
                &[("Location".into(), "l".into())],
                Some(&body),
                &r.path,
            )
        }
    }
    let strategy = prop_oneof![
        soup(
            &[
                "{{",
                "}}",
                "{",
                "}",
                "a",
                ".",
                "body",
                "status",
                "headers",
                "id",
                "value",
                "0",
                "99999999999999999999",
                "location",
                " ",
                "é"
            ],
            40
        ),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        deep(400),
    ];
    fuzz("batch_reference_templates", 30_000, strategy, |input| {
        let text = String::from_utf8_lossy(input);
        let _ = graphlab_batch::reference::scan(&text);
        let _ = graphlab_batch::reference::resolve_text(&text, &Source);
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let _ = graphlab_batch::reference::scan_json(&value);
            let _ = graphlab_batch::reference::resolve_json(&value, &Source);
        }
        Ok(())
    });
}

fn connector_seeds() -> Vec<Vec<u8>> {
    let package =
        graphlab_connector::export(&graphlab_connector::ExportOptions::default());
    package
        .files()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .map(|(_, b)| b)
        .collect()
}

#[test]
fn connector_validator() {
    let strategy = (
        prop_oneof![
            3 => mutated(connector_seeds()),
            1 => object_with(&["swagger", "info", "paths", "host", "basePath", "schemes",
                "securityDefinitions", "security", "properties", "parameters", "$ref", "x-ms-visibility"])
                .prop_map(|v| v.to_string().into_bytes()),
            1 => deep(400),
            1 => bytes(128),
        ],
        select(vec!["apiDefinition.swagger.json", "apiProperties.json", "settings.json", "other.json"]),
        any::<bool>(),
    )
        .prop_map(|(text, name, cert)| {
            let mut out = vec![u8::from(cert)];
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend(text);
            out
        });
    fuzz("connector_validator", 5_000, strategy, |input| {
        let cert = input.first().is_some_and(|b| *b == 1);
        let rest = input.get(1..).unwrap_or_default();
        let split = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        let name = String::from_utf8_lossy(&rest[..split]);
        let text = String::from_utf8_lossy(rest.get(split + 1..).unwrap_or_default());
        let _ = graphlab_connector::validate_text_for_fuzz(&text, &name, cert);
        Ok(())
    });
}
