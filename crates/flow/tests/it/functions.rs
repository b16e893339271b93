//! Behaviours of single functions beyond the reference's examples: .NET
//! formats, time zones, edge cases, the platform's null and type rules.

use graphlab_flow::expr::{ErrorKind, Template};
use serde_json::{Value, json};

use crate::common::{TestScope, eval, eval_in};

fn ok(expr: &str) -> Value {
    eval(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn format_number_standard_and_custom_formats() {
    for (expr, expected) in [
        ("formatNumber(1234.5, 'N')", "1,234.50"),
        ("formatNumber(1234.5, 'N0')", "1,235"),
        ("formatNumber(-1234.5, 'N1')", "-1,234.5"),
        ("formatNumber(0.125, 'P1')", "12.5%"),
        ("formatNumber(42, 'D5')", "00042"),
        ("formatNumber(-42, 'D')", "-42"),
        ("formatNumber(255, 'X')", "FF"),
        ("formatNumber(255, 'x4')", "00ff"),
        ("formatNumber(1234.5678, 'F1')", "1234.6"),
        ("formatNumber(1234.5678, 'E2')", "1.23E+003"),
        ("formatNumber(1234.5678, 'e')", "1.234568e+003"),
        ("formatNumber(0.5, 'G')", "0.5"),
        ("formatNumber(1234.5, 'C', 'de-DE')", "1.234,50\u{a0}€"),
        ("formatNumber(1234.5, '00000.000')", "01234.500"),
        ("formatNumber(1234.5, '#.##')", "1234.5"),
        ("formatNumber(0.25, '0%')", "25%"),
        ("formatNumber(1234567, '#,##0,')", "1,235"),
        ("formatNumber(-3, '0;(0)')", "(3)"),
        ("formatNumber(0, '0;(0);zero')", "zero"),
        ("formatNumber(12345, '0.00E+00')", "1.23E+04"),
        ("formatNumber(5, '''n=''0')", "n=5"),
        ("formatNumber(1234.5, '#,##0.00', 'fr-FR')", "1\u{202f}234,50"),
    ] {
        assert_eq!(ok(expr), json!(expected), "{expr}");
    }
    assert_eq!(eval("formatNumber(1.5, 'D')").unwrap_err().kind(), ErrorKind::Evaluation);
    assert_eq!(
        eval("formatNumber(1, 'N', 'xx-XX')").unwrap_err().kind(),
        ErrorKind::Evaluation
    );
}

#[test]
fn date_formats_parsing_and_arithmetic() {
    for (expr, expected) in [
        (
            "formatDateTime('2018-03-15T13:27:36.1234567Z', 'o')",
            "2018-03-15T13:27:36.1234567Z",
        ),
        (
            "formatDateTime('2018-03-15T13:27:36Z', 'yyyy-MM-dd HH:mm:ss.fff tt')",
            "2018-03-15 13:27:36.000 PM",
        ),
        ("formatDateTime('2018-03-15T13:27:36Z', 'r')", "Thu, 15 Mar 2018 13:27:36 GMT"),
        ("formatDateTime('2018-03-15T13:27:36Z', 's')", "2018-03-15T13:27:36"),
        ("formatDateTime('2018-03-15T13:27:36Z', 'g')", "3/15/2018 1:27 PM"),
        ("formatDateTime('2018-03-15T13:27:36Z', 'M')", "March 15"),
        ("formatDateTime('2018-03-15T13:27:36.5Z', 'HH:mm:ss.FFF')", "13:27:36.5"),
        ("formatDateTime('2018-03-15T13:27:36Z', 'HH:mm:ss.FFF')", "13:27:36"),
        (
            "formatDateTime('2018-03-15T13:27:36Z', 'D', 'de-DE')",
            "Donnerstag, 15. März 2018",
        ),
        ("formatDateTime('2018-03-15T10:00:00+02:00')", "2018-03-15T08:00:00.0000000Z"),
        ("formatDateTime('March 15, 2018 3:05 PM', 'HH:mm')", "15:05"),
        ("addToTime('2018-01-31T00:00:00Z', 1, 'Month')", "2018-02-28T00:00:00.0000000Z"),
        ("addToTime('2020-02-29T00:00:00Z', 1, 'year')", "2021-02-28T00:00:00.0000000Z"),
        ("addToTime('2018-01-01T00:00:00Z', 2, 'Week')", "2018-01-15T00:00:00.0000000Z"),
        (
            "subtractFromTime('2018-03-01T00:00:00Z', 1, 'Month', 'yyyy-MM-dd')",
            "2018-02-01",
        ),
        (
            "dateDifference('2018-01-01T00:00:00Z', '2018-01-01T01:02:03.5Z')",
            "01:02:03.5000000",
        ),
        ("dateDifference('2018-01-02', '2018-01-01')", "-1.00:00:00"),
        // Daylight saving time: summer in Seattle and Paris.
        (
            "convertFromUtc('2018-07-01T08:00:00Z', 'Pacific Standard Time')",
            "2018-07-01T01:00:00.0000000",
        ),
        (
            "convertFromUtc('2018-07-01T08:00:00Z', 'Romance Standard Time')",
            "2018-07-01T10:00:00.0000000",
        ),
        (
            "convertToUtc('2018-07-01T10:00:00', 'W. Europe Standard Time')",
            "2018-07-01T08:00:00.0000000Z",
        ),
        (
            "convertTimeZone('2018-01-01T12:00:00', 'Tokyo Standard Time', 'India Standard Time')",
            "2018-01-01T08:30:00.0000000",
        ),
        (
            "convertFromUtc('2018-01-01T00:00:00Z', 'AUS Eastern Standard Time')",
            "2018-01-01T11:00:00.0000000",
        ),
        (
            "convertFromUtc('2018-01-01T00:00:00Z', 'pacificstandardtime')",
            "2017-12-31T16:00:00.0000000",
        ),
        ("parseDateTime('15/03/2018 13:30', 'fr-FR')", "2018-03-15T13:30:00.0000000"),
    ] {
        assert_eq!(ok(expr), json!(expected), "{expr}");
    }
    assert_eq!(ok("ticks('0001-01-01T00:00:00Z')"), json!(0));
    assert_eq!(ok("ticks('2018-03-15T13:27:36Z')"), json!(636_567_172_560_000_000_i64));
    assert_eq!(ok("dayOfWeek('2018-03-18')"), json!(0));
    for bad in [
        "addDays('2018-02-30', 1)",
        "formatDateTime('2018-03-15', 'fffffffff')",
        "ticks('soon')",
    ] {
        assert_eq!(eval(bad).unwrap_err().kind(), ErrorKind::Evaluation, "{bad}");
    }
}

#[test]
fn strings_follow_the_platform() {
    assert_eq!(ok("indexOf('Hello World', 'WORLD')"), json!(6));
    assert_eq!(ok("indexOf('abc', 'x')"), json!(-1));
    assert_eq!(ok("startsWith('Hello', 'hE')"), json!(true));
    assert_eq!(ok("contains('Hello', 'hE')"), json!(false));
    assert_eq!(ok("replace('aaa', 'a', 'bb')"), json!("bbbbbb"));
    assert_eq!(ok("split('a,,b', ',')"), json!(["a", "", "b"]));
    assert_eq!(ok("substring('hello', 2)"), json!("llo"));
    assert_eq!(ok("nthIndexOf('abcabc', 'b', -1)"), json!(4));
    assert_eq!(ok("string(true)"), json!("True"));
    assert_eq!(ok("string(1.0)"), json!("1"));
    assert_eq!(ok("string(0.1)"), json!("0.1"));
    assert_eq!(ok("string(1e21)"), json!("1E+21"));
    assert_eq!(ok("string(null)"), json!(""));
    assert_eq!(ok("string(createArray(1, 'a'))"), json!(r#"[1,"a"]"#));
    assert_eq!(ok("concat('a', 1, null, 2.5)"), json!("a12.5"));
    assert_eq!(ok("length('héllo')"), json!(5));
    for bad in ["toLower(null)", "length(null)", "split(1, ',')", "trim(json('[]'))"] {
        let e = eval(bad).unwrap_err();
        assert!(e.message().contains("The provided value is of type"), "{bad}: {e}");
    }
    let p = ok("guid('P')");
    let p = p.as_str().unwrap();
    assert!(p.len() == 38 && p.starts_with('(') && p.ends_with(')'), "{p}");
    assert_eq!(ok("length(guid('N'))"), json!(32));
    assert_ne!(ok("guid()"), ok("guid()"));
}

#[test]
fn numbers_stay_integers_or_floats() {
    assert_eq!(ok("add(1, 2)"), json!(3));
    assert!(ok("add(1, 2)").is_i64());
    assert!(ok("add(1.0, 2)").is_f64());
    assert_eq!(ok("div(-7, 2)"), json!(-3));
    assert_eq!(ok("mod(7.5, 2)"), json!(1.5));
    assert_eq!(ok("max(1, 2.5, 2)"), json!(2.5));
    assert_eq!(ok("min(createArray(3, -1.5))"), json!(-1.5));
    assert_eq!(ok("int('-42')"), json!(-42));
    assert_eq!(ok("float('1e3')"), json!(1000.0));
    assert_eq!(ok("isInt('4.5')"), json!(false));
    assert_eq!(ok("isFloat('abc')"), json!(false));
    for _ in 0..50 {
        let n = ok("rand(1, 5)").as_i64().unwrap();
        assert!((1..5).contains(&n), "{n}");
    }
    assert_eq!(ok("rand(3, 3)"), json!(3));
    assert_eq!(ok("range(-2, 3)"), json!([-2, -1, 0]));
    assert_eq!(ok("equals(1, 1.0)"), json!(true));
    assert_eq!(ok("equals(null, '')"), json!(true));
    assert_eq!(ok("equals(json('{\"a\": [1]}'), json('{\"a\": [1.0]}'))"), json!(true));
    assert_eq!(ok("less(null, 'a')"), json!(true));
}

#[test]
fn collections_and_objects() {
    assert_eq!(ok("union(createArray(1, 1, 2), createArray(2, 3))"), json!([1, 2, 3]));
    assert_eq!(
        ok("union(json('{\"a\": 1, \"b\": 2}'), json('{\"b\": 3}'))"),
        json!({"a": 1, "b": 3})
    );
    assert_eq!(
        ok("intersection(json('{\"a\": 1, \"b\": 2}'), json('{\"a\": 1, \"b\": 3}'))"),
        json!({"a": 1})
    );
    assert_eq!(ok("contains(json('{\"a\": 1}'), 'a')"), json!(true));
    assert_eq!(
        ok("contains(createArray(json('{\"a\": 1}')), json('{\"a\": 1}'))"),
        json!(true)
    );
    assert_eq!(ok("first(json('[]'))"), Value::Null);
    assert_eq!(ok("empty(null)"), json!(true));
    assert_eq!(ok("join(createArray(1, null, true), '-')"), json!("1--True"));
    assert_eq!(ok("sort(createArray('b', 'a', 'C'))"), json!(["C", "a", "b"]));
    assert_eq!(ok("take('abc', 10)"), json!("abc"));
    assert_eq!(ok("skip(createArray(1, 2), 5)"), json!([]));
    assert_eq!(ok("removeProperty(json('{\"a\": 1}'), 'b')"), json!({"a": 1}));
    assert_eq!(ok("coalesce(null, json('[]'))"), json!([]));
    assert_eq!(ok("json(null)"), json!({}));
    assert_eq!(ok("dataUriToString('data:,a%20b')"), json!("a b"));
    assert_eq!(ok("base64(json('{\"a\": 1}'))"), json!("eyJhIjoxfQ=="));
    assert_eq!(ok("uriComponent('a b&c/é')"), json!("a%20b%26c%2F%C3%A9"));
    assert_eq!(ok("uriPort('http://contoso.com/a')"), json!(80));
    assert_eq!(ok("uriHost('https://user@Contoso.com:99/x')"), json!("contoso.com"));
    assert_eq!(ok("uriPath('https://contoso.com')"), json!("/"));
    assert_eq!(eval("uriHost('not a uri')").unwrap_err().kind(), ErrorKind::Evaluation);
    assert_eq!(ok("base64ToString(base64ToBinary('aGk='))"), json!("hi"));
    // XML functions parse (definitions using them load) but do not run.
    let e = eval("xpath(xml('<a/>'), '/a')").unwrap_err();
    assert!(e.message().contains("not supported"), "{e}");
}

#[test]
fn workflow_functions_read_the_scope() {
    let scope = TestScope::default()
        .with_action("Get_items", json!({"value": [{"Title": "a"}]}))
        .with_variable("n", json!(2));
    assert_eq!(
        eval_in(&scope, "body('Get_items')?['value'][0]?['title']").unwrap(),
        json!("a")
    );
    // Power Automate's path keys.
    assert_eq!(
        eval_in(&scope, "outputs('Get_items')?['body/value']").unwrap(),
        json!([{"Title": "a"}])
    );
    assert_eq!(
        eval_in(&scope, "outputs('Get_items')?['body/nothing']").unwrap(),
        Value::Null
    );
    assert_eq!(
        eval_in(&scope, "actions('Get_items').status").unwrap(),
        json!("Succeeded")
    );
    assert_eq!(
        eval_in(&scope, "triggerOutputs()['headers']['content-type']").unwrap(),
        json!("application/json")
    );
    assert_eq!(eval_in(&scope, "trigger().name").unwrap(), json!("manual"));
    assert_eq!(eval_in(&scope, "workflow().name").unwrap(), json!("w"));
    let e = eval_in(&scope, "body('Nope')").unwrap_err();
    assert!(e.message().contains("'Nope'"), "{e}");
    // Evaluation errors inside a template point at the failing expression.
    let e = Template::parse("x=@{div(1, 0)} y").unwrap().evaluate(&scope).unwrap_err();
    assert_eq!((e.kind(), e.column()), (ErrorKind::Evaluation, Some(5)));
    let e =
        Template::parse("@variables('missing')").unwrap().evaluate(&scope).unwrap_err();
    assert_eq!(e.column(), Some(2));
}

mod fuzz {
    //! Every function, called with random arguments, answers a value or
    //! an evaluation error, never a panic.

    use graphlab_flow::expr::{Expr, evaluate, function_arity, function_names};
    use proptest::prelude::*;

    use crate::common::TestScope;

    fn literal() -> impl Strategy<Value = Expr> {
        let text = prop_oneof![
            ".{0,12}",
            r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?",
            r"[yMdHhmsfFtzK:/. '\\%-]{0,10}",
            r"(https?|data):[a-z0-9/.:?&=%;,+]{0,20}",
            r"[-+(]?[0-9,.]{0,8}[eE]?[-+)]?",
            Just("Pacific Standard Time".to_string()),
            Just("Day".to_string()),
            Just("fr-FR".to_string()),
        ];
        prop_oneof![
            Just(Expr::Null),
            any::<bool>().prop_map(Expr::Bool),
            prop_oneof![any::<i64>(), -100i64..100].prop_map(Expr::Int),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Expr::Float),
            text.prop_map(Expr::String),
            text_json().prop_map(|t| Expr::Call {
                name: "json".into(),
                args: vec![Expr::String(t)]
            }),
        ]
    }

    fn text_json() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("[]".to_string()),
            Just("{}".to_string()),
            Just(r#"[3, 1, "a", null]"#.to_string()),
            Just(r#"[{"k": 2}, {"k": 1}]"#.to_string()),
            Just(r#"{"a": 1, "$content": "aGk="}"#.to_string()),
            Just(r#"{"$multipart": [{"body": 1}]}"#.to_string()),
        ]
    }

    fn call() -> impl Strategy<Value = Expr> {
        let names: Vec<&'static str> = function_names().collect();
        (prop::sample::select(names), prop::collection::vec(literal(), 0..5)).prop_map(
            |(name, mut args)| {
                let (min, max) = function_arity(name).unwrap_or((0, Some(0)));
                while args.len() < min {
                    args.push(Expr::Int(1));
                }
                args.truncate(max.unwrap_or(usize::MAX));
                Expr::Call { name: name.to_string(), args }
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn functions_never_panic(expr in call()) {
            let _ = evaluate(&expr, &TestScope::default());
        }
    }
}

#[test]
fn json_reads_what_newtonsoft_reads() {
    assert_eq!(
        ok("json('{''a'': ''x'', b: [1, 2,], /* c */ \"d\": null}')"),
        json!({"a": "x", "b": [1, 2], "d": null})
    );
    assert_eq!(ok("json('[1, // one\n 2.5, -3, true]')"), json!([1, 2.5, -3, true]));
    for bad in ["json('{a: }')", "json('[1, 2')", "json('{\"a\" 1}')", "json('nope')"] {
        let e = eval(bad).unwrap_err();
        assert!(
            e.message().starts_with("The template language function 'json'"),
            "{bad}: {e}"
        );
    }
    let deep = format!("json('{}{}')", "[".repeat(1000), "]".repeat(1000));
    assert_eq!(eval(&deep).unwrap_err().kind(), ErrorKind::Evaluation);
}
