//! A small table of Windows time zone ids (the names `convertTimeZone`,
//! `convertFromUtc` and `convertToUtc` take) with their base offsets and
//! daylight saving rules as they stand today. Historical rule changes are
//! not modelled. Ids match without regard to case and punctuation
//! (the reference: "you might have to remove any punctuation").

use time::{Date, Duration, Month, PrimitiveDateTime, Time};

/// When daylight saving time applies.
#[derive(Debug, Clone, Copy)]
enum Dst {
    None,
    /// United States and Canada: second Sunday of March 02:00 local to first
    /// Sunday of November 02:00 local.
    Us,
    /// European Union: last Sunday of March 01:00 UTC to last Sunday of
    /// October 01:00 UTC.
    Eu,
    /// Southern Australia: first Sunday of October 02:00 standard time to
    /// first Sunday of April 03:00 daylight time.
    Au,
    /// New Zealand: last Sunday of September 02:00 to first Sunday of April
    /// 03:00 daylight time.
    Nz,
}

/// `(id, base offset in minutes, rule)`.
const ZONES: &[(&str, i32, Dst)] = &[
    ("UTC", 0, Dst::None),
    ("Coordinated Universal Time", 0, Dst::None),
    ("Greenwich Standard Time", 0, Dst::None),
    ("GMT Standard Time", 0, Dst::Eu),
    ("W. Europe Standard Time", 60, Dst::Eu),
    ("Romance Standard Time", 60, Dst::Eu),
    ("Central Europe Standard Time", 60, Dst::Eu),
    ("Central European Standard Time", 60, Dst::Eu),
    ("W. Central Africa Standard Time", 60, Dst::None),
    ("GTB Standard Time", 120, Dst::Eu),
    ("E. Europe Standard Time", 120, Dst::Eu),
    ("FLE Standard Time", 120, Dst::Eu),
    ("South Africa Standard Time", 120, Dst::None),
    ("Russian Standard Time", 180, Dst::None),
    ("Turkey Standard Time", 180, Dst::None),
    ("Arab Standard Time", 180, Dst::None),
    ("Arabian Standard Time", 240, Dst::None),
    ("Pakistan Standard Time", 300, Dst::None),
    ("India Standard Time", 330, Dst::None),
    ("SE Asia Standard Time", 420, Dst::None),
    ("China Standard Time", 480, Dst::None),
    ("Singapore Standard Time", 480, Dst::None),
    ("W. Australia Standard Time", 480, Dst::None),
    ("Tokyo Standard Time", 540, Dst::None),
    ("Korea Standard Time", 540, Dst::None),
    ("AUS Central Standard Time", 570, Dst::None),
    ("Cen. Australia Standard Time", 570, Dst::Au),
    ("E. Australia Standard Time", 600, Dst::None),
    ("AUS Eastern Standard Time", 600, Dst::Au),
    ("New Zealand Standard Time", 720, Dst::Nz),
    ("Hawaiian Standard Time", -600, Dst::None),
    ("Alaskan Standard Time", -540, Dst::Us),
    ("Pacific Standard Time", -480, Dst::Us),
    ("US Mountain Standard Time", -420, Dst::None),
    ("Mountain Standard Time", -420, Dst::Us),
    ("Central Standard Time", -360, Dst::Us),
    ("Central America Standard Time", -360, Dst::None),
    ("Eastern Standard Time", -300, Dst::Us),
    ("SA Pacific Standard Time", -300, Dst::None),
    ("Atlantic Standard Time", -240, Dst::Us),
    ("SA Western Standard Time", -240, Dst::None),
    ("E. South America Standard Time", -180, Dst::None),
    ("Argentina Standard Time", -180, Dst::None),
];

fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A known zone, by Windows id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Zone {
    base: i32,
    dst: Dst,
}

/// The zone with this Windows id, or `None` when this table lacks it.
pub(crate) fn zone(id: &str) -> Option<Zone> {
    let key = squash(id);
    ZONES
        .iter()
        .find(|(name, _, _)| squash(name) == key)
        .map(|&(_, base, dst)| Zone { base, dst })
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 - first.weekday().number_days_from_sunday()) % 7;
    first.checked_add(Duration::days(i64::from(offset) + 7 * i64::from(n - 1)))
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let next = if month == Month::December {
        Date::from_calendar_date(year + 1, Month::January, 1).ok()?
    } else {
        Date::from_calendar_date(year, month.next(), 1).ok()?
    };
    let last = next.previous_day()?;
    let back = last.weekday().number_days_from_sunday();
    last.checked_sub(Duration::days(i64::from(back)))
}

fn at(date: Option<Date>, hour: u8) -> Option<PrimitiveDateTime> {
    Some(PrimitiveDateTime::new(date?, Time::from_hms(hour, 0, 0).ok()?))
}

impl Zone {
    /// The zone's offset from UTC, in minutes, at the UTC instant `utc`.
    pub fn offset_at_utc(self, utc: PrimitiveDateTime) -> i32 {
        let y = utc.year();
        let base = Duration::minutes(i64::from(self.base));
        // Transition instants in UTC.
        let window = match self.dst {
            Dst::None => None,
            Dst::Us => at(nth_sunday(y, Month::March, 2), 2)
                .zip(at(nth_sunday(y, Month::November, 1), 2))
                .map(|(s, e)| (s - base, e - base - Duration::hours(1))),
            Dst::Eu => at(last_sunday(y, Month::March), 1)
                .zip(at(last_sunday(y, Month::October), 1)),
            Dst::Au => at(nth_sunday(y, Month::April, 1), 3)
                .zip(at(nth_sunday(y, Month::October, 1), 2))
                .map(|(e, s)| (s - base, e - base - Duration::hours(1))),
            Dst::Nz => at(nth_sunday(y, Month::April, 1), 3)
                .zip(at(last_sunday(y, Month::September), 2))
                .map(|(e, s)| (s - base, e - base - Duration::hours(1))),
        };
        let in_dst = match (self.dst, window) {
            (_, None) => false,
            (Dst::Au | Dst::Nz, Some((start, end))) => utc >= start || utc < end,
            (_, Some((start, end))) => utc >= start && utc < end,
        };
        self.base + if in_dst { 60 } else { 0 }
    }

    /// The offset for a local time in the zone (the standard offset first,
    /// as .NET resolves ambiguous times).
    pub fn offset_at_local(self, local: PrimitiveDateTime) -> i32 {
        let guess = local - Duration::minutes(i64::from(self.base));
        let o = self.offset_at_utc(guess);
        let utc = local - Duration::minutes(i64::from(o));
        self.offset_at_utc(utc)
    }
}

/// The ids of the table, for error messages.
pub(crate) fn known_ids() -> String {
    ZONES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join("', '")
}
