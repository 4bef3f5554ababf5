//! The recorded-utterance voice path: VAD → ASR → brain → TTS.
//!
//! The brain streams text; a sentence splitter hands each finished sentence to
//! a TTS worker thread over a bounded channel, so the first sentence is
//! synthesised while the LLM is still writing the second. The same shape will
//! carry the live audio graph, with a PipeWire sink in place of the buffer.

use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hauski_brain::{Conversation, FinishReason, GenerationParams, Turn};
use hauski_voice::{ASR_RATE, PiperVoice, Transcriber, VadConfig, VoiceError, speech_span, split_sentences};
use serde::Serialize;

/// What HausKI says when the model produced nothing speakable.
pub const FALLBACK_ANSWER: &str = "Sorry, I have no answer to that.";

/// The default system prompt: a few-shot frame that base and instruction-tuned
/// models both complete as a short spoken answer.
pub const SYSTEM_PROMPT: &str = "HausKI is a friendly voice assistant in a family home. \
It answers every question in one or two short, plain sentences that sound good when spoken aloud.\n\n\
User: What is the capital of France?\nAssistant: The capital of France is Paris.\n\n\
User: Can you recommend a quick dinner?\nAssistant: A vegetable omelette takes ten minutes and is very filling.";

/// Milliseconds per stage, as `converse` prints them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub vad_ms: f64,
    pub asr_ms: f64,
    pub llm_first_token_ms: f64,
    pub llm_total_ms: f64,
    pub tts_first_sentence_ms: f64,
    pub tts_total_ms: f64,
    /// From the moment VAD decided the speaker had finished to the first
    /// synthesised answer audio being ready to play.
    pub speech_end_to_first_audio_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct ConverseOutcome {
    pub transcript: String,
    pub answer: String,
    pub finish_reason: String,
    pub prompt_tokens: usize,
    pub prompt_tokens_evaluated: usize,
    pub completion_tokens: usize,
    pub answer_audio_s: f64,
    #[serde(skip)]
    pub audio: Vec<f32>,
    #[serde(skip)]
    pub sample_rate: u32,
    pub timings: StageTimings,
}

pub struct Engines<'a> {
    pub transcriber: &'a Transcriber,
    pub voice: &'a PiperVoice,
}

/// Runs one recorded utterance (16 kHz mono) through the whole path.
pub fn converse(
    engines: &Engines<'_>,
    conversation: &mut Conversation<'_>,
    samples: &[f32],
    source_name: &str,
    vad: &VadConfig,
    system: &str,
    params: &GenerationParams,
) -> Result<ConverseOutcome> {
    let _span = tracing::info_span!("converse", source = source_name).entered();
    let mut timings = StageTimings::default();

    let started = Instant::now();
    let utterance = speech_span(samples, vad).ok_or_else(|| VoiceError::NoSpeech(source_name.to_string()))?;
    timings.vad_ms = ms(started.elapsed());
    // For a recording, speech has ended once VAD has found where: from here on
    // everything is latency the speaker waits through.
    let speech_end = Instant::now();
    tracing::debug!(
        start_s = utterance.start as f64 / f64::from(ASR_RATE),
        end_s = utterance.end as f64 / f64::from(ASR_RATE),
        "utterance"
    );

    let asr_started = Instant::now();
    let transcript = engines
        .transcriber
        .transcribe(&samples[utterance.start..utterance.end], ASR_RATE)?;
    timings.asr_ms = ms(asr_started.elapsed());
    if transcript.text.trim().is_empty() {
        return Err(VoiceError::NoSpeech(source_name.to_string()).into());
    }

    let turn = Turn {
        system: system.to_string(),
        user: transcript.text.clone(),
    };
    let (sentences_tx, sentences_rx) = mpsc::sync_channel::<String>(8);
    let voice = engines.voice;

    let (stats, tts) = std::thread::scope(|scope| {
        let tts_worker = scope.spawn(move || speak_sentences(voice, sentences_rx));
        let mut pending = String::new();
        let llm_started = Instant::now();
        let stats = conversation.generate(&turn, params, |piece| {
            pending.push_str(piece);
            let mut sentences = split_sentences(&pending);
            // The last piece may still grow; send only sentences that are closed.
            if sentences.len() > 1 {
                let keep = sentences.pop().unwrap_or_default();
                for sentence in sentences {
                    if sentences_tx.send(sentence).is_err() {
                        return ControlFlow::Break(());
                    }
                }
                pending = keep;
            }
            ControlFlow::Continue(())
        });
        let rest = pending.trim().to_string();
        let spoke_any = match &stats {
            Ok(s) => !s.text.trim().is_empty(),
            Err(_) => false,
        };
        if !rest.is_empty() {
            let _ = sentences_tx.send(rest);
        } else if !spoke_any {
            let _ = sentences_tx.send(FALLBACK_ANSWER.to_string());
        }
        drop(sentences_tx);
        let llm_total = llm_started.elapsed();
        let tts = tts_worker.join().map_err(|_| anyhow!("the TTS worker panicked"));
        (stats.map(|s| (s, llm_total)), tts)
    });
    let (stats, llm_total) = stats?;
    let tts = tts??;

    timings.llm_first_token_ms = ms(stats.time_to_first_token);
    timings.llm_total_ms = ms(llm_total);
    timings.tts_first_sentence_ms = tts.first_sentence_ms;
    timings.tts_total_ms = tts.total_ms;
    timings.speech_end_to_first_audio_ms = tts
        .first_audio_at
        .map_or(0.0, |t| ms(t.saturating_duration_since(speech_end)));

    let answer = if stats.text.trim().is_empty() {
        FALLBACK_ANSWER.to_string()
    } else {
        stats.text.clone()
    };
    let sample_rate = voice.sample_rate();
    Ok(ConverseOutcome {
        transcript: transcript.text,
        answer,
        finish_reason: match stats.finish {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
        }
        .to_string(),
        prompt_tokens: stats.prompt_tokens,
        prompt_tokens_evaluated: stats.prompt_tokens_evaluated,
        completion_tokens: stats.completion_tokens,
        answer_audio_s: tts.audio.len() as f64 / f64::from(sample_rate),
        audio: tts.audio,
        sample_rate,
        timings,
    })
}

struct SpokenAnswer {
    audio: Vec<f32>,
    first_audio_at: Option<Instant>,
    first_sentence_ms: f64,
    total_ms: f64,
}

/// The TTS stage: synthesises sentences in arrival order until the channel closes.
fn speak_sentences(
    voice: &PiperVoice,
    sentences: mpsc::Receiver<String>,
) -> Result<SpokenAnswer, VoiceError> {
    let _span = tracing::info_span!("tts_stage").entered();
    let gap = vec![0.0; voice.sample_rate() as usize * 15 / 100];
    let mut spoken = SpokenAnswer {
        audio: Vec::new(),
        first_audio_at: None,
        first_sentence_ms: 0.0,
        total_ms: 0.0,
    };
    for sentence in sentences {
        let started = Instant::now();
        let audio = voice.synthesize(&sentence)?;
        let took = ms(started.elapsed());
        spoken.total_ms += took;
        if audio.is_empty() {
            continue;
        }
        if spoken.first_audio_at.is_none() {
            spoken.first_audio_at = Some(Instant::now());
            spoken.first_sentence_ms = took;
        } else {
            spoken.audio.extend_from_slice(&gap);
        }
        spoken.audio.extend_from_slice(&audio);
    }
    Ok(spoken)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
