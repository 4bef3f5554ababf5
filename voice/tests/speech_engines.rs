//! The speech engines on real models: VAD on real speech, Piper synthesis
//! sentence by sentence, read back by Whisper.

use std::path::PathBuf;
use std::sync::OnceLock;

use hauski_voice::{ASR_RATE, PiperVoice, Transcriber, VadConfig, VoiceError, find_utterance, speech_span};

fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models");
    assert!(
        dir.is_dir(),
        "{} missing: ../shared must sit beside the repo",
        dir.display()
    );
    dir
}

fn voice() -> &'static PiperVoice {
    static VOICE: OnceLock<PiperVoice> = OnceLock::new();
    VOICE.get_or_init(|| {
        PiperVoice::load(&shared().join("tts/en_US-joe-medium/en_US-joe-medium.onnx"), 2)
            .expect("voice loads")
    })
}

fn transcriber() -> &'static Transcriber {
    static ASR: OnceLock<Transcriber> = OnceLock::new();
    ASR.get_or_init(|| {
        Transcriber::load(&shared().join("whisper/ggml-tiny.en-q8_0.bin"), 2, "en").expect("whisper loads")
    })
}

fn jfk() -> Vec<f32> {
    hound::WavReader::open(shared().join("audio/jfk.wav"))
        .expect("jfk.wav")
        .into_samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect()
}

/// Linear resampling, good enough for feeding synthetic speech to Whisper in a test.
fn to_16k(samples: &[f32], rate: u32) -> Vec<f32> {
    let n = samples.len() * ASR_RATE as usize / rate as usize;
    (0..n)
        .map(|i| {
            let x = i as f64 * f64::from(rate) / f64::from(ASR_RATE);
            let j = (x as usize).min(samples.len() - 1);
            samples[j]
        })
        .collect()
}

/// espeak-ng speaking `text`, at 16 kHz.
fn espeak(text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = dir.path().join("espeak.wav");
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng runs (scripts/install-deps.sh installs it)");
    assert!(status.success(), "espeak-ng failed");
    let mut reader = hound::WavReader::open(&wav).expect("espeak-ng's WAV");
    let rate = reader.spec().sample_rate;
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect();
    to_16k(&samples, rate)
}

#[test]
fn the_end_of_speech_comes_one_hangover_after_the_last_sound() {
    // webrtc-vad by itself calls up to ~100 ms of a quiet room's hiss after
    // these questions voiced, which the hang-over then adds to every answer.
    // One frame of slack: the endpointer decides frame by frame.
    let frame = (ASR_RATE / 1000 * hauski_voice::VAD_FRAME_MS) as usize;
    for question in ["what colour is the sky", "what is the capital of France"] {
        let mut audio = espeak(question);
        let last_sound = audio.iter().rposition(|s| s.abs() > 0.001).expect("speech");
        audio.truncate(last_sound + 1);
        audio.extend(vec![0.0; ASR_RATE as usize]);
        // A quiet room: hiss about 66 dB below full scale.
        let mut seed = 42u32;
        for s in &mut audio {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *s += (f32::from((seed >> 16) as u16) / 65_535.0 - 0.5) * 0.001;
        }
        let mut endpointer = hauski_voice::Endpointer::new(VadConfig::default());
        let mut ended = None;
        for (i, block) in audio.chunks(160).enumerate() {
            for event in endpointer.push(block) {
                if matches!(event, hauski_voice::SpeechEvent::Ended { .. }) {
                    ended.get_or_insert((i + 1) * 160);
                }
            }
        }
        let ended = ended.expect("the end of speech is found");
        let hangover = (ASR_RATE / 1000 * VadConfig::default().hangover_ms) as usize;
        let late_ms = (ended - last_sound).saturating_sub(hangover) * 1000 / ASR_RATE as usize;
        assert!(
            ended <= last_sound + hangover + frame,
            "{question:?}: the end came {late_ms} ms later than one hang-over after the last sound"
        );
    }
}

#[test]
fn vad_finds_the_speech_inside_silence() {
    let silence = vec![0.0f32; 2 * ASR_RATE as usize];
    let audio = [silence.clone(), jfk(), silence].concat();
    let config = VadConfig {
        padding_ms: 0,
        ..VadConfig::default()
    };
    let seconds = |s: usize| s as f64 / f64::from(ASR_RATE);
    let span = speech_span(&audio, &config).expect("speech found");
    assert!(
        (1.9..=2.6).contains(&seconds(span.start)),
        "start {:.2}",
        seconds(span.start)
    );
    // JFK's speech ends about 10.6 s into the 11 s clip.
    assert!(
        (12.4..=13.2).contains(&seconds(span.speech_end)),
        "end {:.2}",
        seconds(span.speech_end)
    );

    // Live endpointing ends at JFK's first dramatic pause (over a second long)...
    let first = find_utterance(&audio, &config).expect("speech found");
    assert!(
        seconds(first.speech_end) < 7.0,
        "end {:.2}",
        seconds(first.speech_end)
    );
    // ...unless the hang-over is longer than his pauses.
    let patient = VadConfig {
        hangover_ms: 1500,
        ..config
    };
    let whole = find_utterance(&audio, &patient).expect("speech found");
    assert!(
        seconds(whole.speech_end) >= 12.0,
        "end {:.2}",
        seconds(whole.speech_end)
    );
}

#[test]
fn each_sentence_arrives_as_its_own_chunk() {
    let mut chunks = Vec::new();
    voice()
        .synthesize_stream(
            "The oven is hot. Dinner is ready. Please come to the table.",
            |chunk| {
                chunks.push(chunk.len());
                Ok(())
            },
        )
        .expect("synthesises");
    assert_eq!(chunks.len(), 3);
    assert!(
        chunks.iter().all(|&n| n > voice().sample_rate() as usize / 2),
        "each is real audio: {chunks:?}"
    );
}

#[test]
fn synthesised_speech_is_understood_by_whisper() {
    let audio = voice()
        .synthesize("Turn on the lights in the kitchen.")
        .expect("synthesises");
    let heard = transcriber()
        .transcribe(&to_16k(&audio, voice().sample_rate()), ASR_RATE)
        .expect("transcribes");
    let text = heard.text.to_lowercase();
    assert!(text.contains("lights") && text.contains("kitchen"), "{text}");
}

#[test]
fn a_slower_rate_gives_longer_audio() {
    let text = "Good night and sleep well.";
    let normal = voice().synthesize(text).expect("normal").len();
    let mut slow_voice = PiperVoice::load(&shared().join("tts/en_US-joe-medium/en_US-joe-medium.onnx"), 2)
        .expect("voice loads");
    slow_voice.set_speaking_rate(0.6);
    let slow = slow_voice.synthesize(text).expect("slow").len();
    assert!(
        slow as f64 > normal as f64 * 1.3,
        "slow {slow} vs normal {normal}"
    );
}

#[test]
fn empty_text_is_an_error() {
    assert!(matches!(voice().synthesize("  "), Err(VoiceError::EmptyText)));
    assert!(matches!(
        voice().synthesize_stream("", |_| Ok(())),
        Err(VoiceError::EmptyText)
    ));
}

#[test]
fn asr_refuses_the_wrong_rate() {
    let err = transcriber()
        .transcribe(&[0.0; 22_050], 22_050)
        .expect_err("wrong rate");
    assert!(matches!(err, VoiceError::WrongRate { got: 22_050, .. }), "{err}");
}

#[test]
fn a_missing_voice_names_the_file() {
    let err = PiperVoice::load(std::path::Path::new("/nope/voice.onnx"), 1)
        .err()
        .expect("missing");
    assert!(err.to_string().contains("/nope/voice.onnx"), "{err}");
}

#[test]
fn live_transcription_understands_a_short_question_and_can_be_abandoned() {
    let question = "What is the capital of France?";
    let speech = voice().synthesize(question).expect("synthesis");
    let audio = to_16k(&speech, voice().sample_rate());
    let asr = transcriber();
    // The full window and the live one on the same state, in turn.
    let full = asr.transcribe(&audio, ASR_RATE).expect("full window");
    let live = asr.transcribe_live(&audio, ASR_RATE, None).expect("live window");
    let keep_going = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = asr
        .transcribe_live(&audio, ASR_RATE, Some(keep_going))
        .expect("live window with an abort flag");
    for text in [&full.text, &live.text, &watched.text] {
        assert!(
            text.to_lowercase().contains("capital of france"),
            "heard {text:?}"
        );
    }
    let give_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    match asr.transcribe_live(&audio, ASR_RATE, Some(give_up)) {
        Err(VoiceError::Aborted) => {}
        other => panic!("an abandoned transcription gave {other:?}"),
    }
}
