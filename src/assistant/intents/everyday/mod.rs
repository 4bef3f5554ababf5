//! The fast path to timers, reminders and lists: the common phrasings
//! ("set a timer for ten minutes", "put oat milk on the shopping list",
//! "remind me to call the dentist on Thursday afternoon") become a
//! [`SkillCall`] without asking the LLM, which takes seconds and may answer
//! the words instead of acting on them.

mod lists;
mod reminders;
mod timers;

pub use lists::{DEFAULT_LIST, list_name};

use hauski_skills::SkillsPolicy;
use jiff::ZonedDateTime;

/// One action of the everyday skills, with its arguments; the names are
/// the skills' tool names (`timer.start`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkillCall {
    TimerStart {
        seconds: u64,
        label: String,
    },
    /// `None`: every timer (or the only one).
    TimerCancel {
        label: Option<String>,
    },
    TimerList,
    /// `due: None`: the owner said what but not when.
    ReminderAdd {
        text: String,
        due: Option<ZonedDateTime>,
    },
    ReminderList,
    /// `None`: every reminder (or the only one).
    ReminderCancel {
        about: Option<String>,
    },
    ListAdd {
        list: String,
        items: Vec<String>,
    },
    ListRead {
        list: String,
    },
    ListRemove {
        list: String,
        item: String,
    },
    ListClear {
        list: String,
    },
}

impl SkillCall {
    /// The tool name of the action.
    pub fn action(&self) -> &'static str {
        match self {
            Self::TimerStart { .. } => "timer.start",
            Self::TimerCancel { .. } => "timer.cancel",
            Self::TimerList => "timer.list",
            Self::ReminderAdd { .. } => "reminder.add",
            Self::ReminderList => "reminder.list",
            Self::ReminderCancel { .. } => "reminder.cancel",
            Self::ListAdd { .. } => "list.add",
            Self::ListRead { .. } => "list.read",
            Self::ListRemove { .. } => "list.remove",
            Self::ListClear { .. } => "list.clear",
        }
    }
}

/// Words around a request that do not change it.
const POLITE_BEFORE: &[&[&str]] = &[
    &["hey", "hauski"],
    &["hauski"],
    &["please"],
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["will", "you"],
    &["i", "want", "you", "to"],
    &["i'd", "like", "you", "to"],
    &["okay"],
    &["ok"],
];

/// The skill call `text` asks for, if it is one of the common phrasings;
/// time words are read at `now` in its time zone.
pub fn parse(text: &str, now: &ZonedDateTime, policy: &SkillsPolicy) -> Option<SkillCall> {
    let said = super::spoken_words(text)
        .replace("what's", "what is")
        .replace("we're", "we are")
        .replace("there's", "there is");
    let mut words: Vec<&str> = said.split_whitespace().collect();
    loop {
        let before = words.len();
        for polite in POLITE_BEFORE {
            if words.starts_with(polite) {
                words.drain(..polite.len());
                break;
            }
        }
        if words.last() == Some(&"please") {
            words.pop();
        }
        if words.len() == before {
            break;
        }
    }
    let words = near_misses(words);
    timers::parse(&words)
        .or_else(|| reminders::parse(&words, now, policy))
        .or_else(|| lists::parse(&words))
}

/// Opening words tiny Whisper writes for the commands' verbs, measured on
/// espeak-ng voices (`tests/it/everyday_phrasings_through_asr.rs`): "console
/// the timer", "but oat milk on the list", "and eggs to the list". Taken
/// for the verb only where the rest is a command's shape.
fn near_misses(mut words: Vec<&str>) -> Vec<&str> {
    let ends_with_list = words.last() == Some(&"list");
    let about_timers = words.iter().any(|w| matches!(*w, "timer" | "timers"));
    let about_reminders = words.iter().any(|w| matches!(*w, "reminder" | "reminders"));
    if let Some(first) = words.first_mut() {
        *first = match *first {
            "console" | "council" | "counsel" if about_timers || about_reminders || ends_with_list => {
                "cancel"
            }
            "but" | "pot" if ends_with_list => "put",
            "and" if ends_with_list => "add",
            other => other,
        };
    }
    words
}

/// Drops one of `prefixes` from the start of `words`, if one is there.
fn strip_any<'a, 'w>(words: &'a [&'w str], prefixes: &[&[&str]]) -> (&'a [&'w str], bool) {
    for prefix in prefixes {
        if words.starts_with(prefix) {
            return (&words[prefix.len()..], true);
        }
    }
    (words, false)
}

/// Articles and possessives before a name: "the", "my", "our".
const DETERMINERS: &[&[&str]] = &[
    &["all", "the"],
    &["all", "my"],
    &["all", "of", "my"],
    &["all"],
    &["the"],
    &["my"],
    &["our"],
    &["a"],
    &["an"],
    &["that"],
    &["this"],
];

#[cfg(test)]
mod tests;
