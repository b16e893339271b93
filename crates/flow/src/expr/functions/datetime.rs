//! Date and time functions. Timestamps are read as .NET's `DateTime.Parse`
//! reads them (see [`super::datefmt`]) and written in the round-trip "o"
//! format unless a format is given; `utcNow()` and the functions that
//! start from now read [`Scope::now`](crate::expr::Scope::now).

use serde_json::Value;
use time::{Date, Duration, Month, PrimitiveDateTime, Time, UtcOffset};

use super::datefmt::{self, Kind, Stamp};
use super::locale::{Culture, culture};
use super::timezone::{self, Zone};
use super::{Call, ExprError, Function, f};

pub(super) const FUNCTIONS: &[Function] = &[
    f("utcNow", 0, Some(1), utc_now),
    f("addDays", 2, Some(3), add_days),
    f("addHours", 2, Some(3), add_hours),
    f("addMinutes", 2, Some(3), add_minutes),
    f("addSeconds", 2, Some(3), add_seconds),
    f("addToTime", 3, Some(4), add_to_time),
    f("subtractFromTime", 3, Some(4), subtract_from_time),
    f("getFutureTime", 2, Some(3), get_future_time),
    f("getPastTime", 2, Some(3), get_past_time),
    f("convertFromUtc", 2, Some(3), convert_from_utc),
    f("convertTimeZone", 3, Some(4), convert_time_zone),
    f("convertToUtc", 2, Some(3), convert_to_utc),
    f("dayOfMonth", 1, Some(1), day_of_month),
    f("dayOfWeek", 1, Some(1), day_of_week),
    f("dayOfYear", 1, Some(1), day_of_year),
    f("formatDateTime", 1, Some(3), format_date_time),
    f("parseDateTime", 1, Some(3), parse_date_time),
    f("startOfDay", 1, Some(2), start_of_day),
    f("startOfHour", 1, Some(2), start_of_hour),
    f("startOfMonth", 1, Some(2), start_of_month),
    f("ticks", 1, Some(1), ticks),
    f("dateDifference", 2, Some(2), date_difference),
];

fn en() -> &'static Culture {
    super::locale::en_us()
}

/// The timestamp in argument `i`.
fn stamp(c: &Call, i: usize) -> Result<Stamp, ExprError> {
    let s = c.string(i)?;
    datefmt::parse(s, en()).ok_or_else(|| {
        c.error(format!(
            "was invoked with a parameter that is not valid. The provided value '{s}' is not \
             a valid timestamp (the {} parameter).",
            ["first", "second", "third"].get(i).unwrap_or(&"")
        ))
    })
}

fn from_now(c: &Call) -> Stamp {
    let now = c.scope.now().to_offset(UtcOffset::UTC);
    Stamp { dt: PrimitiveDateTime::new(now.date(), now.time()), kind: Kind::Utc }
}

/// Writes a timestamp with the optional format argument `i` (default "o").
fn output(c: &Call, st: Stamp, i: usize) -> Result<Value, ExprError> {
    let format = c.opt_string(i)?.unwrap_or("o");
    write(c, st, format, en(), i)
}

fn write(
    c: &Call,
    st: Stamp,
    format: &str,
    culture: &Culture,
    i: usize,
) -> Result<Value, ExprError> {
    datefmt::format(st, format, culture).map(Value::String).ok_or_else(|| {
        c.invalid(i, format!("'{format}' is not a valid date and time format string."))
    })
}

fn out_of_range(c: &Call) -> ExprError {
    c.error("cannot be evaluated: the resulting timestamp is out of range.")
}

fn shift(c: &Call, st: Stamp, d: Duration) -> Result<Stamp, ExprError> {
    st.dt
        .checked_add(d)
        .map(|dt| Stamp { dt, kind: st.kind })
        .ok_or_else(|| out_of_range(c))
}

fn add_unit(c: &mut Call, unit: fn(i64) -> Duration) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let n = c.int(1)?;
    let st = shift(c, st, unit(n))?;
    output(c, st, 2)
}

fn add_days(c: &mut Call) -> Result<Value, ExprError> {
    add_unit(c, |n| Duration::days(n.clamp(-4_000_000, 4_000_000)))
}

fn add_hours(c: &mut Call) -> Result<Value, ExprError> {
    add_unit(c, |n| Duration::hours(n.clamp(-100_000_000, 100_000_000)))
}

fn add_minutes(c: &mut Call) -> Result<Value, ExprError> {
    add_unit(c, |n| Duration::minutes(n.clamp(-10_000_000_000, 10_000_000_000)))
}

fn add_seconds(c: &mut Call) -> Result<Value, ExprError> {
    add_unit(c, |n| Duration::seconds(n.clamp(-1_000_000_000_000, 1_000_000_000_000)))
}

/// Adds months as .NET's `AddMonths`: the day is clamped to the month's end.
fn add_months(c: &Call, st: Stamp, months: i64) -> Result<Stamp, ExprError> {
    let total =
        i64::from(st.dt.year()) * 12 + i64::from(u8::from(st.dt.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).map_err(|_| out_of_range(c))?;
    let month =
        Month::try_from((total.rem_euclid(12) + 1) as u8).map_err(|_| out_of_range(c))?;
    let day = st.dt.day().min(time::util::days_in_month(month, year));
    let date = Date::from_calendar_date(year, month, day).map_err(|_| out_of_range(c))?;
    Ok(Stamp { dt: PrimitiveDateTime::new(date, st.dt.time()), kind: st.kind })
}

/// Adds `n` of `unit` (`Second` ... `Year`, without regard to case).
fn add_interval(
    c: &Call,
    st: Stamp,
    n: i64,
    unit_arg: usize,
) -> Result<Stamp, ExprError> {
    let unit = c.string(unit_arg)?;
    let clamp = |limit: i64| n.clamp(-limit, limit);
    match unit.to_ascii_lowercase().as_str() {
        "second" | "seconds" => shift(c, st, Duration::seconds(clamp(1_000_000_000_000))),
        "minute" | "minutes" => shift(c, st, Duration::minutes(clamp(10_000_000_000))),
        "hour" | "hours" => shift(c, st, Duration::hours(clamp(100_000_000))),
        "day" | "days" => shift(c, st, Duration::days(clamp(4_000_000))),
        "week" | "weeks" => shift(c, st, Duration::weeks(clamp(600_000))),
        "month" | "months" => add_months(c, st, clamp(200_000)),
        "year" | "years" => add_months(c, st, clamp(20_000) * 12),
        _ => Err(c.invalid(
            unit_arg,
            format!(
                "'{unit}' is not a time unit: use 'Second', 'Minute', 'Hour', 'Day', \
                 'Week', 'Month' or 'Year'."
            ),
        )),
    }
}

fn add_to_time(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let st = add_interval(c, st, c.int(1)?, 2)?;
    output(c, st, 3)
}

fn subtract_from_time(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let st = add_interval(c, st, c.int(1)?.saturating_neg(), 2)?;
    output(c, st, 3)
}

fn get_future_time(c: &mut Call) -> Result<Value, ExprError> {
    let st = add_interval(c, from_now(c), c.int(0)?, 1)?;
    output(c, st, 2)
}

fn get_past_time(c: &mut Call) -> Result<Value, ExprError> {
    let st = add_interval(c, from_now(c), c.int(0)?.saturating_neg(), 1)?;
    output(c, st, 2)
}

fn utc_now(c: &mut Call) -> Result<Value, ExprError> {
    output(c, from_now(c), 0)
}

fn zone(c: &Call, i: usize) -> Result<Zone, ExprError> {
    let id = c.string(i)?;
    timezone::zone(id).ok_or_else(|| {
        c.invalid(
            i,
            format!(
                "'{id}' is not a time zone this runtime knows. Known Windows time zone \
                 ids: '{}'.",
                timezone::known_ids()
            ),
        )
    })
}

fn to_zone(
    c: &Call,
    utc: PrimitiveDateTime,
    z: Zone,
) -> Result<PrimitiveDateTime, ExprError> {
    utc.checked_add(Duration::minutes(i64::from(z.offset_at_utc(utc))))
        .ok_or_else(|| out_of_range(c))
}

fn from_zone(
    c: &Call,
    local: PrimitiveDateTime,
    z: Zone,
) -> Result<PrimitiveDateTime, ExprError> {
    local
        .checked_sub(Duration::minutes(i64::from(z.offset_at_local(local))))
        .ok_or_else(|| out_of_range(c))
}

fn is_utc_id(id: &str) -> bool {
    let s: String = id.chars().filter(|c| c.is_alphanumeric()).collect();
    s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("CoordinatedUniversalTime")
}

fn convert_from_utc(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let z = zone(c, 1)?;
    let dt = to_zone(c, st.dt, z)?;
    output(c, Stamp { dt, kind: Kind::Unspecified }, 2)
}

fn convert_to_utc(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let z = zone(c, 1)?;
    let dt = if st.kind == Kind::Utc { st.dt } else { from_zone(c, st.dt, z)? };
    output(c, Stamp { dt, kind: Kind::Utc }, 2)
}

fn convert_time_zone(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let source = zone(c, 1)?;
    let dest = zone(c, 2)?;
    let utc = if st.kind == Kind::Utc { st.dt } else { from_zone(c, st.dt, source)? };
    let dt = to_zone(c, utc, dest)?;
    let kind = if is_utc_id(c.string(2)?) { Kind::Utc } else { Kind::Unspecified };
    output(c, Stamp { dt, kind }, 3)
}

fn day_of_month(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::from(stamp(c, 0)?.dt.day()))
}

fn day_of_week(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::from(stamp(c, 0)?.dt.weekday().number_days_from_sunday()))
}

fn day_of_year(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::from(stamp(c, 0)?.dt.ordinal()))
}

fn culture_arg(c: &Call, i: usize) -> Result<&'static Culture, ExprError> {
    let name = c.opt_string(i)?;
    culture(name).ok_or_else(|| {
        c.invalid(
            i,
            format!(
                "'{}' is not a locale this runtime knows (en, fr, es, de, it, pt, nl, is).",
                name.unwrap_or("")
            ),
        )
    })
}

fn format_date_time(c: &mut Call) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let culture = culture_arg(c, 2)?;
    let format = c.opt_string(1)?.unwrap_or("o");
    write(c, st, format, culture, 1)
}

fn parse_date_time(c: &mut Call) -> Result<Value, ExprError> {
    let s = c.string(0)?;
    let culture = culture_arg(c, 1)?;
    let st = match c.opt_string(2)? {
        Some(format) => datefmt::parse_exact(s, format, culture),
        None => datefmt::parse(s, culture),
    };
    let st = st.ok_or_else(|| {
        c.error(format!(
            "was invoked with a parameter that is not valid. The provided value '{s}' \
             cannot be parsed as a timestamp."
        ))
    })?;
    write(c, st, "o", en(), 0)
}

fn start_of(
    c: &mut Call,
    f: fn(PrimitiveDateTime) -> Option<PrimitiveDateTime>,
) -> Result<Value, ExprError> {
    let st = stamp(c, 0)?;
    let dt = f(st.dt).ok_or_else(|| out_of_range(c))?;
    output(c, Stamp { dt, kind: st.kind }, 1)
}

fn start_of_day(c: &mut Call) -> Result<Value, ExprError> {
    start_of(c, |dt| Some(PrimitiveDateTime::new(dt.date(), Time::MIDNIGHT)))
}

fn start_of_hour(c: &mut Call) -> Result<Value, ExprError> {
    start_of(c, |dt| {
        Some(PrimitiveDateTime::new(dt.date(), Time::from_hms(dt.hour(), 0, 0).ok()?))
    })
}

fn start_of_month(c: &mut Call) -> Result<Value, ExprError> {
    start_of(c, |dt| {
        Some(PrimitiveDateTime::new(dt.date().replace_day(1).ok()?, Time::MIDNIGHT))
    })
}

/// 100-nanosecond intervals since 0001-01-01T00:00:00.
fn ticks_of(dt: PrimitiveDateTime) -> i64 {
    const JULIAN_DAY_OF_0001_01_01: i64 = 1_721_426;
    let days = i64::from(dt.date().to_julian_day()) - JULIAN_DAY_OF_0001_01_01;
    let t = dt.time();
    let secs =
        i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second());
    days * 864_000_000_000 + secs * 10_000_000 + i64::from(t.nanosecond() / 100)
}

fn ticks(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::from(ticks_of(stamp(c, 0)?.dt)))
}

/// `end - start` as .NET's `TimeSpan.ToString()`: `[-][d.]hh:mm:ss[.fffffff]`.
fn date_difference(c: &mut Call) -> Result<Value, ExprError> {
    let start = ticks_of(stamp(c, 0)?.dt);
    let end = ticks_of(stamp(c, 1)?.dt);
    let diff = end - start;
    let sign = if diff < 0 { "-" } else { "" };
    let t = diff.unsigned_abs();
    let frac = t % 10_000_000;
    let secs = t / 10_000_000;
    let (days, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    Ok(Value::String(out))
}
