//! "What time is it?" and "what's the date?", answered from the clock: a
//! small LLM guesses a time as readily as anything else, and a wrong time
//! is worse than none.

use jiff::ZonedDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockQuestion {
    Time,
    Date,
}

/// Words that may come before or after the question without changing it.
const AROUND: &[&str] = &[
    "hey hauski",
    "hauski",
    "please",
    "now",
    "right now",
    "currently",
    "today",
    "exactly",
    "do you know",
    "can you tell me",
    "could you tell me",
    "tell me",
];

const TIME: &[&str] = &[
    "what time is it",
    "what is the time",
    "the time",
    "what time it is",
    "what is the current time",
    "time",
    "how late is it",
];

const DATE: &[&str] = &[
    "what is the date",
    "what date is it",
    "what is today's date",
    "today's date",
    "the date",
    "what day is it",
    "what day is today",
    "which day is it",
    "what is the day",
    "what day of the week is it",
    "date",
];

/// The clock question `text` asks, if it is one and nothing more ("what
/// time does the bakery open" is not).
pub fn parse(text: &str) -> Option<ClockQuestion> {
    let mut said = super::spoken_words(text).replace("what's", "what is");
    // Peel the polite and the filler words off both ends, longest first,
    // looking after each step ("what day is today" must keep its "today").
    let mut around: Vec<&str> = AROUND.to_vec();
    around.sort_by_key(|w| std::cmp::Reverse(w.len()));
    loop {
        if TIME.contains(&said.as_str()) {
            return Some(ClockQuestion::Time);
        }
        if DATE.contains(&said.as_str()) {
            return Some(ClockQuestion::Date);
        }
        let before = said.clone();
        for word in &around {
            if let Some(rest) = said.strip_prefix(&format!("{word} ")) {
                said = rest.to_string();
                break;
            }
            if let Some(rest) = said.strip_suffix(&format!(" {word}")) {
                said = rest.to_string();
                break;
            }
        }
        if said == before {
            return None;
        }
    }
}

/// The spoken answer at `now` (the owner's time zone is the system's).
pub fn answer(question: ClockQuestion, now: &ZonedDateTime) -> String {
    match question {
        ClockQuestion::Time => format!("It's {}.", now.strftime("%-H:%M")),
        ClockQuestion::Date => format!(
            "It's {}, the {} of {}.",
            now.strftime("%A"),
            ordinal(now.day()),
            now.strftime("%B %Y")
        ),
    }
}

fn ordinal(day: i8) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_people_ask_the_time_and_the_date() {
        for text in [
            "What time is it?",
            "What's the time?",
            "Hey Hauski, what time is it right now?",
            "Do you know what time it is?",
            "Can you tell me the time, please?",
            "What is the current time?",
            "Time?",
        ] {
            assert_eq!(parse(text), Some(ClockQuestion::Time), "{text}");
        }
        for text in [
            "What's the date today?",
            "What is today's date?",
            "What day is it?",
            "What day is today?",
            "Which day is it today?",
            "Tell me the date.",
        ] {
            assert_eq!(parse(text), Some(ClockQuestion::Date), "{text}");
        }
    }

    #[test]
    fn questions_that_only_mention_time_go_to_the_llm() {
        for text in [
            "What time does the bakery open?",
            "Set a timer for ten minutes.",
            "What was the date of the moon landing?",
            "How much time do I need for pasta?",
            "What is the capital of France?",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn answers_read_the_clock_in_the_zone_given() {
        let now: ZonedDateTime = "2026-12-01T09:05:00+01:00[Europe/Berlin]"
            .parse()
            .expect("a time");
        assert_eq!(answer(ClockQuestion::Time, &now), "It's 9:05.");
        assert_eq!(
            answer(ClockQuestion::Date, &now),
            "It's Tuesday, the 1st of December 2026."
        );
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(22), "22nd");
        assert_eq!(ordinal(23), "23rd");
    }
}
