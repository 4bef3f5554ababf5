//! How HausKI puts durations ("1 hour and 30 minutes"), timers ("a 10-minute
//! pasta timer") and lists ("eggs, oat milk and bread") into words. One
//! crate for the core and the built-in WebAssembly skills, so a timer is
//! named the same when it is set, listed and rung. No dependencies: it
//! builds for the host and for `wasm32-unknown-unknown` alike.

/// "10 minutes", "1 hour and 30 minutes", "45 seconds".
pub fn duration(seconds: u64) -> String {
    let parts: Vec<String> = [
        (seconds / 3600, "hour"),
        (seconds % 3600 / 60, "minute"),
        (seconds % 60, "second"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
    .collect();
    if parts.is_empty() {
        return "0 seconds".into();
    }
    and_list(&parts)
}

/// "pasta timer" or "timer", with "10-minute" before it when the length is
/// one unit ("a 10-minute pasta timer"), else "for 1 hour and 30 minutes" after.
pub fn timer_name(label: &str, seconds: Option<u64>) -> String {
    let name = if label.is_empty() {
        "timer".to_string()
    } else {
        format!("{label} timer")
    };
    let Some(seconds) = seconds else {
        return name;
    };
    let one_unit = if seconds % 3600 == 0 {
        Some((seconds / 3600, "hour"))
    } else if seconds < 3600 && seconds % 60 == 0 {
        Some((seconds / 60, "minute"))
    } else if seconds < 60 {
        Some((seconds, "second"))
    } else {
        None
    };
    match one_unit {
        Some((count, unit)) => format!("{count}-{unit} {name}"),
        None => format!("{name} for {}", duration(seconds)),
    }
}

/// "eggs", "eggs and bread", "eggs, oat milk and bread".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "Oat milk is …": the first letter upper-case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Zero to nineteen in words: how HausKI says a small count, and how the
/// skills read one back from what Whisper wrote.
pub const SMALL_NUMBERS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

/// "three" for 3, up to nineteen; digits from 20 on ("25").
pub fn number(n: usize) -> String {
    SMALL_NUMBERS
        .get(n)
        .map_or_else(|| n.to_string(), |word| word.to_string())
}

/// "1 item", "3 items".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_timer_names() {
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(5400), "1 hour and 30 minutes");
        assert_eq!(duration(3661), "1 hour, 1 minute and 1 second");
        assert_eq!(duration(0), "0 seconds");
        assert_eq!(timer_name("pasta", Some(600)), "10-minute pasta timer");
        assert_eq!(timer_name("", Some(3)), "3-second timer");
        assert_eq!(timer_name("", Some(7200)), "2-hour timer");
        assert_eq!(timer_name("", Some(90)), "timer for 1 minute and 30 seconds");
        assert_eq!(
            timer_name("roast", Some(5400)),
            "roast timer for 1 hour and 30 minutes"
        );
        assert_eq!(timer_name("pasta", None), "pasta timer");
    }

    #[test]
    fn lists_and_capitals() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&items(&[])), "");
        assert_eq!(and_list(&items(&["eggs"])), "eggs");
        assert_eq!(
            and_list(&items(&["eggs", "oat milk", "bread"])),
            "eggs, oat milk and bread"
        );
        assert_eq!(capitalised("oat milk"), "Oat milk");
        assert_eq!(capitalised(""), "");
        assert_eq!(count(1, "item"), "1 item");
        assert_eq!(number(3), "three");
        assert_eq!(number(19), "nineteen");
        assert_eq!(number(25), "25");
        assert_eq!(vec![count(3, "item")], ["3 items"]);
    }
}
