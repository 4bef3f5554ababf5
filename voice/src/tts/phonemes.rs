//! Text → IPA phonemes with espeak-ng, the phonemiser Piper voices are trained on.
//!
//! espeak-ng keeps global state and is not thread-safe, so every call holds one
//! process-wide lock. Debian's espeak-ng lacks Piper's patch that reports each
//! clause's punctuation, so clauses are split here and their punctuation is put
//! back after the phonemes: the voice uses it for pauses and intonation.

use std::ffi::{CStr, CString, c_void};
use std::os::raw::c_int;
use std::sync::Mutex;

use espeakng_sys as sys;

use crate::VoiceError;

static ESPEAK: Mutex<Option<String>> = Mutex::new(None);

/// Punctuation that ends a clause; Piper voices have ids for each.
const CLAUSE_PUNCTUATION: &[char] = &['.', ',', ';', ':', '!', '?'];

/// Phonemises `text` with espeak voice `voice` (e.g. `en-us`), returning IPA
/// with clause punctuation kept in place.
pub fn phonemize(text: &str, voice: &str) -> Result<String, VoiceError> {
    let mut guard = ESPEAK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.is_none() {
        // SAFETY: called under the lock; a null path means espeak's default data dir.
        let rate = unsafe {
            sys::espeak_Initialize(
                sys::espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_RETRIEVAL,
                0,
                std::ptr::null(),
                sys::espeakINITIALIZE_DONT_EXIT as c_int,
            )
        };
        if rate <= 0 {
            return Err(VoiceError::Phonemes(
                "espeak_Initialize could not find its data".into(),
            ));
        }
    }
    if guard.as_deref() != Some(voice) {
        let name =
            CString::new(voice).map_err(|_| VoiceError::Phonemes(format!("bad voice name {voice:?}")))?;
        // SAFETY: under the lock, with a valid C string.
        let status = unsafe { sys::espeak_SetVoiceByName(name.as_ptr()) };
        if status != sys::espeak_ERROR_EE_OK {
            return Err(VoiceError::Phonemes(format!("espeak-ng has no voice {voice:?}")));
        }
        *guard = Some(voice.to_string());
    }

    let mut out = String::new();
    for (clause, punctuation) in clauses(text) {
        let ipa = phonemize_clause(&clause)?;
        if !ipa.is_empty() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str(&ipa);
        }
        if let Some(p) = punctuation {
            out.push(p);
        }
    }
    Ok(out.trim().to_string())
}

/// Must be called with the espeak lock held.
fn phonemize_clause(clause: &str) -> Result<String, VoiceError> {
    let c_text = CString::new(clause.replace('\0', " ")).map_err(|e| VoiceError::Phonemes(e.to_string()))?;
    let mut cursor: *const c_void = c_text.as_ptr().cast();
    let mut parts = Vec::new();
    // espeak advances `cursor` clause by clause and sets it to null at the end.
    while !cursor.is_null() {
        // SAFETY: `cursor` points into `c_text`, which outlives the loop; the
        // returned string is espeak's static buffer, copied before the next call.
        let phonemes = unsafe {
            sys::espeak_TextToPhonemes(
                &mut cursor,
                sys::espeakCHARS_UTF8 as c_int,
                sys::espeakPHONEMES_IPA as c_int,
            )
        };
        if phonemes.is_null() {
            break;
        }
        let s = unsafe { CStr::from_ptr(phonemes) }
            .to_string_lossy()
            .trim()
            .to_string();
        if !s.is_empty() {
            parts.push(s);
        }
    }
    Ok(parts.join(" "))
}

/// Splits text into clauses with the punctuation that closed each.
fn clauses(text: &str) -> Vec<(String, Option<char>)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if CLAUSE_PUNCTUATION.contains(&c) {
            out.push((std::mem::take(&mut current), Some(c)));
        } else {
            current.push(c);
        }
    }
    if !current.trim().is_empty() {
        out.push((current, None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_become_ipa_with_punctuation() {
        let ipa = phonemize("Hello, world.", "en-us").expect("espeak-ng works");
        assert!(ipa.contains('ə') || ipa.contains('ɛ'), "{ipa}");
        assert!(ipa.contains(','), "{ipa}");
        assert!(ipa.ends_with('.'), "{ipa}");
    }

    #[test]
    fn unknown_voice_is_an_error() {
        let err = phonemize("hi", "xx-no-such-voice").expect_err("must fail");
        assert!(err.to_string().contains("xx-no-such-voice"));
    }
}
