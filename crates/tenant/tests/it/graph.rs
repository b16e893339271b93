//! Graph routes, one by one: shapes, permissions, errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::Harness;
use graphlab_tenant::{TokenSpec, seed};

#[tokio::test]
async fn every_response_carries_request_ids_and_graph_error_shape() {
    let h = Harness::start().await;
    let response = h
        .http
        .get(h.url("/v1.0/nope"))
        .bearer_auth(&h.token)
        .header("client-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    let answer = crate::read(response).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "BadRequest");
    assert_eq!(answer.message(), "Resource not found for the segment 'nope'.");
    assert_eq!(answer.header("client-request-id"), Some("abc-123"));
    let request_id = answer.header("request-id").unwrap();
    let inner = &answer.body["error"]["innerError"];
    assert_eq!(inner["request-id"], request_id);
    assert_eq!(inner["client-request-id"], "abc-123");
    assert!(inner["date"].as_str().unwrap().len() >= 19);
}

#[tokio::test]
async fn unknown_version_is_a_bad_request() {
    let h = Harness::start().await;
    let answer = h.get("/v2.0/me").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.message(), "Invalid version: v2.0");
    assert!(answer.header("request-id").is_some());
}

#[tokio::test]
async fn missing_invalid_and_expired_tokens_get_401_with_a_challenge() {
    let h = Harness::start().await;
    let none = h.call(Method::GET, "/v1.0/me", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "InvalidAuthenticationToken");
    assert_eq!(none.message(), "Access token is empty.");
    let challenge = none.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("authorization_uri="), "{challenge}");

    let garbage = h.call(Method::GET, "/v1.0/me", Some("not-a-jwt"), None).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert_eq!(garbage.code(), "InvalidAuthenticationToken");

    let mut spec = TokenSpec::delegated(seed::ADMIN_UPN, &["User.Read"]);
    spec.expired = Some(std::time::Duration::from_secs(3600));
    let expired = h.tenant.issue_token_with(&spec).unwrap();
    let answer = h.call(Method::GET, "/v1.0/me", Some(&expired), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.message().contains("expired"), "{}", answer.message());

    let mut spec = TokenSpec::delegated(seed::ADMIN_UPN, &["User.Read"]);
    spec.audience = "https://management.azure.com".into();
    let wrong_aud = h.tenant.issue_token_with(&spec).unwrap();
    let answer = h.call(Method::GET, "/v1.0/me", Some(&wrong_aud), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.message().contains("audience"), "{}", answer.message());

    // A token signed by another tenant's key is refused.
    let other =
        graphlab_tenant::Tenant::open(&graphlab_tenant::TenantConfig::in_memory())
            .unwrap();
    let foreign = other.issue_token(seed::ADMIN_UPN, &["User.Read"]).unwrap();
    let answer = h.call(Method::GET, "/v1.0/me", Some(&foreign), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.message().contains("Signature"), "{}", answer.message());
    // The harness's tenants reuse one key; a tenant opened without
    // `reuse_key` makes its own.
    let reusing = graphlab_tenant::Tenant::open(
        &graphlab_tenant::TenantConfig::in_memory().reuse_key(),
    )
    .unwrap();
    assert_eq!(reusing.signing_key().kid(), h.tenant.signing_key().kid());
    assert_ne!(other.signing_key().kid(), h.tenant.signing_key().kid());
}

#[tokio::test]
async fn me_on_beta_has_more_properties_than_on_v1() {
    let h = Harness::start().await;
    let v1 = h.get("/v1.0/me").await;
    let beta = h.get("/beta/me").await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(beta.status, StatusCode::OK);
    assert_eq!(v1.body["userPrincipalName"], seed::ADMIN_UPN);
    let keys = |v: &serde_json::Value| {
        v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
    };
    let (v1_keys, beta_keys) = (keys(&v1.body), keys(&beta.body));
    assert_eq!(
        v1_keys.len(),
        12,
        "11 default properties and @odata.context: {v1_keys:?}"
    );
    assert!(beta_keys.len() > v1_keys.len() + 10, "{beta_keys:?}");
    assert!(v1_keys.iter().all(|k| beta_keys.contains(k)));
    assert!(
        !beta_keys.iter().any(|k| k.starts_with('_')),
        "internal fields leak: {beta_keys:?}"
    );
    assert!(
        v1.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#users/$entity")
    );
}

#[tokio::test]
async fn select_filter_top_and_paging() {
    let h = Harness::start().await;
    let me = h.get("/v1.0/me?$select=displayName,jobTitle,userPrincipalName").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body.as_object().unwrap().len(), 4, "{:?}", me.body);
    let unknown = h.get("/v1.0/me?$select=shoeSize").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.message().contains("shoeSize"));

    let high = h
        .get("/v1.0/me/messages?$filter=importance%20eq%20'high'&$select=from,subject,receivedDateTime,bodyPreview")
        .await;
    assert_eq!(high.status, StatusCode::OK, "{:?}", high.body);
    let messages = high.body["value"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    for m in messages {
        assert_eq!(m.as_object().unwrap().len(), 4, "{m}");
    }

    let starts = h.get("/v1.0/users?$filter=startswith(displayName,'Me')").await;
    assert_eq!(starts.body["value"].as_array().unwrap().len(), 1);
    let or = h
        .get("/v1.0/users?$filter=city%20eq%20'Seattle'%20or%20city%20eq%20'Redmond'")
        .await;
    assert_eq!(or.body["value"].as_array().unwrap().len(), 2, "{:?}", or.body);
    let bad = h.get("/v1.0/users?$filter=city%20eq").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Paging: $top=2 over 6 users gives 3 pages linked by @odata.nextLink.
    let mut url = "/v1.0/users?$top=2&$select=id".to_owned();
    let mut seen = Vec::new();
    loop {
        let page = h.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for u in page.body["value"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        match page.body["@odata.nextLink"].as_str() {
            Some(next) => {
                url = next.strip_prefix(h.running.base_url()).unwrap().to_owned()
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    seen.dedup();
    assert_eq!(seen.len(), 6);
    let too_big = h.get("/v1.0/users?$top=1000").await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn count_needs_consistency_level_eventual_on_directory_objects() {
    let h = Harness::start().await;
    let without = h.get("/v1.0/users?$count=true").await;
    assert_eq!(without.status, StatusCode::BAD_REQUEST);
    assert_eq!(without.code(), "Request_BadRequest");
    let response = h
        .http
        .get(h.url("/v1.0/users?$count=true&$top=1&$filter=userType%20ne%20'Guest'"))
        .bearer_auth(&h.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    let with = crate::read(response).await;
    assert_eq!(with.status, StatusCode::OK, "{:?}", with.body);
    assert_eq!(with.body["@odata.count"], 6);
    assert!(with.body["@odata.nextLink"].is_string());
    let ne_without = h.get("/v1.0/users?$filter=userType%20ne%20'Guest'").await;
    assert_eq!(ne_without.code(), "Request_UnsupportedQuery");
}

#[tokio::test]
async fn users_by_id_and_upn_and_not_found() {
    let h = Harness::start().await;
    let by_upn = h.get("/v1.0/users/AdeleV@contoso.onmicrosoft.com").await;
    assert_eq!(by_upn.status, StatusCode::OK);
    let id = by_upn.body["id"].as_str().unwrap();
    let by_id = h.get(&format!("/v1.0/users/{id}")).await;
    assert_eq!(by_id.body["displayName"], "Adele Vance");
    let missing = h.get("/v1.0/users/nobody@contoso.onmicrosoft.com").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "Request_ResourceNotFound");
}

#[tokio::test]
async fn permissions_are_enforced_per_route() {
    let h = Harness::start().await;
    let weak = h.tenant.issue_token(seed::ADMIN_UPN, &["User.Read"]).unwrap();
    let answer = h
        .call(
            Method::POST,
            "/v1.0/groups",
            Some(&weak),
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "Authorization_RequestDenied");
    let mail = h.call(Method::GET, "/v1.0/me/messages", Some(&weak), None).await;
    assert_eq!(mail.status, StatusCode::FORBIDDEN);
    let me = h.call(Method::GET, "/v1.0/me", Some(&weak), None).await;
    assert_eq!(me.status, StatusCode::OK);

    // Application tokens: roles, not scopes; /me needs a user.
    let app =
        h.tenant.issue_app_token(seed::GRAPH_CLI_APP_ID, &["User.Read.All"]).unwrap();
    let users = h.call(Method::GET, "/v1.0/users", Some(&app), None).await;
    assert_eq!(users.status, StatusCode::OK);
    let me = h.call(Method::GET, "/v1.0/me", Some(&app), None).await;
    assert_eq!(me.status, StatusCode::BAD_REQUEST);
    let groups = h.call(Method::GET, "/v1.0/groups", Some(&app), None).await;
    assert_eq!(groups.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn groups_create_validate_update_delete() {
    let h = Harness::start().await;
    let id = h.create_group("Marketing").await;
    let group = h.get(&format!("/v1.0/groups/{id}")).await;
    assert_eq!(group.body["mailNickname"], "Marketing");
    assert_eq!(group.body["mail"], "Marketing@contoso.onmicrosoft.com");
    assert!(group.body.get("_readyAtMs").is_none());

    let dup = h
        .post(
            "/v1.0/groups",
            json!({"displayName": "Other", "mailNickname": "marketing", "groupTypes": ["Unified"],
                   "mailEnabled": true, "securityEnabled": false}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(dup.message().contains("mailNickname"), "{}", dup.message());

    let missing = h.post("/v1.0/groups", json!({"displayName": "NoNick", "mailEnabled": false, "securityEnabled": true})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.message(),
        "Invalid value specified for property 'mailNickname' of resource 'Group'."
    );

    let spaces = h
        .post(
            "/v1.0/groups",
            json!({"displayName": "Has Spaces", "mailNickname": "has spaces", "groupTypes": ["Unified"],
                   "mailEnabled": true, "securityEnabled": false}),
        )
        .await;
    assert_eq!(spaces.status, StatusCode::BAD_REQUEST);

    let wrong_type = h
        .post("/v1.0/groups", json!({"displayName": "T", "mailNickname": "t", "mailEnabled": "yes", "securityEnabled": false}))
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert!(wrong_type.message().contains("mailEnabled"));

    let unknown =
        h.post("/v1.0/groups", json!({"displayName": "T", "colour": "red"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.message().contains("'colour'"));

    let patch = h
        .call(
            Method::PATCH,
            &format!("/v1.0/groups/{id}"),
            Some(&h.token),
            Some(json!({"description": "New"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&format!("/v1.0/groups/{id}")).await.body["description"], "New");

    let filtered = h.get("/v1.0/groups?$filter=mailNickname%20eq%20'Marketing'").await;
    assert_eq!(filtered.body["value"].as_array().unwrap().len(), 1);

    let bad_id = h.get("/v1.0/groups/not-a-guid").await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.message(), "Invalid object identifier 'not-a-guid'.");

    let delete =
        h.call(Method::DELETE, &format!("/v1.0/groups/{id}"), Some(&h.token), None).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    let gone = h.get(&format!("/v1.0/groups/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "Request_ResourceNotFound");

    let wrong_method =
        h.call(Method::PUT, "/v1.0/groups", Some(&h.token), Some(json!({}))).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.code().len() > 3);
}

#[tokio::test]
async fn put_team_waits_for_replication_then_creates_channels() {
    let h = Harness::start().await;
    let group = h.create_group("Launch").await;
    let early = h
        .call(
            Method::PUT,
            &format!("/v1.0/groups/{group}/team"),
            Some(&h.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND, "a new group is not replicated yet");
    assert_eq!(early.code(), "NotFound");

    let team = h.create_team(&group).await;
    assert_eq!(team.status, StatusCode::CREATED, "{:?}", team.body);
    assert_eq!(team.body["id"], group.as_str());
    let again = h.create_team(&group).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let got = h.get(&format!("/v1.0/teams/{group}")).await;
    assert_eq!(got.status, StatusCode::OK);
    let channel = h
        .post(
            &format!("/v1.0/teams/{group}/channels"),
            json!({"displayName": "Plans", "description": "d"}),
        )
        .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
    let dup = h
        .post(&format!("/v1.0/teams/{group}/channels"), json!({"displayName": "plans"}))
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(dup.code(), "NameAlreadyExists");
    let bad = h
        .post(&format!("/v1.0/teams/{group}/channels"), json!({"displayName": "a/b"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let channels = h.get(&format!("/v1.0/teams/{group}/channels")).await;
    let names: Vec<_> = channels.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["displayName"].clone())
        .collect();
    assert_eq!(names.len(), 2, "General and Plans: {names:?}");
    let no_team = h.get("/v1.0/teams/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(no_team.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn onenote_without_notes_scope_is_403_40004_like_the_lab() {
    let h = Harness::start().await;
    let group = h.create_group("Notes").await;
    let answer = h
        .post(
            &format!("/v1.0/groups/{group}/onenote/notebooks"),
            json!({"displayName": "Meeting Notes"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "40004");
    assert_eq!(answer.header("cache-control"), Some("no-cache"));
    assert!(
        answer.message().contains("Notes.ReadWrite.All,Notes.Read.All"),
        "{}",
        answer.message()
    );
    assert!(
        answer.message().contains("Group.ReadWrite.All"),
        "names the provided scopes"
    );
    assert!(answer.body["error"]["innerError"]["request-id"].is_string());

    let notes = h.tenant.issue_token(seed::ADMIN_UPN, &["Notes.ReadWrite.All"]).unwrap();
    let ok = h
        .call(
            Method::POST,
            &format!("/v1.0/groups/{group}/onenote/notebooks"),
            Some(&notes),
            Some(json!({"displayName": "Meeting Notes"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
}

#[tokio::test]
async fn applications_secrets_service_principals_and_grants() {
    let h = Harness::start().await;
    let app = h
        .post(
            "/v1.0/applications",
            json!({
                "displayName": "MS Graph Batch App",
                "signInAudience": "AzureADMultipleOrgs",
                "requiredResourceAccess": [{
                    "resourceAppId": graphlab_tenant::GRAPH_APP_ID,
                    "resourceAccess": [{"id": "e1000000-0000-4000-8000-000000000012", "type": "Scope"}]
                }]
            }),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{:?}", app.body);
    let id = app.body["id"].as_str().unwrap().to_owned();
    let app_id = app.body["appId"].as_str().unwrap().to_owned();

    let secret = h
        .post(
            &format!("/v1.0/applications/{id}/addPassword"),
            json!({"passwordCredential": {"displayName": "forever"}}),
        )
        .await;
    assert_eq!(secret.status, StatusCode::OK, "{:?}", secret.body);
    let text = secret.body["secretText"].as_str().unwrap();
    assert_eq!(text.len(), 40);
    assert_eq!(secret.body["hint"], &text[..3]);
    let stored = h.get(&format!("/v1.0/applications/{id}")).await;
    let creds = stored.body["passwordCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1);
    assert!(creds[0]["secretText"].is_null(), "the secret is returned once only");
    assert!(!stored.body.to_string().contains(text));
    assert!(
        !h.tenant.objects("applications").iter().any(|a| a.to_string().contains(text)),
        "stored hashed"
    );

    let redirect = "https://global.consent.azure-apim.net/redirect";
    let patch = h
        .call(
            Method::PATCH,
            &format!("/v1.0/applications/{id}"),
            Some(&h.token),
            Some(json!({"web": {"redirectUris": [redirect]}})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NO_CONTENT);
    let after = h.get(&format!("/v1.0/applications/{id}")).await;
    assert_eq!(after.body["web"]["redirectUris"][0], redirect);
    let bad_uri = h
        .call(
            Method::PATCH,
            &format!("/v1.0/applications/{id}"),
            Some(&h.token),
            Some(json!({"web": {"redirectUris": ["ftp://x"]}})),
        )
        .await;
    assert_eq!(bad_uri.status, StatusCode::BAD_REQUEST);

    let found = h
        .get("/v1.0/applications?$filter=displayName%20eq%20'MS%20Graph%20Batch%20App'")
        .await;
    assert_eq!(found.body["value"].as_array().unwrap().len(), 1);

    let sp = h.post("/v1.0/servicePrincipals", json!({"appId": app_id})).await;
    assert_eq!(sp.status, StatusCode::CREATED, "{:?}", sp.body);
    let sp_again = h.post("/v1.0/servicePrincipals", json!({"appId": app_id})).await;
    assert_eq!(sp_again.status, StatusCode::CONFLICT);
    let sp_id = sp.body["id"].as_str().unwrap();

    let grants_token = h
        .tenant
        .issue_token(seed::ADMIN_UPN, &["DelegatedPermissionGrant.ReadWrite.All"])
        .unwrap();
    let grant = h
        .call(
            Method::POST,
            "/v1.0/oauth2PermissionGrants",
            Some(&grants_token),
            Some(json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": seed::GRAPH_SP_ID, "scope": "Group.ReadWrite.All"})),
        )
        .await;
    assert_eq!(grant.status, StatusCode::CREATED, "{:?}", grant.body);
    let bogus = h
        .call(
            Method::POST,
            "/v1.0/oauth2PermissionGrants",
            Some(&grants_token),
            Some(json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": seed::GRAPH_SP_ID, "scope": "Nope.All"})),
        )
        .await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
    let list = h
        .call(
            Method::GET,
            &format!("/v1.0/oauth2PermissionGrants?$filter=clientId%20eq%20'{sp_id}'"),
            Some(&grants_token),
            None,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1, "{:?}", list.body);
}

#[tokio::test]
async fn bad_bodies_get_graph_shaped_4xx() {
    let h = Harness::start().await;
    let cases: Vec<(&str, Option<&str>, StatusCode)> = vec![
        ("{", Some("application/json"), StatusCode::BAD_REQUEST),
        ("[1,2]", Some("application/json"), StatusCode::BAD_REQUEST),
        ("", Some("application/json"), StatusCode::BAD_REQUEST),
        ("<xml/>", Some("application/xml"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ];
    for (body, ct, expected) in cases {
        let mut request = h
            .http
            .post(h.url("/v1.0/groups"))
            .bearer_auth(&h.token)
            .body(body.to_owned());
        if let Some(ct) = ct {
            request = request.header("content-type", ct);
        }
        let answer = crate::read(request.send().await.unwrap()).await;
        assert_eq!(answer.status, expected, "{body}: {:?}", answer.body);
        assert!(!answer.code().is_empty(), "{body}: {:?}", answer.body);
    }
    let huge = "x".repeat(5 * 1024 * 1024);
    let response = h
        .http
        .post(h.url("/v1.0/groups"))
        .bearer_auth(&h.token)
        .header("content-type", "application/json")
        .body(format!("{{\"displayName\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    let answer = crate::read(response).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "RequestEntityTooLarge");
}
