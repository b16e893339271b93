//! The function library: one table per family of the functions reference,
//! and the helpers every function uses to read its arguments and to word
//! its errors as the platform does.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::error::{ErrorKind, ExprError};
use super::scope::Scope;

mod collection;
mod conversion;
mod datefmt;
mod datetime;
mod lenient_json;
mod locale;
mod logical;
mod math;
mod number;
mod numfmt;
mod object;
mod string;
mod timezone;
mod uri;
mod workflow;

/// A function's implementation: reads its evaluated arguments from the call.
pub(crate) type Imp = fn(&mut Call<'_>) -> Result<Value, ExprError>;

/// One function of the language.
pub(crate) struct Function {
    /// The name as the reference spells it.
    pub name: &'static str,
    pub min: usize,
    pub max: Option<usize>,
    pub imp: Imp,
}

/// Shorthand for the tables: `f("add", 2, Some(2), add)`.
pub(crate) const fn f(
    name: &'static str,
    min: usize,
    max: Option<usize>,
    imp: Imp,
) -> Function {
    Function { name, min, max, imp }
}

const TABLES: &[&[Function]] = &[
    string::FUNCTIONS,
    collection::FUNCTIONS,
    logical::FUNCTIONS,
    conversion::FUNCTIONS,
    math::FUNCTIONS,
    datetime::FUNCTIONS,
    uri::FUNCTIONS,
    object::FUNCTIONS,
    workflow::FUNCTIONS,
];

/// Finds a function by name, without regard to case (as the platform does:
/// `@Concat(...)` and `@JSON(...)` work).
pub(crate) fn lookup(name: &str) -> Option<&'static Function> {
    TABLES.iter().flat_map(|t| t.iter()).find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Every supported function's name, as the reference spells it.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().flat_map(|t| t.iter()).map(|f| f.name)
}

/// The number of arguments a function takes, `(min, max)` (`None`: no
/// maximum), for every function this crate supports; `None` for a name the
/// language does not have. Names are matched without regard to case.
pub fn function_arity(name: &str) -> Option<(usize, Option<usize>)> {
    lookup(name).map(|f| (f.min, f.max))
}

fn count(n: usize) -> String {
    match n {
        1 => "one parameter".into(),
        2 => "two parameters".into(),
        3 => "three parameters".into(),
        4 => "four parameters".into(),
        n => format!("{n} parameters"),
    }
}

/// Checks that `name` is a function and takes `given` arguments.
pub(crate) fn check_call(
    name: &str,
    given: usize,
) -> Result<&'static Function, ExprError> {
    let Some(function) = lookup(name) else {
        return Err(ExprError::new(
            ErrorKind::UnknownFunction,
            format!(
                "The template language function '{name}' is not defined or not valid."
            ),
        ));
    };
    let expects = match (function.min, function.max) {
        (min, Some(max)) if min == max && (given != min) => {
            if min == 0 {
                Some("no parameters".to_string())
            } else {
                Some(format!("exactly {}", count(min)))
            }
        }
        (min, Some(max)) if given < min || given > max => {
            Some(format!("between {} and {}", min, count(max)))
        }
        (min, None) if given < min => Some(format!("at least {}", count(min))),
        _ => None,
    };
    match expects {
        Some(expects) => Err(ExprError::new(
            ErrorKind::Arity,
            format!(
                "The template language function '{}' expects {expects}, but was \
                 invoked with {given}.",
                function.name
            ),
        )),
        None => Ok(function),
    }
}

/// A function being evaluated: its name and evaluated arguments.
pub(crate) struct Call<'a> {
    pub name: &'static str,
    pub args: Vec<Value>,
    pub scope: &'a dyn Scope,
}

const ORDINALS: &[&str] =
    &["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"];

fn ordinal(i: usize) -> String {
    ORDINALS.get(i).map(|s| s.to_string()).unwrap_or_else(|| format!("{}th", i + 1))
}

impl Call<'_> {
    pub fn len(&self) -> usize {
        self.args.len()
    }

    pub fn arg(&self, i: usize) -> &Value {
        self.args.get(i).unwrap_or(&Value::Null)
    }

    pub fn has(&self, i: usize) -> bool {
        i < self.args.len()
    }

    pub fn take(&mut self, i: usize) -> Value {
        self.args.get_mut(i).map(std::mem::take).unwrap_or(Value::Null)
    }

    /// "The template language function 'x' <rest>".
    pub fn error(&self, rest: impl AsRef<str>) -> ExprError {
        ExprError::eval(format!(
            "The template language function '{}' {}",
            self.name,
            rest.as_ref()
        ))
    }

    /// The platform's type error for argument `i`.
    pub fn type_error(&self, i: usize, expected: &str) -> ExprError {
        let which = if self.args.len() == 1 {
            "its parameter".to_string()
        } else {
            format!("its {} parameter", ordinal(i))
        };
        self.error(format!(
            "expects {which} to be {expected}. The provided value is of type '{}'.",
            type_name(self.arg(i))
        ))
    }

    pub fn invalid(&self, i: usize, why: impl AsRef<str>) -> ExprError {
        self.error(format!(
            "was invoked with a parameter that is not valid: the {} parameter {}",
            ordinal(i),
            why.as_ref()
        ))
    }

    pub fn string(&self, i: usize) -> Result<&str, ExprError> {
        match self.arg(i) {
            Value::String(s) => Ok(s),
            _ => Err(self.type_error(i, "a string")),
        }
    }

    pub fn opt_string(&self, i: usize) -> Result<Option<&str>, ExprError> {
        if self.has(i) { self.string(i).map(Some) } else { Ok(None) }
    }

    pub fn int(&self, i: usize) -> Result<i64, ExprError> {
        as_int(self.arg(i)).ok_or_else(|| self.type_error(i, "an integer"))
    }

    pub fn num(&self, i: usize) -> Result<Num, ExprError> {
        Num::of(self.arg(i))
            .ok_or_else(|| self.type_error(i, "an integer or a decimal number"))
    }

    pub fn array(&self, i: usize) -> Result<&Vec<Value>, ExprError> {
        match self.arg(i) {
            Value::Array(a) => Ok(a),
            _ => Err(self.type_error(i, "an array")),
        }
    }

    pub fn object(&self, i: usize) -> Result<&Map<String, Value>, ExprError> {
        match self.arg(i) {
            Value::Object(o) => Ok(o),
            _ => Err(self.type_error(i, "an object")),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool, ExprError> {
        match self.arg(i) {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.type_error(i, "a boolean")),
        }
    }
}

/// The platform's name of a value's type, as its error messages say it.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// A number as the language keeps it: a 64-bit integer or a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Num::Int(i),
                None => Num::Float(n.as_f64()?),
            }),
            _ => None,
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    pub fn value(self) -> Result<Value, ExprError> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => float_value(f),
        }
    }
}

/// A float as a JSON value; NaN and infinities are errors (JSON has none).
pub(crate) fn float_value(f: f64) -> Result<Value, ExprError> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        ExprError::eval(
            "The result is not a finite number and cannot be represented in JSON.",
        )
    })
}

/// An integer value, also from a float with no fraction.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match Num::of(v)? {
        Num::Int(i) => Some(i),
        Num::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(f as i64),
        Num::Float(_) => None,
    }
}

/// Formats a double as .NET does (shortest round-trip text, `E+XX` for very
/// large or small magnitudes, no `.0` on whole numbers).
pub(crate) fn format_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let a = f.abs();
    if (1e-5..1e15).contains(&a) {
        let s = format!("{f}");
        s
    } else {
        // Rust's `{:e}` gives the shortest mantissa: `1e21`, `1.5e-7`.
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exp.abs())
    }
}

/// A value as text, as `string()` and interpolation render it: strings as
/// they are, null as empty, booleans as `True`/`False` (.NET), numbers in
/// .NET's invariant form, objects and arrays as compact JSON.
pub(crate) fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match Num::of(v) {
            Some(Num::Int(i)) => i.to_string(),
            Some(Num::Float(f)) => format_float(f),
            None => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Equality as `equals()` sees it: numbers by value (1 equals 1.0), null
/// equal to the empty string (the reference's note on logical functions),
/// arrays and objects item by item; no other conversion (`equals(1, true)`
/// is false).
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Number(_), Value::Number(_)) => match (Num::of(a), Num::of(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(x), Some(y)) => x.as_f64() == y.as_f64(),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Order of two values of the same kind (numbers, strings — ordinal —,
/// booleans; null counts as the empty string), `None` for other pairs.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (Num::of(a)?, Num::of(b)?) {
            (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
            (x, y) => x.as_f64().partial_cmp(&y.as_f64()),
        },
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        (Value::Null, Value::String(y)) => Some("".cmp(y.as_str())),
        (Value::String(x), Value::Null) => Some(x.as_str().cmp("")),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Looks a property up as the platform does: the exact name first, then
/// the name without regard to case.
pub(crate) fn get_property<'v>(
    object: &'v Map<String, Value>,
    name: &str,
) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| {
                k.eq_ignore_ascii_case(name) || k.to_lowercase() == name.to_lowercase()
            })
            .map(|(_, v)| v)
    })
}

/// A random `u128` (122 random bits) from the system's generator, through
/// a version-4 UUID.
pub(crate) fn random_u128() -> u128 {
    uuid::Uuid::new_v4().as_u128()
}
