//! String values: literals, whole expressions, interpolations, escapes.

use graphlab_flow::expr::{ErrorKind, Template};
use serde_json::{Value, json};

use crate::common::{TestScope, eval};

fn render(text: &str) -> Value {
    let scope = TestScope::default()
        .with_parameter("myAge", json!(42))
        .with_parameter("myBirthMonth", json!("January"))
        .with_variable("obj", json!({"a": [1, 2], "b": null}))
        .with_variable("nothing", Value::Null);
    Template::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .evaluate(&scope)
        .unwrap()
}

#[test]
fn whole_expressions_keep_their_type() {
    assert_eq!(render("@add(1, 2)"), json!(3));
    assert_eq!(render("@add(1.5, 2)"), json!(3.5));
    assert_eq!(render("@parameters('myAge')"), json!(42));
    assert_eq!(render("@variables('obj')"), json!({"a": [1, 2], "b": null}));
}

#[test]
fn interpolation_is_always_a_string() {
    assert_eq!(render("n=@{add(1,2)}"), json!("n=3"));
    assert_eq!(render("@{parameters('myAge')}"), json!("42"));
    assert_eq!(render("My age is @{parameters('myAge')}"), json!("My age is 42"));
    assert_eq!(render("o=@{variables('obj')}"), json!(r#"o={"a":[1,2],"b":null}"#));
    assert_eq!(render("[@{variables('nothing')}]"), json!("[]"));
    assert_eq!(render("@{true}/@{1.5}/@{createArray('a')}"), json!(r#"True/1.5/["a"]"#));
    assert_eq!(render("a @{'}'} b"), json!("a } b"));
}

#[test]
fn literals_and_escapes() {
    assert_eq!(render("plain"), json!("plain"));
    assert_eq!(render("@@x"), json!("@x"));
    assert_eq!(render("@@"), json!("@"));
    assert_eq!(render(" @"), json!(" @"));
    assert_eq!(render("a@b.com"), json!("a@b.com"));
    assert_eq!(
        render("My age is @@{parameters('myAge')}"),
        json!("My age is @{parameters('myAge')}")
    );
    assert!(Template::parse("plain").unwrap().is_literal());
    assert_eq!(Template::parse("@@x").unwrap().as_literal(), Some("@x"));
    assert!(Template::parse("@x()").is_err());
    let t = Template::parse("@add(1, 2)").unwrap();
    assert_eq!(t.as_expression().map(|e| e.to_string()), Some("add(1, 2)".to_string()));
    assert_eq!(t.expressions().len(), 1);
    assert!(Template::parse("a @{add(1, 2)}").unwrap().as_expression().is_none());
    assert!(!Template::parse("x @{1}").unwrap().is_literal());
}

#[test]
fn display_prints_the_source() {
    for text in ["plain", "@add(1,  2)", "a @{x()} b", "@@x"] {
        if let Ok(t) = Template::parse(text) {
            assert_eq!(t.to_string(), text);
        }
    }
}

#[test]
fn unclosed_interpolation_is_a_parse_error_at_its_column() {
    let e = Template::parse("abc @{add(1, 2)").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert_eq!(e.column(), Some(5));
    let e = Template::parse("ab @{add(1, }").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert_eq!(e.column(), Some(13));
}

#[test]
fn basic_evaluation() {
    assert_eq!(eval("triggerBody()?['name']").unwrap(), json!("Sophia"));
    assert_eq!(eval("triggerBody()?['NAME']").unwrap(), json!("Sophia"));
    assert_eq!(eval("triggerBody()?['missing']").unwrap(), Value::Null);
    assert_eq!(eval("triggerBody()?.missing?.deeper").unwrap(), Value::Null);
    assert!(eval("triggerBody().missing").is_err());
    assert_eq!(eval("utcNow()").unwrap(), json!("2018-03-01T00:00:00.0000000Z"));
}
