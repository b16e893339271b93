//! Parsing and printing: errors with their columns, depth limits, and
//! properties over random trees and random text.

use graphlab_flow::expr::{
    CompiledValue, ErrorKind, Expr, MAX_DEPTH, Reference, Template, function_arity,
    parse_expression, references,
};
use proptest::prelude::*;
use serde_json::json;

use crate::common::{TestScope, eval};

fn parse_error(text: &str) -> (ErrorKind, Option<usize>) {
    let e = parse_expression(text).expect_err(text);
    (e.kind(), e.column())
}

#[test]
fn malformed_expressions_give_parse_errors_at_the_right_column() {
    // Unterminated string: the column of its opening quote.
    assert_eq!(parse_error("concat('abc"), (ErrorKind::Parse, Some(8)));
    // Missing parenthesis: the end of the text.
    assert_eq!(parse_error("concat('a', 'b'"), (ErrorKind::Parse, Some(16)));
    // Trailing garbage.
    assert_eq!(parse_error("add(1, 2) x"), (ErrorKind::Parse, Some(11)));
    assert_eq!(parse_error("add(1, 2))"), (ErrorKind::Parse, Some(10)));
    // Bad numbers.
    assert_eq!(parse_error("add(1x, 2)"), (ErrorKind::Parse, Some(6)));
    assert_eq!(parse_error("add(1.2.3, 2)"), (ErrorKind::Parse, Some(8)));
    assert_eq!(parse_error("add(1e, 2)"), (ErrorKind::Parse, Some(5)));
    assert_eq!(parse_error("add(99999999999999999999, 2)"), (ErrorKind::Parse, Some(5)));
    assert_eq!(parse_error("add(-, 2)"), (ErrorKind::Parse, Some(5)));
    // Double quotes, empty text, a lone `?`, a dot without a name.
    assert_eq!(parse_error("length(\"Hello\")"), (ErrorKind::Parse, Some(8)));
    assert_eq!(parse_error(""), (ErrorKind::Parse, Some(1)));
    assert_eq!(parse_error("body('a')?"), (ErrorKind::Parse, Some(11)));
    assert_eq!(parse_error("body('a').1"), (ErrorKind::Parse, Some(11)));
    assert_eq!(parse_error("body('a')['x'"), (ErrorKind::Parse, Some(14)));
    // A name without a call.
    assert_eq!(parse_error("concat"), (ErrorKind::Parse, Some(7)));
}

#[test]
fn unknown_functions_and_wrong_arity_are_caught_when_parsing() {
    assert_eq!(parse_error("add(1, foo(2))"), (ErrorKind::UnknownFunction, Some(8)));
    assert_eq!(parse_error("add(1)"), (ErrorKind::Arity, Some(1)));
    assert_eq!(
        parse_error("concat('a', substring('abc'))"),
        (ErrorKind::Arity, Some(13))
    );
    assert_eq!(parse_error("utcNow('o', 'x')"), (ErrorKind::Arity, Some(1)));
    let e = parse_expression("add(1, 2, 3)").unwrap_err();
    assert!(
        e.message().contains("'add'") && e.message().contains("two parameters"),
        "{e}"
    );
    assert_eq!(function_arity("ADD"), Some((2, Some(2))));
    assert_eq!(function_arity("concat"), Some((1, None)));
    assert_eq!(function_arity("nope"), None);
}

#[test]
fn template_columns_count_from_the_string_values_start() {
    let e = Template::parse("@add(1, foo())").unwrap_err();
    assert_eq!((e.kind(), e.column()), (ErrorKind::UnknownFunction, Some(9)));
    let e = Template::parse("x=@{add(1, 'a}").unwrap_err();
    assert_eq!((e.kind(), e.column()), (ErrorKind::Parse, Some(3)));
    let e = Template::parse("é=@{add(1,)}").unwrap_err();
    assert_eq!((e.kind(), e.column()), (ErrorKind::Parse, Some(11)));
    assert_eq!(e.to_string(), format!("column 11: {}", e.message()));
}

#[test]
fn compiled_values_name_the_json_path() {
    let value = json!({"body": {"requests": [{"url": "/users/@{add(1,"}]}, "n": 1});
    let e = CompiledValue::compile(&value).unwrap_err();
    assert_eq!(e.path(), Some("$.body.requests[0].url"));
    assert_eq!(e.column(), Some(8));
    assert!(e.to_string().starts_with("$.body.requests[0].url: column 8: "), "{e}");

    let value = json!({"a": ["@div(1, 0)"], "b": "plain", "odd key": "@variables('v')"});
    let compiled = CompiledValue::compile(&value).unwrap();
    assert!(!compiled.is_literal());
    let e = compiled.evaluate(&TestScope::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Evaluation);
    assert_eq!(e.path(), Some("$.a[0]"));
    assert_eq!(compiled.references(), vec![Reference::Variable("v".into())]);
    let scope = TestScope::default().with_variable("v", json!([1]));
    let compiled =
        CompiledValue::compile(&json!({"x": "@variables('v')", "y": 2})).unwrap();
    assert_eq!(compiled.evaluate(&scope).unwrap(), json!({"x": [1], "y": 2}));
    assert!(
        CompiledValue::compile(&json!({"a": [1, "x", {"b": null}]}))
            .unwrap()
            .is_literal()
    );
}

#[test]
fn deep_json_is_an_error_not_an_overflow() {
    let mut value = json!("@add(1, 2)");
    for _ in 0..10_000 {
        value = serde_json::Value::Array(vec![value]);
    }
    let e = CompiledValue::compile(&value).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooDeep);
    assert!(e.path().is_some_and(|p| p.starts_with("$[0][0]")));
    // serde_json's own drop of the value recurses; leak it (test only).
    std::mem::forget(value);
}

#[test]
fn ten_thousand_levels_are_too_deep_not_a_crash() {
    let calls = format!("{}1{}", "string(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(parse_error(&calls).0, ErrorKind::TooDeep);
    let brackets = format!("body('a'){}", "[body('a')".repeat(10_000));
    assert_eq!(parse_error(&brackets).0, ErrorKind::TooDeep);
    let chain = format!("body('a'){}", ".x".repeat(10_000));
    let (kind, column) = parse_error(&chain);
    assert_eq!(kind, ErrorKind::TooDeep);
    assert_eq!(column, Some(10 + 2 * MAX_DEPTH));
    let e = Template::parse(&format!("a @{{{calls}}}")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooDeep);
}

#[test]
fn the_deepest_accepted_tree_parses_prints_and_evaluates() {
    let depth = MAX_DEPTH;
    let text = format!("{}'x'{}", "string(".repeat(depth), ")".repeat(depth));
    let expr = parse_expression(&text).unwrap();
    assert_eq!(expr.to_string(), text);
    assert_eq!(eval(&text).unwrap(), json!("x"));
    let too_deep = format!("{}'x'{}", "string(".repeat(depth + 1), ")".repeat(depth + 1));
    assert_eq!(parse_error(&too_deep).0, ErrorKind::TooDeep);
    let chain = format!("triggerBody(){}", "?.x".repeat(depth));
    assert_eq!(eval(&chain).unwrap(), serde_json::Value::Null);
    assert_eq!(parse_expression(&chain).unwrap().to_string(), chain);
}

#[test]
fn references_name_what_expressions_read() {
    let expr = parse_expression(
        "concat(body('A')?['x'], outputs('B'), actions('C'), variables('v'), parameters('p'), \
         item(), items('L'), iterationIndexes('U'), result('S'), triggerBody(), \
         Body('A'), body(variables('dyn')))",
    )
    .unwrap();
    assert_eq!(
        references(&expr),
        vec![
            Reference::Action { function: "body".into(), name: "A".into() },
            Reference::Action { function: "outputs".into(), name: "B".into() },
            Reference::Action { function: "actions".into(), name: "C".into() },
            Reference::Variable("v".into()),
            Reference::Parameter("p".into()),
            Reference::Item,
            Reference::Items("L".into()),
            Reference::IterationIndexes("U".into()),
            Reference::Result("S".into()),
            Reference::Trigger,
            Reference::Unnamed("body".into()),
            Reference::Variable("dyn".into()),
        ]
    );
}

#[test]
fn names_are_case_insensitive_literals_and_properties_as_the_platform() {
    assert_eq!(eval("ADD(1, 2)").unwrap(), json!(3));
    assert_eq!(eval("Concat('a', TRUE, Null)").unwrap(), json!("aTrue"));
    assert_eq!(eval("json('{\"Ab\": 1, \"ab\": 2}').ab").unwrap(), json!(2));
    assert_eq!(eval("json('{\"Ab\": 1}').aB").unwrap(), json!(1));
    assert_eq!(eval("createArray(1, 2)[1]").unwrap(), json!(2));
    assert_eq!(eval("createArray(1, 2)?[5]").unwrap(), serde_json::Value::Null);
    let e = eval("createArray(1, 2)[5]").unwrap_err();
    assert!(e.message().contains("outside bounds (0, 1)"), "{e}");
    assert_eq!(eval("add(.5, +1)").unwrap(), json!(1.5));
    assert_eq!(eval("sub(1e3, 1)").unwrap(), json!(999.0));
    assert_eq!(eval("'it''s'").unwrap(), json!("it's"));
}

#[test]
fn evaluation_errors_use_the_platforms_words() {
    let e = eval("add(1, 'a')").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Evaluation);
    assert_eq!(
        e.message(),
        "The template language function 'add' expects its second parameter to be an \
         integer or a decimal number. The provided value is of type 'String'."
    );
    for bad in [
        "div(1, 0)",
        "mod(1, 0)",
        "div(1.5, 0.0)",
        "add(9223372036854775807, 1)",
        "mul(9223372036854775807, 2)",
        "substring('abc', 2, 5)",
        "int('x')",
        "json('{')",
        "first(null)",
        "range(0, -1)",
        "chunk('abc', 0)",
        "triggerBody().nope",
        "variables('missing')",
        "body('Missing')",
        "listCallbackUrl()",
        "item()",
        "addProperty(json('{\"a\": 1}'), 'a', 2)",
        "if(1, 2, 3)",
        "and(1, true)",
        "greater(1, 'a')",
        "formatDateTime('not a date')",
        "convertFromUtc('2018-01-01', 'Mars Time')",
        "addToTime('2018-01-01', 1, 'Fortnight')",
        "base64ToString('***')",
        "sort(createArray(1, 'a'))",
        "div(-9223372036854775808, -1)",
        "mod(-9223372036854775808, -1)",
        "utcNow('%')",
    ] {
        match eval(bad) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Evaluation, "{bad}: {e}"),
            Ok(v) if bad.starts_with("mod(-9223372036854775808") => {
                assert_eq!(v, json!(0))
            }
            Ok(v) => panic!("{bad} gave {v}"),
        }
    }
    // Only the branch taken runs.
    assert_eq!(eval("if(true, 1, div(1, 0))").unwrap(), json!(1));
}

/// Random expression trees within the depth limit.
fn expr_tree() -> impl Strategy<Value = Expr> {
    let name = "[a-zA-Z_][a-zA-Z0-9_$-]{0,8}";
    let leaf = prop_oneof![
        Just(Expr::Null),
        any::<bool>().prop_map(Expr::Bool),
        any::<i64>().prop_map(Expr::Int),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Expr::Float),
        ".{0,12}".prop_map(Expr::String),
        Just(Expr::Call { name: "utcNow".into(), args: vec![] }),
    ];
    leaf.prop_recursive(8, 64, 4, move |inner| {
        let call =
            |name: &'static str, min: usize, max: usize, inner: BoxedStrategy<Expr>| {
                prop::collection::vec(inner, min..=max)
                    .prop_map(move |args| Expr::Call { name: name.into(), args })
            };
        prop_oneof![
            call("concat", 1, 4, inner.clone().boxed()),
            call("createArray", 1, 3, inner.clone().boxed()),
            call("if", 3, 3, inner.clone().boxed()),
            call("coalesce", 1, 3, inner.clone().boxed()),
            (call("body", 1, 1, inner.clone().boxed()), name, any::<bool>()).prop_map(
                |(target, name, null_safe)| Expr::Property {
                    target: Box::new(target),
                    name,
                    null_safe,
                }
            ),
            (call("json", 1, 1, inner.clone().boxed()), inner, any::<bool>()).prop_map(
                |(target, index, null_safe)| Expr::Index {
                    target: Box::new(target),
                    index: Box::new(index),
                    null_safe,
                }
            ),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_the_same_tree(expr in expr_tree()) {
        let printed = expr.to_string();
        let parsed = parse_expression(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(&parsed, &expr);
        prop_assert_eq!(parsed.to_string(), printed);
    }

    #[test]
    fn parsing_any_text_never_panics(text in ".{0,64}") {
        let _ = parse_expression(&text);
        let _ = Template::parse(&text);
    }

    #[test]
    fn parsing_expression_like_text_never_panics(
        text in r"[a-z(),'\[\]?.@{} 0-9eE+\-]{0,48}"
    ) {
        if let Ok(expr) = parse_expression(&text) {
            let printed = expr.to_string();
            prop_assert_eq!(parse_expression(&printed).ok(), Some(expr));
        }
        if let Ok(t) = Template::parse(&text) {
            let _ = t.evaluate(&TestScope::default());
        }
    }
}

#[test]
fn every_function_of_the_reference_is_known() {
    // The reference's alphabetical list (2025-10-06).
    let reference = "action actions add addDays addHours addMinutes addProperty addSeconds \
        addToTime and array base64 base64ToBinary base64ToString binary body bool chunk \
        coalesce concat contains convertFromUtc convertTimeZone convertToUtc createArray \
        dataUri dataUriToBinary dataUriToString dateDifference dayOfMonth dayOfWeek dayOfYear \
        decimal decodeBase64 decodeDataUri decodeUriComponent div encodeUriComponent empty \
        endsWith equals first float formatDateTime formDataMultiValues formDataValue \
        formatNumber getFutureTime getPastTime greater greaterOrEquals guid if indexOf int \
        isFloat isInt item items iterationIndexes json intersection join last lastIndexOf \
        length less lessOrEquals listCallbackUrl max min mod mul multipartBody not nthIndexOf \
        or outputs parameters parseDateTime rand range removeProperty replace result reverse \
        setProperty skip slice sort split startOfDay startOfHour startOfMonth startsWith \
        string sub substring subtractFromTime take ticks toLower toUpper trigger triggerBody \
        triggerFormDataMultiValues triggerFormDataValue triggerMultipartBody triggerOutputs \
        trim union uriComponent uriComponentToBinary uriComponentToString uriHost uriPath \
        uriPathAndQuery uriPort uriQuery uriScheme utcNow variables workflow xml xpath";
    let missing: Vec<&str> =
        reference.split_whitespace().filter(|f| function_arity(f).is_none()).collect();
    assert!(missing.is_empty(), "not supported: {missing:?}");
    assert_eq!(
        graphlab_flow::expr::function_names().count(),
        reference.split_whitespace().count()
    );
}

#[test]
fn trees_built_by_hand_are_bounded_too() {
    let mut expr = Expr::String("x".into());
    for _ in 0..1_000 {
        expr = Expr::Call { name: "string".into(), args: vec![expr] };
    }
    let e = graphlab_flow::expr::evaluate(&expr, &TestScope::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooDeep);
}
