//! A streamed answer cut into sentences, for every door that speaks (the
//! voice loop, `converse`): a sentence is handed on once it is closed, so the
//! first is synthesised while the LLM still writes the second.

use hauski_voice::split_sentences;

/// The answer so far: what is not yet a closed sentence, and all of it.
#[derive(Debug, Default)]
pub struct SentenceStream {
    pending: String,
    whole: String,
}

impl SentenceStream {
    /// Adds a piece of the answer; returns the sentences it closed. The
    /// last piece of text may still grow, so it waits for the next push.
    pub fn push(&mut self, piece: &str) -> Vec<String> {
        self.pending.push_str(piece);
        self.whole.push_str(piece);
        let mut sentences = split_sentences(&self.pending);
        if sentences.len() < 2 {
            return Vec::new();
        }
        self.pending = sentences.pop().unwrap_or_default();
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
    fn sentences_come_out_once_closed_and_the_rest_at_the_end() {
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
        assert_eq!(spoken, ["The capital of France is Paris."]);
        assert_eq!(stream.finish().as_deref(), Some("It lies on the Seine."));
        assert_eq!(stream.finish(), None);
        assert_eq!(
            stream.text(),
            "The capital of France is Paris. It lies on the Seine."
        );
    }
}
