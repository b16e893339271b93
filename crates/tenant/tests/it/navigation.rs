//! Navigation properties of the lab's objects that Graph serves: a group's
//! team (and its channels), a team's channel by id, a group's notebooks.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::Harness;

#[tokio::test]
async fn a_groups_team_is_read_through_the_group() {
    let h = Harness::start().await;
    let group = h.create_group("Navigators").await;

    let none = h.get(&format!("/v1.0/groups/{group}/team")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{:?}", none.body);
    assert_eq!(none.code(), "NotFound");

    let created = h.create_team(&group).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let team = h.get(&format!("/v1.0/groups/{group}/team")).await;
    assert_eq!(team.status, StatusCode::OK, "{:?}", team.body);
    assert_eq!(team.body["id"], group.as_str());
    let direct = h.get(&format!("/v1.0/teams/{group}")).await;
    assert_eq!(team.body["displayName"], direct.body["displayName"]);
    assert!(team.body["@odata.context"].as_str().unwrap().ends_with("#teams/$entity"));

    let selected =
        h.get(&format!("/v1.0/groups/{group}/team?$select=id,isArchived")).await;
    assert_eq!(selected.status, StatusCode::OK);
    assert!(selected.body.get("memberSettings").is_none());

    let channels = h.get(&format!("/v1.0/groups/{group}/team/channels")).await;
    assert_eq!(channels.status, StatusCode::OK, "{:?}", channels.body);
    let general = &channels.body["value"][0];
    assert_eq!(general["displayName"], "General");
    let id = general["id"].as_str().unwrap();
    let one = h.get(&format!("/v1.0/teams/{group}/channels/{id}")).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["displayName"], "General");
    let missing =
        h.get(&format!("/v1.0/teams/{group}/channels/19:nope@thread.tacv2")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Still not writable with PATCH (Graph's PATCH /groups/{id}/team is
    // not emulated): 405 in Graph's shape.
    let patch = h
        .call(
            Method::PATCH,
            &format!("/v1.0/groups/{group}/team"),
            Some(&h.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::METHOD_NOT_ALLOWED);

    let bad = h.get("/v1.0/groups/not-a-guid/team").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_groups_notebooks_are_listed() {
    let h = Harness::start().await;
    let token = h
        .tenant
        .issue_token(
            graphlab_tenant::seed::ADMIN_UPN,
            &["Group.ReadWrite.All", "Notes.ReadWrite.All"],
        )
        .unwrap();
    let group = h.create_group("Notetakers").await;
    let path = format!("/v1.0/groups/{group}/onenote/notebooks");
    let created = h
        .call(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"displayName": "Lab notes"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let list = h.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(list.body["value"][0]["displayName"], "Lab notes");
    assert!(list.body["value"][0].get("_groupId").is_none());
    let refused = h.get(&path).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
