//! Whether a pause ends the turn, judged from what was said as well as from
//! silence.
//!
//! A fixed hang-over has to be long enough for a speaker who stops to think
//! mid-sentence ("remind me to … water the plants"), and that wait is then
//! added to every answer, however plainly the question was over. The
//! speculative turn's transcript is ready a few hundred milliseconds into a
//! pause (`turn_gate`), so the listener can wait less after a complete
//! request and longer after one that is clearly unfinished.
//!
//! Rules rather than a model: Whisper's own punctuation already says much
//! (a truncated clip comes back ending in "of", "the", "…"), the rules cost
//! nothing on the two cores the answer needs at that moment, and every
//! verdict can be explained. Pipecat's Smart Turn audio model measured
//! 200–300 ms per inference here, as long as the wait it would save
//! (ARCHITECTURE.md, "Ending the turn").

/// What the words heard so far say about the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// A whole request ("What is the capital of France?"): a short pause ends it.
    Complete,
    /// Nothing either way (no closing punctuation): the usual hang-over.
    Unsure,
    /// Clearly more to come ("remind me to", a trailing "and"): wait longer.
    Unfinished,
}

/// Silence needed to end a turn after each verdict; `unsure_ms` is also the
/// wait before any verdict is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HangOvers {
    pub complete_ms: u32,
    pub unsure_ms: u32,
    pub unfinished_ms: u32,
}

impl HangOvers {
    /// The silence that ends the turn, given the verdict on it so far.
    pub fn needed_ms(&self, verdict: Option<TurnEnd>) -> u32 {
        match verdict {
            Some(TurnEnd::Complete) => self.complete_ms,
            Some(TurnEnd::Unfinished) => self.unfinished_ms,
            Some(TurnEnd::Unsure) | None => self.unsure_ms,
        }
    }

    /// The longest wait any verdict can ask for.
    pub fn longest_ms(&self) -> u32 {
        self.complete_ms.max(self.unsure_ms).max(self.unfinished_ms)
    }
}

/// Words a request cannot end on: it goes on after them.
const DANGLING: &[&str] = &[
    // conjunctions
    "and", "or", "but", "so", "because", "if", "than", "then", "unless", "until", "while", "whether",
    // prepositions
    "to", "of", "for", "with", "about", "in", "on", "at", "from", "into", "onto", "by", "like", "after",
    "before", "around", "between", "near", "without", "during", "through", "over", "under",
    // articles, possessives, quantifiers
    "the", "a", "an", "my", "your", "our", "their", "his", "her", "its", "some", "any", "every", "each",
    "another", "more", "less", "no", // hesitations
    "um", "uh", "er", "erm", "hmm", "ah", "uhm", "mm", // openers with nothing after them
    "please", "what's", "whats", "how's", "where's", "who's", "let's",
];

/// Verbs a request cannot end on unless Whisper heard it close as a
/// question ("Do you know where my keys are?").
const AUXILIARIES: &[&str] = &[
    "is", "are", "was", "were", "am", "be", "been", "do", "does", "did", "can", "could", "would", "should",
    "will", "shall", "may", "might", "must", "have", "has", "had",
];

/// Endings that ask for an object still to come.
const WANTING: &[&str] = &[
    "remind me",
    "tell me",
    "show me",
    "give me",
    "let me",
    "ask me",
    "i want",
    "i need",
    "i'd like",
    "what is",
    "what are",
    "how do i",
    "how many",
    "how much",
    "set a timer",
];

/// Openers of a clause that needs a main clause after it ("When I get home").
const SUBORDINATE: &[&str] = &[
    "if", "once", "unless", "although", "because", "when", "after", "before", "while",
];

/// Question words: followed by a subject rather than a verb ("where I get
/// home", "what you said") they open a clause, not a question.
const WH: &[&str] = &["what", "where", "when", "how", "why", "who", "which"];

/// Subjects that, straight after a question word, make it a clause.
const SUBJECTS: &[&str] = &["i", "you", "we", "they", "he", "she"];

/// What the transcript of a pause says about the turn. `recognised` is
/// whether a closed-set command (a profile switch, a timer) matched it
/// whole: such a request is over even when Whisper left off its full stop.
pub fn judge(transcript: &str, recognised: bool) -> TurnEnd {
    let text = transcript.trim();
    // Speech with no words in it yet ("um", a breath before the question):
    // the request has not begun.
    if text.is_empty() {
        return TurnEnd::Unfinished;
    }
    if text.ends_with("...") || text.ends_with('…') || text.ends_with(',') || text.ends_with('-') {
        return TurnEnd::Unfinished;
    }
    let words = words(text);
    let Some(last) = words.last() else {
        return TurnEnd::Unsure;
    };
    let question = text.ends_with('?');
    if DANGLING.contains(&last.as_str())
        || (AUXILIARIES.contains(&last.as_str()) && !question)
        || WANTING.iter().any(|w| ends_with_words(&words, w))
        || dangling_clause(text, &words)
    {
        return TurnEnd::Unfinished;
    }
    if recognised || text.ends_with(['.', '?', '!']) {
        TurnEnd::Complete
    } else {
        TurnEnd::Unsure
    }
}

/// Lower-case words without punctuation (apostrophes kept).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase()
                .replace('’', "'")
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn ends_with_words(words: &[String], phrase: &str) -> bool {
    let phrase: Vec<&str> = phrase.split(' ').collect();
    words.len() >= phrase.len()
        && words[words.len() - phrase.len()..]
            .iter()
            .zip(&phrase)
            .all(|(w, p)| w == p)
}

/// A subordinate clause with no main clause yet: "If it rains", "When I get
/// home", "Where I left" (but "When is my next timer?" asks, and "If it
/// rains, remind me." has its main clause after the comma).
fn dangling_clause(text: &str, words: &[String]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    if text.contains(',') {
        return false;
    }
    let second = words.get(1).map_or("", String::as_str);
    if WH.contains(&first.as_str()) && SUBJECTS.contains(&second) {
        return true;
    }
    if !SUBORDINATE.contains(&first.as_str()) {
        return false;
    }
    let asks = words.get(1).is_some_and(|w| AUXILIARIES.contains(&w.as_str())) || text.ends_with('?');
    !asks
}

#[cfg(test)]
mod tests {
    use super::*;
    use TurnEnd::*;

    #[test]
    fn whole_requests_are_complete() {
        for text in [
            "What is the capital of France?",
            "Name a fruit.",
            "Switch to the kitchen profile.",
            "What time is it?",
            "Do you know where my keys are?",
            "When is my next timer?",
            "What is on my list?",
            "Where are my keys?",
            "If it rains tomorrow, remind me to take an umbrella.",
            "Stop!",
        ] {
            assert_eq!(judge(text, false), Complete, "{text}");
        }
    }

    #[test]
    fn requests_that_stop_mid_phrase_are_unfinished() {
        for text in [
            "Remind me to",
            "Remind me to.",
            "Remind me.",
            "What is the capital of?",
            "Turn on the lights and",
            "Add milk, eggs and",
            "Tell me about...",
            "When I get home",
            "Where I get home?",
            "What you said about the",
            "Set a timer for",
            "What is",
            "What time is",
            "Um.",
            "Play some music,",
        ] {
            assert_eq!(judge(text, false), Unfinished, "{text}");
        }
    }

    #[test]
    fn unpunctuated_text_is_unsure_unless_a_command_matched_it() {
        assert_eq!(judge("switch to the kitchen profile", false), Unsure);
        assert_eq!(judge("switch to the kitchen profile", true), Complete);
        // A command that matched cannot override a dangling word.
        assert_eq!(judge("switch to the", true), Unfinished);
        assert_eq!(judge("", false), Unfinished);
        assert_eq!(judge("  ?  ", false), Unsure);
    }

    #[test]
    fn each_verdict_picks_its_own_hang_over() {
        let waits = HangOvers {
            complete_ms: 400,
            unsure_ms: 600,
            unfinished_ms: 1500,
        };
        assert_eq!(waits.needed_ms(None), 600);
        assert_eq!(waits.needed_ms(Some(Complete)), 400);
        assert_eq!(waits.needed_ms(Some(Unsure)), 600);
        assert_eq!(waits.needed_ms(Some(Unfinished)), 1500);
        assert_eq!(waits.longest_ms(), 1500);
    }
}
