//! Spoken memory commands, recognised before the LLM sees the words:
//! "remember that the plumber comes on Tuesday", "forget the plumber".

/// What a sentence asks of memory, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryIntent {
    Remember(String),
    Forget(String),
}

/// Recognises "remember (that) X" and "forget (about) (the) X". Whisper adds
/// punctuation and capitals; both are ignored for matching and trimmed off X.
pub fn parse_intent(utterance: &str) -> Option<MemoryIntent> {
    let cleaned = utterance
        .trim()
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let lower = cleaned.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    // Politeness in front is common: "please remember…", "hauski, forget…".
    let start = words.iter().position(|w| {
        matches!(
            w.trim_matches(|c: char| !c.is_alphanumeric()),
            "remember" | "forget"
        )
    })?;
    let polite = ["please", "hauski", "hey", "ok", "okay", "and", "also"];
    if !words[..start]
        .iter()
        .all(|w| polite.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
    {
        return None;
    }
    let verb = words[start].trim_matches(|c: char| !c.is_alphanumeric());
    let fillers: &[&str] = if verb == "remember" {
        &["that", "this:"]
    } else {
        &["about", "the", "that", "what", "i", "said"]
    };
    let mut rest = &words[start + 1..];
    while let Some(first) = rest.first() {
        if fillers.contains(first) {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return None;
    }
    // Keep the original casing of the content for remembered text.
    let content_words = rest.len();
    let original: Vec<&str> = cleaned.split_whitespace().collect();
    let content = original[original.len() - content_words..].join(" ");
    Some(if verb == "remember" {
        MemoryIntent::Remember(content)
    } else {
        MemoryIntent::Forget(content)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remember_that() {
        assert_eq!(
            parse_intent("Remember that the plumber comes on Tuesday."),
            Some(MemoryIntent::Remember("the plumber comes on Tuesday".into()))
        );
        assert_eq!(
            parse_intent("Please remember the code is 1234"),
            Some(MemoryIntent::Remember("the code is 1234".into()))
        );
    }

    #[test]
    fn forget_the() {
        assert_eq!(
            parse_intent("Forget the plumber."),
            Some(MemoryIntent::Forget("plumber".into()))
        );
        assert_eq!(
            parse_intent("forget about the dentist appointment"),
            Some(MemoryIntent::Forget("dentist appointment".into()))
        );
    }

    #[test]
    fn ordinary_questions_are_not_memory_commands() {
        assert_eq!(parse_intent("What did I say about the plumber?"), None);
        assert_eq!(parse_intent("Do you remember"), None);
        assert_eq!(
            parse_intent("I always forget where the keys are, can you help me find them"),
            None
        );
    }
}
