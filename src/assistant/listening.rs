//! How HausKI listens to a spoken question, the same in every room: the
//! voice loop on this box and a satellite elsewhere take these numbers
//! (and the main answers a satellite's question by them too).

/// Quiet time after the wake word before HausKI gives up listening.
pub const LISTEN_TIMEOUT_S: usize = 6;
/// Longest question; longer speech is cut here.
pub const MAX_QUESTION_S: usize = 20;
/// Audio kept from before the wake detection, so the question's first
/// syllable survives a late detection. The detector reports 40–360 ms after
/// the word's end (one 80 ms chunk at a time); a longer pre-roll hands
/// Whisper the word's own tail ("…ski" came back as "Key. How much time is
/// left?" with 0.25 s).
pub const PRE_ROLL_S: f64 = 0.1;
/// A pause this long starts answering speculatively (see `turn_gate`): well
/// inside the hang-over, long enough that most gaps inside words do not.
/// Three VAD frames; at 120 ms the slowest answers (one long sentence)
/// were still being synthesised when the hang-over ended.
pub const SPECULATE_AFTER_MS: u32 = 90;
/// Audio kept past the last voiced frame for Whisper: the endpointer ends
/// speech where it falls 40 dB below its loudest, and a soft final consonant
/// may trail a little further.
pub const ASR_TAIL_S: f64 = 0.06;
/// The reply when the question held no words Whisper could make out.
pub const DID_NOT_CATCH: &str = "Sorry, I didn't catch that.";
