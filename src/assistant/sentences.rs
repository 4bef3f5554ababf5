//! A streamed answer cut into sentences, for every door that speaks (the
//! voice loop, `converse`): a sentence is handed on once it is closed, so the
//! first is synthesised while the LLM still writes the second.

use std::collections::VecDeque;

use hauski_voice::{ends_a_sentence, split_sentences};

use crate::llm_pool::{Generation, GenerationEvent};
use crate::pipeline::FALLBACK_ANSWER;

/// The answer so far: what is not yet a closed sentence, and all of it.
#[derive(Debug, Default)]
pub struct SentenceStream {
    pending: String,
    whole: String,
}

impl SentenceStream {
    /// Adds a piece of the answer; returns the sentences it closed. The
    /// last piece of text waits for the next push unless nothing that comes
    /// next could join it ([`ends_a_sentence`]): a one-sentence answer is
    /// then spoken a token or three sooner (the newline after it is held
    /// back as the possible start of a stop sequence).
    pub fn push(&mut self, piece: &str) -> Vec<String> {
        self.pending.push_str(piece);
        self.whole.push_str(piece);
        let mut sentences = split_sentences(&self.pending);
        if ends_a_sentence(&self.pending) {
            self.pending.clear();
        } else {
            self.pending = sentences.pop().unwrap_or_default();
        }
        sentences
    }

    /// What is left once the answer is complete, if anything.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending).trim().to_string();
        (!rest.is_empty()).then_some(rest)
    }

    /// The whole answer so far.
    pub fn text(&self) -> &str {
        &self.whole
    }
}

/// One step of a [`SpokenAnswer`].
#[derive(Debug, PartialEq)]
pub enum Spoken {
    /// A piece came that closed no sentence: a moment to check whether the
    /// answer is still wanted.
    Nothing,
    /// A sentence to say. The `last` comes once generation is over; it is
    /// empty when every sentence went out already, and the fallback answer
    /// when the LLM said nothing.
    Sentence { text: String, last: bool },
}

/// An answer from the LLM pool read as sentences, for the doors that speak
/// while it is made (the voice loop, the satellites' door): each step
/// blocks for the next piece, so a door checks between steps whether the
/// answer is still wanted (barge-in, an abandoned turn) and cancels it.
pub struct SpokenAnswer {
    generation: Generation,
    stream: SentenceStream,
    ready: VecDeque<Spoken>,
    said_any: bool,
    over: bool,
}

impl SpokenAnswer {
    pub fn new(generation: Generation) -> Self {
        Self {
            generation,
            stream: SentenceStream::default(),
            ready: VecDeque::new(),
            said_any: false,
            over: false,
        }
    }

    /// The next step; `None` after the last sentence, or when the LLM
    /// worker went away mid-answer.
    pub fn next_step(&mut self) -> Option<Spoken> {
        if let Some(step) = self.ready.pop_front() {
            return Some(step);
        }
        if self.over {
            return None;
        }
        match self.generation.events.blocking_recv()? {
            GenerationEvent::Text(piece) => {
                for text in self.stream.push(&piece) {
                    self.said_any = true;
                    self.ready.push_back(Spoken::Sentence { text, last: false });
                }
            }
            GenerationEvent::Done(result) => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "the answer failed");
                }
                let text = self.stream.finish().unwrap_or_else(|| {
                    if self.said_any {
                        String::new()
                    } else {
                        FALLBACK_ANSWER.to_string()
                    }
                });
                self.ready.push_back(Spoken::Sentence { text, last: true });
                self.over = true;
            }
        }
        Some(self.ready.pop_front().unwrap_or(Spoken::Nothing))
    }

    /// Stops generation at its next token.
    pub fn cancel(&self) {
        self.generation.cancel();
    }

    /// The whole answer so far, as the LLM wrote it.
    pub fn text(&self) -> &str {
        self.stream.text().trim()
    }
}

#[cfg(test)]
mod tests {
    use super::{SentenceStream, Spoken, SpokenAnswer};
    use crate::llm_pool::{Generation, GenerationEvent};
    use crate::pipeline::FALLBACK_ANSWER;

    /// Every step of an answer made of `pieces` that then ends.
    fn steps(pieces: &[&str]) -> Vec<Spoken> {
        let (generation, events, _) = Generation::fed_by_test();
        for piece in pieces {
            events
                .try_send(GenerationEvent::Text((*piece).to_string()))
                .expect("room in the channel");
        }
        let done = Err(hauski_brain::BrainError::EmptyPrompt);
        events.try_send(GenerationEvent::Done(done)).expect("room");
        let mut answer = SpokenAnswer::new(generation);
        std::iter::from_fn(|| answer.next_step()).collect()
    }

    fn sentence(text: &str, last: bool) -> Spoken {
        Spoken::Sentence {
            text: text.into(),
            last,
        }
    }

    #[test]
    fn an_answer_is_said_sentence_by_sentence_and_then_closed() {
        assert_eq!(
            steps(&["The capital", " of France is Paris.", " It lies", " on the Seine"]),
            [
                Spoken::Nothing,
                sentence("The capital of France is Paris.", false),
                Spoken::Nothing,
                Spoken::Nothing,
                sentence("It lies on the Seine", true),
            ]
        );
        assert_eq!(
            steps(&["Paris", "."]),
            [Spoken::Nothing, sentence("Paris.", false), sentence("", true)]
        );
    }

    #[test]
    fn an_answer_with_no_words_is_the_fallback() {
        assert_eq!(steps(&[]), [sentence(FALLBACK_ANSWER, true)]);
    }

    #[test]
    fn cancelling_reaches_the_generation() {
        let (generation, _events, cancelled) = Generation::fed_by_test();
        SpokenAnswer::new(generation).cancel();
        assert!(cancelled.load(std::sync::atomic::Ordering::Relaxed));
    }

    #[test]
    fn sentences_come_out_once_closed() {
        let mut stream = SentenceStream::default();
        let mut spoken = Vec::new();
        for piece in [
            "The capital",
            " of France is Paris",
            ". It lies on",
            " the Seine",
            ".",
        ] {
            spoken.extend(stream.push(piece));
        }
        // The second sentence ended with the last piece: out at once too.
        assert_eq!(
            spoken,
            ["The capital of France is Paris.", "It lies on the Seine."]
        );
        assert_eq!(stream.finish(), None);
        assert_eq!(
            stream.text(),
            "The capital of France is Paris. It lies on the Seine."
        );
    }

    #[test]
    fn a_sentence_that_may_go_on_waits_for_the_next_piece_or_the_end() {
        let mut stream = SentenceStream::default();
        assert!(stream.push("Bring fruit, e.g.").is_empty());
        assert!(stream.push(" apples and pears").is_empty());
        assert_eq!(
            stream.finish().as_deref(),
            Some("Bring fruit, e.g. apples and pears")
        );
    }
}
