//! .NET numeric format strings for `formatNumber`: the standard specifiers
//! (`C`, `D`, `E`, `F`, `G`, `N`, `P`, `R`, `X`, each with an optional
//! precision) and custom patterns (`#,##0.00`, `0.0%`, `0.00E+00`,
//! sections split by `;`, quoted literals and `\` escapes).

use super::Num;
use super::format_float;
use super::locale::Culture;

/// Formats `n` with `format` in `culture`; `None` for a format .NET
/// rejects (`D` or `X` on a non-integer, an unknown letter).
pub(crate) fn format(n: Num, format: &str, c: &Culture) -> Option<String> {
    let mut chars = format.chars();
    let first = chars.next()?;
    let rest: String = chars.collect();
    if first.is_ascii_alphabetic()
        && rest.chars().all(|d| d.is_ascii_digit())
        && rest.len() <= 2
    {
        let precision: Option<usize> =
            if rest.is_empty() { None } else { rest.parse().ok() };
        return standard(n, first, precision, c);
    }
    Some(custom(n.as_f64(), format, c))
}

/// Fixed-point digits of |x| with `decimals` digits after the point,
/// rounded half away from zero as .NET rounds (Rust's formatting rounds
/// exact ties to even: 1234.5 with no decimals is 1235 in .NET).
fn fixed(x: f64, decimals: usize) -> (String, String) {
    let decimals = decimals.min(100);
    let x = x.abs();
    // A tie's exact expansion ends with the 5 at `decimals + 1`.
    let long = format!("{:.*}", decimals + 40, x);
    let cut = long.find('.').map(|p| p + 1 + decimals).unwrap_or(long.len());
    let tail = &long[cut..];
    let s = if tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0') {
        round_up(&long[..cut])
    } else {
        format!("{:.*}", decimals, x)
    };
    let s = s.trim_end_matches('.').to_string();
    match s.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (s, String::new()),
    }
}

/// Adds one unit in the last place to a decimal text (`"1.29"` → `"1.30"`).
fn round_up(text: &str) -> String {
    let mut digits: Vec<u8> = text.bytes().collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        match digits[i] {
            b'.' => continue,
            b'9' => digits[i] = b'0',
            d => {
                digits[i] = d + 1;
                break;
            }
        }
    }
    String::from_utf8(digits).unwrap_or_default()
}

fn group(int: &str, sep: char) -> String {
    let mut out = String::new();
    let len = int.chars().count();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

fn join(int: String, frac: &str, c: &Culture) -> String {
    if frac.is_empty() { int } else { format!("{int}{}{frac}", c.decimal) }
}

fn is_zero(int: &str, frac: &str) -> bool {
    int.chars().chain(frac.chars()).all(|d| d == '0')
}

fn sign(x: f64, int: &str, frac: &str) -> &'static str {
    if x < 0.0 && !is_zero(int, frac) { "-" } else { "" }
}

fn standard(n: Num, spec: char, precision: Option<usize>, c: &Culture) -> Option<String> {
    let x = n.as_f64();
    Some(match spec {
        'C' | 'c' => {
            let (i, f) = fixed(x, precision.unwrap_or(2));
            let body = join(group(&i, c.group), &f, c);
            format!("{}{}", sign(x, &i, &f), c.currency.replace("{}", &body))
        }
        'D' | 'd' => {
            let Num::Int(v) = n else { return None };
            let digits = v.unsigned_abs().to_string();
            let width = precision.unwrap_or(0);
            format!("{}{digits:0>width$}", if v < 0 { "-" } else { "" })
        }
        'E' | 'e' => {
            let p = precision.unwrap_or(6);
            let s = format!("{:.*e}", p, x.abs());
            let (mantissa, exp) = s.split_once('e')?;
            let exp: i32 = exp.parse().ok()?;
            let mantissa = mantissa.replace('.', &c.decimal.to_string());
            let minus = if x < 0.0 { "-" } else { "" };
            let e_sign = if exp < 0 { '-' } else { '+' };
            format!("{minus}{mantissa}{spec}{e_sign}{:03}", exp.abs())
        }
        'F' | 'f' => {
            let (i, f) = fixed(x, precision.unwrap_or(2));
            format!("{}{}", sign(x, &i, &f), join(i.clone(), &f, c))
        }
        'N' | 'n' => {
            let (i, f) = fixed(x, precision.unwrap_or(2));
            format!("{}{}", sign(x, &i, &f), join(group(&i, c.group), &f, c))
        }
        'P' | 'p' => {
            let y = x * 100.0;
            let (i, f) = fixed(y, precision.unwrap_or(2));
            let body = join(group(&i, c.group), &f, c);
            format!("{}{}", sign(y, &i, &f), c.percent.replace("{}", &body))
        }
        'G' | 'g' | 'R' | 'r' => {
            let text = match (n, precision) {
                (Num::Int(v), _) if precision.is_none_or(|p| p == 0) => v.to_string(),
                (_, Some(p)) if p > 0 => {
                    let s = format!("{:.*e}", p - 1, x);
                    let v: f64 = s.parse().ok()?;
                    format_float(v)
                }
                _ => format_float(x),
            };
            text.replace('.', &c.decimal.to_string())
        }
        'X' | 'x' => {
            let Num::Int(v) = n else { return None };
            let width = precision.unwrap_or(0);
            let hex = if spec == 'X' { format!("{v:X}") } else { format!("{v:x}") };
            format!("{hex:0>width$}")
        }
        _ => return None,
    })
}

/// One piece of a custom pattern.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Zero,
    Hash,
    Point,
    Comma,
    Percent,
    PerMille,
    Exp { plus: bool, digits: usize, upper: bool },
    Lit(String),
}

fn tokens(section: &str) -> Vec<Tok> {
    let chars: Vec<char> = section.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        match ch {
            '0' => out.push(Tok::Zero),
            '#' => out.push(Tok::Hash),
            '.' => out.push(Tok::Point),
            ',' => out.push(Tok::Comma),
            '%' => out.push(Tok::Percent),
            '‰' => out.push(Tok::PerMille),
            'E' | 'e' => {
                let mut j = i + 1;
                let plus = chars.get(j) == Some(&'+');
                if matches!(chars.get(j), Some('+' | '-')) {
                    j += 1;
                }
                let start = j;
                while chars.get(j) == Some(&'0') {
                    j += 1;
                }
                if j > start {
                    out.push(Tok::Exp { plus, digits: j - start, upper: ch == 'E' });
                    i = j;
                    continue;
                }
                out.push(Tok::Lit(ch.to_string()));
            }
            '\'' | '"' => {
                let mut j = i + 1;
                let mut lit = String::new();
                while j < chars.len() && chars[j] != ch {
                    lit.push(chars[j]);
                    j += 1;
                }
                out.push(Tok::Lit(lit));
                i = j + 1;
                continue;
            }
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    out.push(Tok::Lit(next.to_string()));
                }
                i += 2;
                continue;
            }
            other => out.push(Tok::Lit(other.to_string())),
        }
        i += 1;
    }
    out
}

/// Splits a custom format into its `;` sections (outside quotes).
fn sections(format: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for ch in format.chars() {
        let last = out.len() - 1;
        if escaped {
            out[last].push(ch);
            escaped = false;
            continue;
        }
        match (ch, quote) {
            ('\\', None) => {
                escaped = true;
                out[last].push(ch);
            }
            ('\'' | '"', None) => {
                quote = Some(ch);
                out[last].push(ch);
            }
            (q, Some(open)) if q == open => {
                quote = None;
                out[last].push(ch);
            }
            (';', None) => out.push(String::new()),
            _ => out[last].push(ch),
        }
    }
    out
}

fn custom(x: f64, format: &str, c: &Culture) -> String {
    let secs = sections(format);
    let (pattern, value, explicit_sign) = match secs.len() {
        1 => (secs[0].clone(), x, false),
        _ if x < 0.0 => (secs[1].clone(), -x, true),
        3 if x == 0.0 => (secs[2].clone(), x, true),
        _ => (secs[0].clone(), x, false),
    };
    let toks = tokens(&pattern);
    let point = toks.iter().position(|t| *t == Tok::Point);
    let int_end = point.unwrap_or(toks.len());
    let is_digit = |t: &Tok| matches!(t, Tok::Zero | Tok::Hash);
    let exp = toks.iter().find_map(|t| match t {
        Tok::Exp { plus, digits, upper } => Some((*plus, *digits, *upper)),
        _ => None,
    });
    let exp_at =
        toks.iter().position(|t| matches!(t, Tok::Exp { .. })).unwrap_or(toks.len());
    let frac_toks: Vec<&Tok> = match point {
        Some(p) => {
            toks[p + 1..exp_at.max(p + 1)].iter().filter(|t| is_digit(t)).collect()
        }
        None => Vec::new(),
    };
    let frac_max = frac_toks.len();
    let frac_min = frac_toks.iter().filter(|t| ***t == Tok::Zero).count();
    let int_toks = &toks[..int_end.min(exp_at)];
    let first_digit = int_toks.iter().position(is_digit);
    let last_digit = int_toks.iter().rposition(is_digit);
    let grouping = match (first_digit, last_digit) {
        (Some(a), Some(b)) => int_toks[a..b].contains(&Tok::Comma),
        _ => false,
    };
    // Commas right after the last integer digit scale by 1000 each.
    let scale_commas = match last_digit {
        Some(b) => int_toks[b + 1..].iter().take_while(|t| **t == Tok::Comma).count(),
        None => 0,
    };
    let int_min = match first_digit {
        Some(a) => int_toks[a..]
            .iter()
            .skip_while(|t| **t != Tok::Zero)
            .filter(|t| is_digit(t))
            .count(),
        None => 0,
    };
    let mut v = value;
    for t in &toks {
        match t {
            Tok::Percent => v *= 100.0,
            Tok::PerMille => v *= 1000.0,
            _ => {}
        }
    }
    v /= 1000f64.powi(scale_commas as i32);
    let mut exponent = 0i32;
    if exp.is_some() && v != 0.0 {
        let int_digits = int_toks.iter().filter(|t| is_digit(t)).count().max(1) as i32;
        exponent = v.abs().log10().floor() as i32 - (int_digits - 1);
        v /= 10f64.powi(exponent);
    }
    let (int, frac) = fixed(v, frac_max);
    let int = int.trim_start_matches('0').to_string();
    let int = format!("{int:0>int_min$}");
    let mut frac = frac;
    while frac.len() > frac_min && frac.ends_with('0') {
        frac.pop();
    }
    let negative = !explicit_sign && value < 0.0 && !is_zero(&int, &frac);
    let int_text = if grouping { group(&int, c.group) } else { int.clone() };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let mut int_emitted = false;
    let mut frac_i = 0;
    for (i, t) in toks.iter().enumerate() {
        let in_int = i < int_end.min(exp_at);
        match t {
            Tok::Zero | Tok::Hash if in_int => {
                if !int_emitted {
                    out.push_str(&int_text);
                    int_emitted = true;
                }
            }
            Tok::Zero | Tok::Hash => {
                if let Some(d) = frac.chars().nth(frac_i) {
                    out.push(d);
                }
                frac_i += 1;
            }
            Tok::Point => {
                if !frac.is_empty() {
                    out.push(c.decimal);
                }
            }
            Tok::Comma => {}
            Tok::Percent => out.push('%'),
            Tok::PerMille => out.push('‰'),
            Tok::Exp { plus, digits, upper } => {
                out.push(if *upper { 'E' } else { 'e' });
                if exponent < 0 {
                    out.push('-');
                } else if *plus {
                    out.push('+');
                }
                out.push_str(&format!("{:0>width$}", exponent.abs(), width = *digits));
            }
            Tok::Lit(s) => out.push_str(s),
        }
    }
    if !int_emitted && first_digit.is_none() && point.is_none() && exp.is_none() {
        // A pattern without digit placeholders prints only its literals.
    }
    out
}
