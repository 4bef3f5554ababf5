//! Splitting answer text into sentences, the unit TTS synthesises and plays,
//! so the first sentence can sound while later ones are still being made.

/// Splits `text` after `.`, `!`, `?` (and `…`) that are followed by whitespace
/// or the end. Abbreviations like "e.g." or decimals like "3.5" stay joined
/// because the next character is not whitespace or the next word is lowercase.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        if matches!(c, '.' | '!' | '?' | '…') {
            let next = chars.peek().copied();
            let at_boundary = match next {
                None => true,
                Some(n) if n.is_whitespace() => {
                    // Look past the spaces: a lowercase word means an abbreviation.
                    let rest: String = chars.clone().skip_while(|c| c.is_whitespace()).take(1).collect();
                    !rest.chars().next().is_some_and(char::is_lowercase)
                }
                _ => false,
            };
            if at_boundary {
                push_trimmed(&mut sentences, &current);
                current.clear();
            }
        }
    }
    push_trimmed(&mut sentences, &current);
    sentences
}

/// Words that end with a dot without ending a sentence ("Dr. Smith").
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "mt", "jr", "sr", "vs", "etc", "approx", "no", "inc", "ltd", "co",
    "ca", "fig", "dept",
];

/// Whether `text` ends a sentence whatever comes next: `!`, `?` or `…`, or
/// a dot after a word that is no abbreviation, initial or number ("Paris."
/// but not "Dr.", "e.g.", "J." or "3."). A streamed answer's sentence can
/// then be spoken without waiting for the next token, which is often held
/// back anyway (a newline that may begin a stop sequence).
pub fn ends_a_sentence(text: &str) -> bool {
    let text = text.trim_end();
    let Some(last) = text.chars().next_back() else {
        return false;
    };
    match last {
        '!' | '?' | '…' => true,
        '.' => {
            let before = &text[..text.len() - 1];
            let word = before.rsplit(char::is_whitespace).next().unwrap_or_default();
            word.chars().count() >= 2
                && word.chars().all(char::is_alphabetic)
                && !ABBREVIATIONS.contains(&word.to_lowercase().as_str())
        }
        _ => false,
    }
}

fn push_trimmed(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_terminal_punctuation() {
        assert_eq!(
            split_sentences("The timer is done. Shall I start another? Yes!"),
            vec!["The timer is done.", "Shall I start another?", "Yes!"]
        );
    }

    #[test]
    fn keeps_decimals_and_abbreviations() {
        assert_eq!(
            split_sentences("It is 3.5 degrees, e.g. cold. Wear a coat"),
            vec!["It is 3.5 degrees, e.g. cold.", "Wear a coat"]
        );
    }

    #[test]
    fn a_sentence_is_known_to_end_only_where_nothing_after_could_join_it() {
        for closed in [
            "The capital of France is Paris.",
            "Shall I?",
            "Yes!",
            "Well…",
            "It is done. ",
        ] {
            assert!(ends_a_sentence(closed), "{closed:?}");
        }
        for open in [
            "It is 3.",
            "Ask Dr.",
            "For example, e.g.",
            "Signed J.",
            "Wait...",
            "The capital of France",
            "He said \"yes.\"",
            "",
        ] {
            assert!(!ends_a_sentence(open), "{open:?}");
        }
    }

    #[test]
    fn empty_text_has_no_sentences() {
        assert!(split_sentences("   ").is_empty());
    }
}
