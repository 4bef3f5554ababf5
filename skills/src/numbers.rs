//! Numbers as Whisper writes them down: digits ("10"), words ("ten",
//! "twenty five", "twenty-five" arrives as two words) and the articles that
//! stand for one ("a minute", "an hour").

/// The number the words at the start of `words` say, and how many words it
/// took; `None` when they do not start with one.
pub fn leading_number(words: &[&str]) -> Option<(u32, usize)> {
    let first = *words.first()?;
    if let Ok(n) = first.parse::<u32>() {
        return Some((n, 1));
    }
    if matches!(first, "a" | "an" | "one") {
        return Some((1, 1));
    }
    let tens = tens_word(first);
    if let Some(tens) = tens {
        if let Some(unit) = words
            .get(1)
            .and_then(|w| unit_word(w))
            .filter(|u| (1..10).contains(u))
        {
            return Some((tens + unit, 2));
        }
        return Some((tens, 1));
    }
    unit_word(first).map(|n| (n, 1))
}

/// "zero" to "nineteen".
fn unit_word(word: &str) -> Option<u32> {
    hauski_words::SMALL_NUMBERS
        .iter()
        .position(|u| *u == word)
        .map(|n| n as u32)
}

/// "twenty" to "ninety".
fn tens_word(word: &str) -> Option<u32> {
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    TENS.iter().position(|t| *t == word).map(|n| 20 + 10 * n as u32)
}

#[cfg(test)]
mod tests {
    use super::leading_number;

    #[test]
    fn digits_words_and_articles() {
        let cases: &[(&str, Option<(u32, usize)>)] = &[
            ("10 minutes", Some((10, 1))),
            ("ten minutes", Some((10, 1))),
            ("twenty five minutes", Some((25, 2))),
            ("twenty minutes", Some((20, 1))),
            ("an hour", Some((1, 1))),
            ("a minute", Some((1, 1))),
            ("nineteen", Some((19, 1))),
            ("minutes", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let words: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(leading_number(&words), *expected, "{text}");
        }
    }
}
