//! The functions reference's own examples, each with the result the docs
//! give: MicrosoftDocs/azure-docs,
//! `articles/logic-apps/expression-functions-reference.md` (2025-10-06),
//! and the expression examples of
//! `articles/logic-apps/logic-apps-workflow-definition-language.md`.
//!
//! Each row is `(section, expression, expected JSON)`. Where the docs'
//! result is wrong, locale-dependent or not reproducible (binary results,
//! .NET decimals), the row says so in a comment and expects what the
//! platform does.

use graphlab_flow::expr::Template;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::TestScope;
use crate::reference_examples::CASES;

/// Examples that depend on the current time, each with the docs' "now".
const NOW_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "getFutureTime",
        "2018-03-01T00:00:00Z",
        "getFutureTime(5, 'Day')",
        r#""2018-03-06T00:00:00.0000000Z""#,
    ),
    (
        "getFutureTime",
        "2018-03-01T00:00:00Z",
        "getFutureTime(5, 'Day', 'D')",
        r#""Tuesday, March 6, 2018""#,
    ),
    (
        "getPastTime",
        "2018-02-01T00:00:00Z",
        "getPastTime(5, 'Day')",
        r#""2018-01-27T00:00:00.0000000Z""#,
    ),
    (
        "getPastTime",
        "2018-02-01T00:00:00Z",
        "getPastTime(5, 'Day', 'D')",
        r#""Saturday, January 27, 2018""#,
    ),
    (
        "utcNow",
        "2025-09-25T05:18:31.3384797Z",
        "utcNow()",
        r#""2025-09-25T05:18:31.3384797Z""#,
    ),
    (
        "utcNow",
        "2025-09-25T05:18:31.3384797Z",
        "utcNow('u')",
        r#""2025-09-25 05:18:31Z""#,
    ),
    (
        "utcNow",
        "2025-09-25T05:18:31.3384797Z",
        "utcNow('U')",
        r#""Thursday, September 25, 2025 5:18:31 AM""#,
    ),
    ("utcNow", "2025-09-25T05:18:31.3384797Z", "utcNow('d')", r#""9/25/2025""#),
    (
        "utcNow",
        "2025-09-25T05:18:31.3384797Z",
        "utcNow('D')",
        r#""Thursday, September 25, 2025""#,
    ),
    ("utcNow", "2025-09-25T05:18:31.3384797Z", "utcNow('t')", r#""5:18 AM""#),
    ("utcNow", "2025-09-25T05:18:31.3384797Z", "utcNow('T')", r#""5:18:31 AM""#),
    ("utcNow", "2025-09-25T05:18:31.3384797Z", "utcNow('y')", r#""September 2025""#),
    ("utcNow", "2025-09-25T05:18:31.3384797Z", "utcNow('yyyy')", r#""2025""#),
    (
        "utcNow",
        "2025-09-25T05:18:31.3384797Z",
        "utcNow('ddd, d MMM yyyy')",
        r#""Thu, 25 Sep 2025""#,
    ),
    (
        "utcNow (2018)",
        "2018-04-15T13:00:00Z",
        "utcNow()",
        r#""2018-04-15T13:00:00.0000000Z""#,
    ),
    (
        "utcNow (2018)",
        "2018-04-15T13:00:00Z",
        "utcNow('D')",
        r#""Sunday, April 15, 2018""#,
    ),
];

/// The workflow definition language page's table of string values, with
/// `myBirthMonth` = "January" and `myAge` = 42.
const TEMPLATE_CASES: &[(&str, &str)] = &[
    ("Sophia Owen", r#""Sophia Owen""#),
    ("array[1]", r#""array[1]""#),
    ("@@", r#""@""#),
    (" @", r#"" @""#),
    ("@parameters('myBirthMonth')", r#""January""#),
    ("@{parameters('myBirthMonth')}", r#""January""#),
    ("@parameters('myAge')", "42"),
    ("@{parameters('myAge')}", r#""42""#),
    ("My age is @{parameters('myAge')}", r#""My age is 42""#),
    ("@concat('My age is ', string(parameters('myAge')))", r#""My age is 42""#),
    ("My age is @@{parameters('myAge')}", r#""My age is @{parameters('myAge')}""#),
    (
        "First name: @{parameters('firstName')} Last name: @{parameters('lastName')}",
        r#""First name: Sophia Last name: Owen""#,
    ),
    ("Azure @{concat('firstName','', 'LastName')}", r#""Azure firstNameLastName""#),
    // Operators
    ("@parameters('customer').name", r#""Sophia Owen""#),
    ("@coalesce(trigger().outputs?.body?.someProperty, 'default')", r#""default""#),
    (
        "@parameters('$connections')['twitter']['connectionId']",
        r#""/connections/twitter""#,
    ),
    // The reference: implicit conversions, iterationIndexes, result,
    // workflow.
    ("@{triggerBody()?['123']}", r#""123""#),
    (
        "'Current index: ' @{iterationIndexes('Until_Max_Increment')}",
        r#""'Current index: ' 3""#,
    ),
    ("@equals(variables('myCounter'), 5)", "true"),
    ("@result('For_each')", r#"[{"name": "HTTP", "outputs": []}]"#),
    ("@triggerBody()?['items']", "[1, 2]"),
    (
        "<a href=https://flow.microsoft.com/manage/environments/@{workflow()['tags']['environmentName']}/flows/@{workflow()['name']}/details>Open flow @{workflow()['tags']['flowDisplayName']}</a>",
        r#""<a href=https://flow.microsoft.com/manage/environments/Default/flows/w/details>Open flow My flow</a>""#,
    ),
];

fn scope() -> TestScope {
    let user = json!({
        "FullName": "Contoso Corporation", "Location": "Generic Town, USA", "Id": 283541717,
        "UserName": "ContosoInc", "FollowersCount": 172,
        "Description": "Leading the way in transforming the digital workplace.",
        "StatusesCount": 93, "FriendsCount": 126, "FavouritesCount": 46,
        "ProfileImageUrl": "https://pbs.twimg.com/profile_images/908820389907722240/gG9zaHcd_400x400.jpg",
        "status": "Succeeded"
    });
    let mut s = TestScope::default()
        .with_action("Get_user", user)
        .with_action(
            "Send_an_email",
            json!({"$formdata": [{"key": "Subject", "value": "Hello world"}]}),
        )
        .with_parameter("customerName", json!("Sophia Owen"))
        .with_parameter("firstName", json!("Sophia"))
        .with_parameter("lastName", json!("Owen"))
        .with_parameter("fullName", json!("Sophia Owen"))
        .with_parameter("myBirthMonth", json!("January"))
        .with_parameter("myAge", json!(42))
        .with_parameter("customer", json!({"name": "Sophia Owen"}))
        .with_parameter(
            "$connections",
            json!({"twitter": {"connectionId": "/connections/twitter"}}),
        )
        .with_variable("numItems", json!(20))
        .with_variable("myCounter", json!(5));
    s.trigger = Some(json!({"name": "manual", "outputs": {"headers": {}, "body": {
        "$formdata": [{"key": "feedUrl", "value": "https://feeds.a.dj.com/rss/RSSMarketsMain.xml"}],
        "123": 123, "items": [1, 2]}}}));
    s.current = Some(json!({"name": "Until", "outputs": {"body": {"status": "Done"}}}));
    s.item = Some(json!({"body": "Hi"}));
    s.loops.insert("myForEachLoopName".into(), (json!({"body": "Hi"}), 0));
    s.loops.insert("Until_Max_Increment".into(), (Value::Null, 3));
    s.results.insert("For_each".into(), json!([{"name": "HTTP", "outputs": []}]));
    s.workflow_tags =
        Some(json!({"flowDisplayName": "My flow", "environmentName": "Default"}));
    s
}

fn check(
    scope: &TestScope,
    section: &str,
    text: &str,
    expected: &str,
) -> Result<(), String> {
    let expected: Value = serde_json::from_str(expected)
        .map_err(|e| format!("[{section}] bad expected JSON: {e}"))?;
    let got = Template::parse(text)
        .and_then(|t| t.evaluate(scope))
        .map_err(|e| format!("[{section}] {text}: error: {e}"))?;
    if got != expected {
        return Err(format!("[{section}] {text}: got {got}, expected {expected}"));
    }
    Ok(())
}

#[test]
fn the_reference_examples_give_the_documented_results() {
    let scope = scope();
    let mut failures = Vec::new();
    let mut count = 0;
    for (section, expr, expected) in CASES {
        count += 1;
        if let Err(e) = check(&scope, section, &format!("@{expr}"), expected) {
            failures.push(e);
        }
    }
    for (section, now, expr, expected) in NOW_CASES {
        count += 1;
        let mut scope = scope.clone();
        scope.now = time::OffsetDateTime::parse(
            now,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or(datetime!(2000-01-01 00:00 UTC));
        if let Err(e) = check(&scope, section, &format!("@{expr}"), expected) {
            failures.push(e);
        }
    }
    for (text, expected) in TEMPLATE_CASES {
        count += 1;
        if let Err(e) = check(&scope, "expressions", text, expected) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 250, "only {count} examples");
}
