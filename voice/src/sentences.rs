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
    fn empty_text_has_no_sentences() {
        assert!(split_sentences("   ").is_empty());
    }
}
