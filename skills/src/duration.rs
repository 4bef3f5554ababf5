//! Spoken durations, for timers and "in 20 minutes": "ten minutes", "an hour
//! and a half", "1 hour 30 minutes", "half an hour", "two and a half minutes".

use crate::numbers::leading_number;

/// The seconds in a duration unit's name.
fn unit_seconds(word: &str) -> Option<u64> {
    match word {
        "second" | "seconds" | "sec" | "secs" => Some(1),
        "minute" | "minutes" | "min" | "mins" => Some(60),
        "hour" | "hours" | "hr" | "hrs" => Some(3600),
        _ => None,
    }
}

/// The duration `words` say, in seconds, when they say one and nothing else.
pub fn parse_duration(words: &[&str]) -> Option<u64> {
    let (seconds, used) = leading_duration(words)?;
    (used == words.len() && seconds > 0).then_some(seconds)
}

/// The duration at the start of `words` and how many words it took.
pub fn leading_duration(words: &[&str]) -> Option<(u64, usize)> {
    let mut total = 0;
    let mut at = 0;
    loop {
        let rest = &words[at..];
        let Some((seconds, used)) = one_amount(rest) else {
            break;
        };
        total += seconds;
        at += used;
        // "1 hour and 30 minutes", "1 hour 30 minutes".
        let joined = if words.get(at) == Some(&"and") { 1 } else { 0 };
        if one_amount(&words[(at + joined).min(words.len())..]).is_some() {
            at += joined;
        } else {
            break;
        }
    }
    (at > 0).then_some((total, at))
}

/// One amount of one unit: "ten minutes", "an hour and a half", "half an
/// hour", "two and a half minutes", "a quarter of an hour".
fn one_amount(words: &[&str]) -> Option<(u64, usize)> {
    if let ["half", "a" | "an", unit, ..] = words {
        return unit_seconds(unit).map(|s| (s / 2, 3));
    }
    if let ["a", "quarter", "of", "an", "hour", ..] = words {
        return Some((900, 5));
    }
    if let ["quarter", "of", "an", "hour", ..] = words {
        return Some((900, 4));
    }
    let (count, used) = leading_number(words)?;
    let count = u64::from(count);
    let rest = &words[used..];
    // "two and a half minutes"
    if let ["and", "a", "half", unit, ..] = rest {
        return unit_seconds(unit).map(|s| (count * s + s / 2, used + 4));
    }
    let unit = unit_seconds(rest.first()?)?;
    // "an hour and a half" (not "an hour and a half minutes", which no one says)
    if let ["and", "a", "half", ..] = &rest[1..] {
        let next_is_unit = rest.get(4).and_then(|w| unit_seconds(w)).is_some();
        if !next_is_unit {
            return Some((count * unit + unit / 2, used + 4));
        }
    }
    Some((count * unit, used + 1))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_people_say() {
        let cases: &[(&str, Option<u64>)] = &[
            ("10 minutes", Some(600)),
            ("ten minutes", Some(600)),
            ("3 seconds", Some(3)),
            ("a minute", Some(60)),
            ("an hour", Some(3600)),
            ("an hour and a half", Some(5400)),
            ("a minute and a half", Some(90)),
            ("two and a half minutes", Some(150)),
            ("half an hour", Some(1800)),
            ("a quarter of an hour", Some(900)),
            ("1 hour 30 minutes", Some(5400)),
            ("1 hour and 30 minutes", Some(5400)),
            ("twenty five minutes", Some(1500)),
            ("90 seconds", Some(90)),
            ("2 hours 5 minutes and 10 seconds", Some(7510)),
            ("0 minutes", None),
            ("minutes", None),
            ("ten", None),
            ("ten minutes please", None),
        ];
        for (text, expected) in cases {
            let words: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(parse_duration(&words), *expected, "{text}");
        }
    }
}
