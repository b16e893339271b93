//! Timestamps as .NET's `DateTime` reads and writes them: the round-trip
//! ("o") form, the standard format specifiers (`d`, `D`, `u`, ...) and
//! custom patterns (`yyyy-MM-dd HH:mm`), and the lenient parsing of
//! `DateTime.Parse` for the timestamps the reference's examples use.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::locale::Culture;

/// What a timestamp says of its zone, as .NET's `DateTimeKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Z`: the "o" format ends with `Z`.
    Utc,
    /// No zone: the "o" format has no suffix.
    Unspecified,
}

/// A .NET `DateTime`: a date and time (100 ns precision) and its kind.
/// Timestamps with an offset are converted to UTC when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub dt: PrimitiveDateTime,
    pub kind: Kind,
}

fn month(n: u32) -> Option<Month> {
    Month::try_from(u8::try_from(n).ok()?).ok()
}

fn make(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    nanos: u32,
) -> Option<PrimitiveDateTime> {
    let date = Date::from_calendar_date(y, month(mo)?, u8::try_from(d).ok()?).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
        nanos,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// Reads fraction digits as nanoseconds (beyond 9 digits ignored).
fn fraction(digits: &str) -> u32 {
    let mut n: u32 = 0;
    for (i, c) in digits.chars().take(9).enumerate() {
        n += c.to_digit(10).unwrap_or(0) * 10u32.pow(8 - i as u32);
    }
    n
}

/// A tokenizer for free-form timestamps.
#[derive(Debug, PartialEq)]
enum Part {
    Num(String),
    Word(String),
    Sep(char),
}

fn parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push(Part::Num(n));
        } else if c.is_alphabetic() {
            let mut w = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic() || **d == '.')
            {
                w.push(d);
                chars.next();
            }
            out.push(Part::Word(w));
        } else {
            out.push(Part::Sep(c));
            chars.next();
        }
    }
    out
}

/// Parses an ISO 8601 timestamp: `yyyy-MM-dd`, then optionally `T` (or a
/// space), `HH:mm[:ss[.fffffff]]` and `Z` or `±HH:mm`.
fn parse_iso(s: &str) -> Option<Stamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.len() == 10 {
        return Some(Stamp {
            dt: make(y as i32, mo, d, 0, 0, 0, 0)?,
            kind: Kind::Unspecified,
        });
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    if b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut sec = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        sec = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            nanos = fraction(&s[start..i]);
        }
    }
    let dt = make(y as i32, mo, d, h, mi, sec, nanos)?;
    let rest = &s[i..];
    match rest {
        "" => Some(Stamp { dt, kind: Kind::Unspecified }),
        "Z" | "z" => Some(Stamp { dt, kind: Kind::Utc }),
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let o = rest[1..].replace(':', "");
            if o.len() != 4 && o.len() != 2 {
                return None;
            }
            let oh: i32 = o.get(0..2)?.parse().ok()?;
            let om: i32 = if o.len() == 4 { o.get(2..4)?.parse().ok()? } else { 0 };
            let offset =
                UtcOffset::from_whole_seconds(sign * (oh * 3600 + om * 60)).ok()?;
            let utc = dt.assume_offset(offset).to_offset(UtcOffset::UTC);
            Some(Stamp {
                dt: PrimitiveDateTime::new(utc.date(), utc.time()),
                kind: Kind::Utc,
            })
        }
    }
}

/// Parses a timestamp as `DateTime.Parse` does for a culture: ISO 8601,
/// numeric dates in the culture's order (`03/15/2018` in en-US,
/// `20/10/2014` in fr-FR) and dates with month names (`20 octobre 2010`,
/// `martes 20 octubre 2020`, `January 31, 2016`), with an optional time
/// (`12:00:00`, `3:05 PM`) and zone (`Z`, `GMT`, `+02:00`).
pub(crate) fn parse(s: &str, culture: &Culture) -> Option<Stamp> {
    let s = s.trim();
    if let Some(st) = parse_iso(s) {
        return Some(st);
    }
    let ps = parts(s);
    let mut nums: Vec<(u32, usize)> = Vec::new(); // (value, digits) of the date
    let mut month_name: Option<u32> = None;
    let mut time: Vec<u32> = Vec::new();
    let mut nanos = 0;
    let mut pm: Option<bool> = None;
    let mut kind = Kind::Unspecified;
    let mut offset: Option<i32> = None;
    let mut i = 0;
    while i < ps.len() {
        match &ps[i] {
            Part::Num(n) => {
                let v: u32 = n.parse().ok()?;
                if ps.get(i + 1) == Some(&Part::Sep(':'))
                    || (!time.is_empty()
                        && time.len() < 3
                        && matches!(ps.get(i.wrapping_sub(1)), Some(Part::Sep(':'))))
                {
                    time.push(v);
                } else if time.len() == 3
                    && matches!(ps.get(i.wrapping_sub(1)), Some(Part::Sep('.')))
                {
                    nanos = fraction(n);
                } else if matches!(ps.get(i.wrapping_sub(1)), Some(Part::Sep('+' | '-')))
                    && !time.is_empty()
                {
                    let sign =
                        if ps.get(i - 1) == Some(&Part::Sep('-')) { -1 } else { 1 };
                    let (oh, om) = if n.len() == 4 {
                        (v / 100, v % 100)
                    } else if ps.get(i + 1) == Some(&Part::Sep(':')) {
                        let m: u32 = match ps.get(i + 2) {
                            Some(Part::Num(m)) => m.parse().ok()?,
                            _ => return None,
                        };
                        i += 2;
                        (v, m)
                    } else {
                        (v, 0)
                    };
                    offset = Some(sign * (oh as i32 * 3600 + om as i32 * 60));
                } else {
                    nums.push((v, n.len()));
                }
            }
            Part::Word(w) => {
                let lw = w.to_lowercase();
                let lw = lw.trim_end_matches('.');
                if lw == "am" || lw == culture.am.to_lowercase().trim_end_matches('.') {
                    pm = Some(false);
                } else if lw == "pm"
                    || lw == culture.pm.to_lowercase().trim_end_matches('.')
                {
                    pm = Some(true);
                } else if lw == "z" || lw == "gmt" || lw == "utc" {
                    kind = Kind::Utc;
                } else if lw == "t" || lw == "de" || lw == "of" {
                } else if let Some(m) =
                    find_name(lw, &culture.months, &culture.short_months)
                {
                    month_name = Some(m + 1);
                } else if find_name(lw, &culture.days, &culture.short_days).is_none() {
                    return None;
                }
            }
            Part::Sep(_) => {}
        }
        i += 1;
    }
    let (y, mo, d) = match (month_name, nums.as_slice()) {
        (Some(m), [(a, _), (b, bl)]) if *bl >= 3 || *b > 31 => (*b, m, *a),
        (Some(m), [(a, al), (b, _)]) if *al >= 3 => (*a, m, *b),
        (Some(m), [(a, _), (b, _)]) => (*b, m, *a),
        (None, [(a, al), (b, _), (c, _)]) if *al >= 3 => (*a, *b, *c),
        (None, [(a, _), (b, _), (c, _)]) if culture.day_first => (*c, *b, *a),
        (None, [(a, _), (b, _), (c, _)]) => (*c, *a, *b),
        _ => return None,
    };
    let y = if y < 100 { if y < 50 { 2000 + y } else { 1900 + y } } else { y };
    let (mut h, mi, sec) = match time.as_slice() {
        [] => (0, 0, 0),
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        Some(_) if h > 12 => return None,
        _ => {}
    }
    let dt = make(y as i32, mo, d, h, mi, sec, nanos)?;
    match offset {
        Some(secs) => {
            let o = UtcOffset::from_whole_seconds(secs).ok()?;
            let utc = dt.assume_offset(o).to_offset(UtcOffset::UTC);
            Some(Stamp {
                dt: PrimitiveDateTime::new(utc.date(), utc.time()),
                kind: Kind::Utc,
            })
        }
        None => Some(Stamp { dt, kind }),
    }
}

fn find_name(word: &str, long: &[&str], short: &[&str]) -> Option<u32> {
    let norm = |s: &str| s.to_lowercase().trim_end_matches('.').to_string();
    long.iter()
        .position(|n| norm(n) == word)
        .or_else(|| short.iter().position(|n| norm(n) == word))
        .map(|p| p as u32)
}

/// Expands a standard format specifier (one character) to its pattern.
fn standard(spec: char, c: &Culture) -> Option<String> {
    Some(match spec {
        'd' => c.short_date.into(),
        'D' => c.long_date.into(),
        'f' => format!("{} {}", c.long_date, c.short_time),
        'F' | 'U' => format!("{} {}", c.long_date, c.long_time),
        'g' => format!("{} {}", c.short_date, c.short_time),
        'G' => format!("{} {}", c.short_date, c.long_time),
        'm' | 'M' => c.month_day.into(),
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK".into(),
        'r' | 'R' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'".into(),
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss".into(),
        't' => c.short_time.into(),
        'T' => c.long_time.into(),
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'".into(),
        'y' | 'Y' => c.year_month.into(),
        _ => return None,
    })
}

/// Formats a timestamp with a .NET format string (standard specifier or
/// custom pattern) in a culture; `None` when the format is not valid.
/// `r`, `R`, `o` and `O` use the invariant culture's names, as .NET does.
pub(crate) fn format(st: Stamp, fmt: &str, culture: &Culture) -> Option<String> {
    let invariant = super::locale::en_us();
    let mut chars = fmt.chars();
    let pattern = match (chars.next(), chars.next()) {
        (None, _) => standard('o', culture)?,
        (Some(c), None) => {
            let p = standard(c, culture)?;
            if matches!(c, 'r' | 'R' | 'o' | 'O' | 's' | 'u') {
                return custom(st, &p, invariant);
            }
            p
        }
        _ => fmt.to_string(),
    };
    custom(st, &pattern, culture)
}

fn custom(st: Stamp, pattern: &str, c: &Culture) -> Option<String> {
    let dt = st.dt;
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let mut n = 1;
        while chars.get(i + n) == Some(&ch) {
            n += 1;
        }
        match ch {
            'y' => {
                let y = dt.year();
                match n {
                    1 => out.push_str(&(y % 100).to_string()),
                    2 => out.push_str(&format!("{:02}", y % 100)),
                    _ => out.push_str(&format!("{:0n$}", y)),
                }
            }
            'M' => {
                let m = u8::from(dt.month()) as usize;
                match n {
                    1 => out.push_str(&m.to_string()),
                    2 => out.push_str(&format!("{m:02}")),
                    3 => out.push_str(c.short_months[m - 1]),
                    _ => out.push_str(c.months[m - 1]),
                }
            }
            'd' => {
                let wd = dt.weekday().number_days_from_sunday() as usize;
                match n {
                    1 => out.push_str(&dt.day().to_string()),
                    2 => out.push_str(&format!("{:02}", dt.day())),
                    3 => out.push_str(c.short_days[wd]),
                    _ => out.push_str(c.days[wd]),
                }
            }
            'h' => {
                let h = match dt.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                out.push_str(&if n == 1 { h.to_string() } else { format!("{h:02}") });
            }
            'H' => out.push_str(&if n == 1 {
                dt.hour().to_string()
            } else {
                format!("{:02}", dt.hour())
            }),
            'm' => out.push_str(&if n == 1 {
                dt.minute().to_string()
            } else {
                format!("{:02}", dt.minute())
            }),
            's' => out.push_str(&if n == 1 {
                dt.second().to_string()
            } else {
                format!("{:02}", dt.second())
            }),
            'f' | 'F' => {
                if n > 7 {
                    return None;
                }
                let digits = format!("{:09}", dt.nanosecond());
                let part = &digits[..n];
                if ch == 'f' {
                    out.push_str(part);
                } else {
                    let trimmed = part.trim_end_matches('0');
                    if trimmed.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                    out.push_str(trimmed);
                }
            }
            't' => {
                let s = if dt.hour() < 12 { c.am } else { c.pm };
                if n == 1 {
                    out.extend(s.chars().next());
                } else {
                    out.push_str(s);
                }
            }
            'K' => {
                if st.kind == Kind::Utc {
                    out.push('Z');
                }
            }
            'z' => {
                // Utc and unspecified timestamps are at offset zero here.
                out.push_str(match n {
                    1 => "+0",
                    2 => "+00",
                    _ => "+00:00",
                });
            }
            'g' => out.push_str("A.D."),
            ':' | '/' => out.push(ch),
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != ch {
                    out.push(chars[j]);
                    j += 1;
                }
                if j >= chars.len() {
                    return None;
                }
                i = j + 1;
                continue;
            }
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
                continue;
            }
            '%' => {
                i += 1;
                continue;
            }
            other => out.push(other),
        }
        if !matches!(
            ch,
            'y' | 'M' | 'd' | 'h' | 'H' | 'm' | 's' | 'f' | 'F' | 't' | 'z' | 'g' | 'K'
        ) {
            i += 1;
            continue;
        }
        i += n;
    }
    Some(out)
}

/// Parses `s` with exactly the custom pattern `pattern`
/// (`DateTime.ParseExact`), or a standard specifier's pattern.
pub(crate) fn parse_exact(s: &str, fmt: &str, c: &Culture) -> Option<Stamp> {
    let pattern = if fmt.chars().count() == 1 {
        standard(fmt.chars().next()?, c)?
    } else {
        fmt.to_string()
    };
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut nanos) =
        (1i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    let mut pm: Option<bool> = None;
    let mut kind = Kind::Unspecified;
    let (mut i, mut j) = (0, 0);
    let read_num = |j: &mut usize, min: usize, max: usize| -> Option<u32> {
        let start = *j;
        while *j < t.len() && *j - start < max && t[*j].is_ascii_digit() {
            *j += 1;
        }
        if *j - start < min {
            return None;
        }
        t[start..*j].iter().collect::<String>().parse().ok()
    };
    let read_word = |j: &mut usize, names: &[&str]| -> Option<u32> {
        let rest: String = t[*j..].iter().collect::<String>().to_lowercase();
        let (k, name) = names
            .iter()
            .enumerate()
            .filter(|(_, n)| rest.starts_with(&n.to_lowercase()))
            .max_by_key(|(_, n)| n.len())?;
        *j = (*j + name.chars().count()).min(t.len());
        Some(k as u32)
    };
    while i < p.len() {
        let ch = p[i];
        let mut n = 1;
        while p.get(i + n) == Some(&ch) {
            n += 1;
        }
        let fixed = n >= 2;
        match ch {
            'y' => {
                let v = read_num(
                    &mut j,
                    if n >= 3 { n.min(4) } else { n },
                    if n <= 2 { 2 } else { n.max(4) },
                )?;
                y = if n <= 2 {
                    2000 + i64::from(v) - if v >= 50 { 100 } else { 0 }
                } else {
                    i64::from(v)
                };
            }
            'M' if n >= 4 => mo = read_word(&mut j, &c.months)? + 1,
            'M' if n == 3 => mo = read_word(&mut j, &c.short_months)? + 1,
            'M' => mo = read_num(&mut j, if fixed { 2 } else { 1 }, 2)?,
            'd' if n >= 4 => {
                read_word(&mut j, &c.days)?;
            }
            'd' if n == 3 => {
                read_word(&mut j, &c.short_days)?;
            }
            'd' => d = read_num(&mut j, if fixed { 2 } else { 1 }, 2)?,
            'H' | 'h' => h = read_num(&mut j, if fixed { 2 } else { 1 }, 2)?,
            'm' => mi = read_num(&mut j, if fixed { 2 } else { 1 }, 2)?,
            's' => sec = read_num(&mut j, if fixed { 2 } else { 1 }, 2)?,
            'f' | 'F' => {
                let start = j;
                read_num(&mut j, if ch == 'f' { n } else { 0 }, n).or(Some(0))?;
                nanos = fraction(&t[start..j].iter().collect::<String>());
            }
            't' => {
                let rest: String = t[j..].iter().collect::<String>().to_lowercase();
                if rest.starts_with(&c.am.to_lowercase()) || rest.starts_with("am") {
                    pm = Some(false);
                } else if rest.starts_with(&c.pm.to_lowercase()) || rest.starts_with("pm")
                {
                    pm = Some(true);
                } else {
                    return None;
                }
                j = (j + if n == 1 { 1 } else { c.am.chars().count() }).min(t.len());
            }
            'K' | 'z' => {
                if t.get(j) == Some(&'Z') {
                    kind = Kind::Utc;
                    j += 1;
                }
            }
            '\'' | '"' => {
                let mut k = i + 1;
                while k < p.len() && p[k] != ch {
                    if t.get(j) != Some(&p[k]) {
                        return None;
                    }
                    j += 1;
                    k += 1;
                }
                i = k + 1;
                continue;
            }
            '\\' => {
                if t.get(j) != p.get(i + 1) {
                    return None;
                }
                j += 1;
                i += 2;
                continue;
            }
            other => {
                for _ in 0..n {
                    if t.get(j) != Some(&other) {
                        return None;
                    }
                    j += 1;
                }
            }
        }
        i += n;
    }
    if j != t.len() {
        return None;
    }
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    Some(Stamp { dt: make(i32::try_from(y).ok()?, mo, d, h, mi, sec, nanos)?, kind })
}
