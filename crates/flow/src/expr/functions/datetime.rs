//! Date and time functions.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Call, ExprError, Function, f};

pub(super) const FUNCTIONS: &[Function] = &[f("utcNow", 0, Some(1), utc_now)];

/// A UTC instant in the round-trip ("o") format with 7 fraction digits.
pub(crate) fn now_string(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

fn utc_now(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(now_string(c.scope.now())))
}
