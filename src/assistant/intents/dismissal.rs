//! "Never mind", "stop", "cancel": the speaker wants nothing (often after
//! interrupting an answer). Recognised before the LLM, which would otherwise
//! answer the words themselves; HausKI acknowledges briefly and stops.

/// Whole utterances that dismiss, after lower-casing and dropping punctuation.
const DISMISSALS: &[&str] = &[
    "never mind",
    "nevermind",
    "stop",
    "cancel",
    "forget it",
    "nothing",
    "that's all",
    "thats all",
    "be quiet",
    "quiet",
    "schon gut",
    "vergiss es",
    "abbrechen",
];

/// Whether `text` (a whole transcript) only dismisses.
pub fn is_dismissal(text: &str) -> bool {
    let normalised = super::spoken_words(text)
        .split_whitespace()
        .filter(|w| !matches!(*w, "hauski" | "please" | "oh" | "ok" | "okay"))
        .collect::<Vec<_>>()
        .join(" ");
    DISMISSALS.contains(&normalised.as_str())
}

#[cfg(test)]
mod tests {
    use super::is_dismissal;

    #[test]
    fn dismissals_are_whole_utterances() {
        for text in [
            "Never mind.",
            "Stop!",
            "Okay, cancel.",
            "Forget it, please.",
            "Vergiss es.",
        ] {
            assert!(is_dismissal(text), "{text}");
        }
        for text in [
            "Stop the music in the kitchen",
            "Never mind the weather, what time is it?",
            "",
        ] {
            assert!(!is_dismissal(text), "{text}");
        }
    }
}
