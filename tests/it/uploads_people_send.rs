//! `/v1/audio/transcriptions` with the recordings people actually send:
//! MP3, M4A, Ogg voice notes (Opus), Ogg Vorbis and browser WebM, encoded
//! from jfk.wav by FFmpeg's encoders (PyAV), uploaded with the `openai` SDK.

use crate::common;

use crate::common::server::Server;
use crate::common::{audio, hauski, wer};

const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

#[test]
fn compressed_uploads_transcribe_and_anything_else_gets_a_clear_400() {
    let mut cmd = hauski();
    // Only speech recognition is exercised: the small random LLM loads fastest.
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let out_dir = common::fresh_dir("uploads");
    let jfk = audio("jfk.wav");
    let args = [server.base.as_ref(), jfk.as_os_str(), out_dir.as_os_str()];
    let r = common::python_json("compressed_uploads.py", args, &server.log());

    let formats = r["formats"].as_object().expect("formats");
    assert_eq!(formats.len(), 5, "{r}");
    for (name, upload) in formats {
        let text = upload["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} was refused: {upload}"));
        // The same bound as the WAV itself (tests/it/transcribes_reference_audio.rs).
        let score = wer(JFK, text);
        assert!(score <= 0.05, "{name}: WER {score:.2} for {text:?}");
        // Compressed, not a WAV in disguise (jfk.wav is 352 kB).
        assert!(upload["bytes"].as_u64() < Some(200_000), "{name}: {upload}");
    }

    for case in ["not_audio", "garbled"] {
        let refused = &r[case];
        assert_eq!(refused["status"], 400, "{case}: {refused}");
        assert_eq!(refused["param"], "file", "{case}: {refused}");
    }
    let not_audio = r["not_audio"]["message"].as_str().unwrap_or_default();
    assert!(
        not_audio.contains("song.mp3") && not_audio.contains("MP3") && not_audio.contains("convert"),
        "names the file, the formats and the fix: {not_audio}"
    );
    let garbled = r["garbled"]["message"].as_str().unwrap_or_default();
    assert!(
        garbled.contains("garbled.ogg") && garbled.contains("damaged Ogg"),
        "{garbled}"
    );
    // Half an MP3 is half a speech: transcribed as far as it goes.
    let cut = r["cut"]["text"].as_str().unwrap_or_default().to_lowercase();
    assert!(cut.contains("fellow americans"), "{r}");
    server.assert_alive();
}
