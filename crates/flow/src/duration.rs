//! ISO 8601 durations (`PT1M`, `P1D`, `PT7.5S`) and the `Wait` action's
//! `{count, unit}` intervals, as workflow definitions write them.

use std::time::Duration;

/// Reads an ISO 8601 duration such as `PT1H30M`, `P2D` or `PT7.5S`. Years
/// and months are not accepted (they have no fixed length), as Logic Apps
/// refuses them in `limit.timeout` and retry intervals.
pub fn parse_iso8601(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not an ISO 8601 duration such as PT1M or P1D");
    let rest = text.trim().strip_prefix('P').ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let mut seconds = 0f64;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            unit => {
                let n: f64 = number.parse().map_err(|_| bad())?;
                number.clear();
                any = true;
                seconds += n * match (in_time, unit) {
                    (false, 'W') => 604_800.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    (false, 'Y' | 'M') => {
                        return Err(format!(
                            "'{text}': years and months have no fixed length; use days"
                        ));
                    }
                    _ => return Err(bad()),
                };
            }
        }
    }
    if !number.is_empty() || !any || !seconds.is_finite() {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A `Wait` interval or recurrence: `count` of `unit` (`Second`, `Minute`,
/// `Hour`, `Day`, `Week`; `Month` counts 30 days).
pub fn interval(count: f64, unit: &str) -> Result<Duration, String> {
    let per = match unit.to_ascii_lowercase().as_str() {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3_600.0,
        "day" => 86_400.0,
        "week" => 604_800.0,
        "month" => 2_592_000.0,
        other => {
            return Err(format!(
                "unit '{other}' is not one of Second, Minute, Hour, Day, Week, Month"
            ));
        }
    };
    if count.is_nan() || count < 0.0 || !count.is_finite() {
        return Err(format!("count {count} is not a non-negative number"));
    }
    Ok(Duration::from_secs_f64(count * per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_durations_definitions_use() {
        assert_eq!(parse_iso8601("PT1M"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_iso8601("PT7.5S"), Ok(Duration::from_millis(7500)));
        assert_eq!(parse_iso8601("P1DT1H"), Ok(Duration::from_secs(90_000)));
        assert_eq!(parse_iso8601("PT1H"), Ok(Duration::from_secs(3600)));
        assert!(parse_iso8601("P1M").is_err());
        assert!(parse_iso8601("1M").is_err());
        assert!(parse_iso8601("PT").is_err());
        assert!(parse_iso8601("PT5").is_err());
        assert_eq!(interval(1.0, "Minute"), Ok(Duration::from_secs(60)));
        assert!(interval(1.0, "Fortnight").is_err());
    }
}
