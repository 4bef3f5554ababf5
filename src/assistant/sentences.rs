//! A streamed answer cut into sentences, for every door that speaks (the
//! voice loop, `converse`): a sentence is handed on once it is closed, so the
//! first is synthesised while the LLM still writes the second.

use hauski_voice::{ends_a_sentence, split_sentences};

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
        let last_is_closed = ends_a_sentence(&self.pending);
        if !last_is_closed {
            self.pending = sentences.pop().unwrap_or_default();
        } else {
            self.pending.clear();
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

#[cfg(test)]
mod tests {
    use super::SentenceStream;

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
