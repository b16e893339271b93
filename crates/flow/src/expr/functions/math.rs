//! Math functions. Integers stay 64-bit integers, as on the platform:
//! `add(1, 2)` is `3`, `add(1.5, 2)` is `3.5`, `div(11, 5)` is `2`.

use serde_json::Value;

use super::{Call, ExprError, Function, Num, f, random_u128};

pub(super) const FUNCTIONS: &[Function] = &[
    f("add", 2, Some(2), add),
    f("sub", 2, Some(2), sub),
    f("mul", 2, Some(2), mul),
    f("div", 2, Some(2), div),
    f("mod", 2, Some(2), mod_),
    f("max", 1, None, max),
    f("min", 1, None, min),
    f("range", 2, Some(2), range),
    f("rand", 2, Some(2), rand),
];

fn overflow(c: &Call) -> ExprError {
    c.error("cannot be evaluated: the result overflows a 64-bit integer.")
}

fn arith(
    c: &Call,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Result<Value, ExprError> {
    match (c.num(0)?, c.num(1)?) {
        (Num::Int(a), Num::Int(b)) => {
            int(a, b).map(Value::from).ok_or_else(|| overflow(c))
        }
        (a, b) => Num::Float(float(a.as_f64(), b.as_f64())).value(),
    }
}

fn add(c: &mut Call) -> Result<Value, ExprError> {
    arith(c, i64::checked_add, |a, b| a + b)
}

fn sub(c: &mut Call) -> Result<Value, ExprError> {
    arith(c, i64::checked_sub, |a, b| a - b)
}

fn mul(c: &mut Call) -> Result<Value, ExprError> {
    arith(c, i64::checked_mul, |a, b| a * b)
}

fn zero_divisor(c: &Call) -> Result<(), ExprError> {
    if c.num(1)?.as_f64() == 0.0 {
        return Err(c.error("cannot be evaluated: attempted to divide by zero."));
    }
    Ok(())
}

fn div(c: &mut Call) -> Result<Value, ExprError> {
    zero_divisor(c)?;
    arith(c, i64::checked_div, |a, b| a / b)
}

fn mod_(c: &mut Call) -> Result<Value, ExprError> {
    zero_divisor(c)?;
    // The remainder takes the dividend's sign, as in .NET.
    arith(c, |a, b| Some(a.checked_rem(b).unwrap_or(0)), |a, b| a % b)
}

/// The numbers of `max`/`min`: the arguments, or one array's items.
fn numbers(c: &Call) -> Result<Vec<Num>, ExprError> {
    let values: Vec<&Value> = match c.arg(0) {
        Value::Array(items) if c.len() == 1 => items.iter().collect(),
        _ => c.args.iter().collect(),
    };
    if values.is_empty() {
        return Err(c.error("expects a non-empty array or at least one number."));
    }
    values
        .into_iter()
        .map(|v| {
            Num::of(v).ok_or_else(|| {
                c.error(format!(
                    "expects integers or decimal numbers. The provided value is of type '{}'.",
                    super::type_name(v)
                ))
            })
        })
        .collect()
}

fn pick(c: &Call, want_greater: bool) -> Result<Value, ExprError> {
    let nums = numbers(c)?;
    let mut best = nums[0];
    for n in &nums[1..] {
        let greater = match (best, *n) {
            (Num::Int(a), Num::Int(b)) => b > a,
            (a, b) => b.as_f64() > a.as_f64(),
        };
        let less = match (best, *n) {
            (Num::Int(a), Num::Int(b)) => b < a,
            (a, b) => b.as_f64() < a.as_f64(),
        };
        if (want_greater && greater) || (!want_greater && less) {
            best = *n;
        }
    }
    best.value()
}

fn max(c: &mut Call) -> Result<Value, ExprError> {
    pick(c, true)
}

fn min(c: &mut Call) -> Result<Value, ExprError> {
    pick(c, false)
}

fn range(c: &mut Call) -> Result<Value, ExprError> {
    let start = c.int(0)?;
    let count = c.int(1)?;
    if !(0..=100_000).contains(&count) {
        return Err(c.invalid(1, "must be an integer from 0 to 100000."));
    }
    if start.checked_add(count).is_none_or(|end| end > i64::from(i32::MAX)) {
        return Err(c.error(
            "was invoked with parameters that are not valid: the sum of the start index \
             and the count must not exceed 2147483647.",
        ));
    }
    Ok(Value::Array((start..start + count).map(Value::from).collect()))
}

fn rand(c: &mut Call) -> Result<Value, ExprError> {
    let lo = c.int(0)?;
    let hi = c.int(1)?;
    if lo > hi {
        return Err(c.error(
            "was invoked with parameters that are not valid: the minimum value must be \
             less than or equal to the maximum value.",
        ));
    }
    if lo == hi {
        return Ok(Value::from(lo));
    }
    let span = (i128::from(hi) - i128::from(lo)) as u128;
    let offset = random_u128() % span;
    Ok(Value::from((i128::from(lo) + offset as i128) as i64))
}
