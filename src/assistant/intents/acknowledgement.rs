//! "Stop", "okay", "thanks": what ends a ringing alarm. Only asked while
//! one rings, so "okay" at any other time is still an ordinary turn.

/// Whole utterances that acknowledge an alarm, after normalising.
const ACKNOWLEDGEMENTS: &[&str] = &[
    "stop",
    "okay",
    "ok",
    "okay thanks",
    "okay thank you",
    "thanks",
    "thank you",
    "got it",
    "i got it",
    "alright",
    "all right",
    "enough",
    "quiet",
    "be quiet",
    "shut up",
    "turn it off",
    "stop it",
    "stop the alarm",
    "stop the timer",
    "stop the reminder",
    "dismiss",
    "i'm up",
    "yes",
    "done",
];

/// Whether `text` (a whole transcript) acknowledges a ringing alarm.
pub fn is_acknowledgement(text: &str) -> bool {
    let said = super::spoken_words(text);
    let said = said.strip_prefix("hauski ").unwrap_or(&said);
    let said = said.strip_suffix(" please").unwrap_or(said);
    super::dismissal::is_dismissal(text) || ACKNOWLEDGEMENTS.contains(&said)
}

#[cfg(test)]
mod tests {
    use super::is_acknowledgement;

    #[test]
    fn stop_okay_and_thanks_acknowledge() {
        for text in [
            "Stop.",
            "Okay.",
            "OK!",
            "Thank you.",
            "Stop the timer.",
            "Never mind.",
            "Hauski, stop please.",
        ] {
            assert!(is_acknowledgement(text), "{text}");
        }
        for text in [
            "Set a timer for 5 minutes.",
            "What time is it?",
            "Okay, what is the weather?",
        ] {
            assert!(!is_acknowledgement(text), "{text}");
        }
    }
}
