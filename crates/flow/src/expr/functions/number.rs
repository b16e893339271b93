//! Number parsing and formatting as .NET does it for `float`, `isFloat`,
//! `isInt` and `formatNumber`, with a small table of locales.

use serde_json::Value;

use super::{Call, ExprError};

/// `(group separator, decimal separator)` of the locales this crate knows
/// (RFC 4646 names, matched without regard to case); the invariant culture
/// (and `en-*`) is `(',', '.')`.
pub(crate) fn locale_separators(locale: &str) -> Option<(char, char)> {
    let l = locale.to_ascii_lowercase();
    let lang = l.split(['-', '_']).next().unwrap_or("");
    if l == "de-ch" || l == "it-ch" || l == "fr-ch" {
        return Some(('\u{2019}', '.'));
    }
    match lang {
        "" | "en" | "ja" | "zh" | "ko" | "he" | "th" | "hi" | "ga" | "mt" | "ms" => {
            Some((',', '.'))
        }
        "de" | "es" | "it" | "nl" | "pt" | "da" | "id" | "tr" | "is" | "el" | "hr"
        | "sl" | "sr" | "ro" | "vi" => Some(('.', ',')),
        "fr" | "ru" | "sv" | "nb" | "no" | "fi" | "cs" | "pl" | "sk" | "uk" | "hu"
        | "bg" | "lt" | "lv" | "et" => Some(('\u{a0}', ',')),
        _ => None,
    }
}

/// The separators for the optional locale argument `i`.
pub(crate) fn separators(
    c: &Call,
    i: usize,
    locale: Option<&str>,
) -> Result<(char, char), ExprError> {
    match locale {
        None => Ok((',', '.')),
        Some(l) => locale_separators(l).ok_or_else(|| {
            c.invalid(
                i,
                format!("'{l}' is not a valid locale, or not one this runtime knows."),
            )
        }),
    }
}

/// Parses a number as .NET's `double.Parse` with `NumberStyles.Any`:
/// white space around, a leading or trailing sign or parentheses, group
/// separators among the integer digits, a decimal separator, an exponent.
/// The reference's "unexpectedly valid inputs" (`'1234567,8+'`) parse.
pub(crate) fn parse_float(s: &str, (group, decimal): (char, char)) -> Option<f64> {
    let chars: Vec<char> = s.trim().chars().collect();
    let mut i = 0;
    let mut negative = false;
    let mut parens = false;
    let mut signed = false;
    let is_group = |c: char| {
        c == group
            || (group == '\u{a0}' && c == ' ')
            || (group == '\u{2019}' && c == '\'')
    };
    match chars.first() {
        Some('(') => {
            parens = true;
            negative = true;
            i += 1;
        }
        Some('-') => {
            negative = true;
            signed = true;
            i += 1;
        }
        Some('+') => {
            signed = true;
            i += 1;
        }
        _ => {}
    }
    let mut digits = String::new();
    let mut seen_digit = false;
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() {
            digits.push(c);
            seen_digit = true;
        } else if seen_digit && is_group(c) {
        } else {
            break;
        }
        i += 1;
    }
    if chars.get(i) == Some(&decimal) {
        digits.push('.');
        i += 1;
        while let Some(&c) = chars.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            digits.push(c);
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return None;
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if let Some(&c @ ('+' | '-')) = chars.get(j) {
            exp.push(c);
            j += 1;
        }
        let start = j;
        while chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            exp.push(chars[j]);
            j += 1;
        }
        if j > start {
            digits.push_str(&exp);
            i = j;
        }
    }
    match chars.get(i) {
        Some(')') if parens => i += 1,
        Some('-') if !signed && !parens => {
            negative = true;
            i += 1;
        }
        Some('+') if !signed && !parens => i += 1,
        _ if parens => return None,
        _ => {}
    }
    if i != chars.len() {
        return None;
    }
    let x: f64 = digits.parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    Some(if negative { -x } else { x })
}

/// Parses an integer as .NET's `long.Parse` (`NumberStyles.Integer`):
/// white space around, an optional leading sign, digits.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

pub(super) fn is_int(c: &mut Call) -> Result<Value, ExprError> {
    let s = c.string(0)?;
    Ok(Value::Bool(parse_int(s).is_some()))
}

pub(super) fn is_float(c: &mut Call) -> Result<Value, ExprError> {
    let seps = separators(c, 1, c.opt_string(1)?)?;
    let s = c.string(0)?;
    Ok(Value::Bool(parse_float(s, seps).is_some()))
}

/// `formatNumber(number, format, locale?)`: .NET's `number.ToString(format,
/// culture)`; the default culture is `en-US`.
pub(super) fn format_number(c: &mut Call) -> Result<Value, ExprError> {
    let n = c.num(0)?;
    let format = c.string(1)?.to_string();
    let name = c.opt_string(2)?;
    let culture = super::locale::culture(name).ok_or_else(|| {
        c.invalid(
            2,
            format!("'{}' is not a locale this runtime knows.", name.unwrap_or("")),
        )
    })?;
    super::numfmt::format(n, &format, culture).map(Value::String).ok_or_else(|| {
        c.invalid(
            1,
            format!("'{format}' is not a valid numeric format string for this value."),
        )
    })
}
