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
use hauski_brain::memory::MemoryStore;
use hauski_brain::{Conversation, FinishReason, GenerationParams};
use hauski_voice::{ASR_RATE, PiperVoice, Transcriber, VadConfig, VoiceError, speech_span, split_sentences};
use serde::Serialize;

use crate::assistant::Allow;
use crate::assistant::context::{TurnContext, prompt_for};
use crate::assistant::intents::{Intent, act_on_memory, recognise};
use crate::assistant::sentences::SentenceStream;

/// What HausKI says when the model produced nothing speakable.
pub const FALLBACK_ANSWER: &str = "Sorry, I have no answer to that.";

/// Finds a question's context: the memories and notes that fit it.
pub type ContextFinder<'a> = dyn Fn(&str) -> Result<TurnContext> + 'a;

/// The dialogue side of a turn: the conversation, its memory and settings.
pub struct Dialogue<'a, 'm> {
    pub conversation: &'a mut Conversation<'m>,
    pub memory: &'a MemoryStore,
    /// `--system`, replacing HausKI's own prompt.
    pub custom_system: Option<&'a str>,
    /// Finds the memories and notes for the question.
    pub context: &'a ContextFinder<'a>,
    pub params: &'a GenerationParams,
}

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
    /// What a memory command did ("remembered 12"), when the turn was one.
    pub memory_action: Option<String>,
    /// The notes the answer was given, "path › heading".
    pub sources: Vec<String>,
    /// The memories and notes that went into the prompt, with their scores.
    pub context: TurnContext,
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
    dialogue: Dialogue<'_, '_>,
    samples: &[f32],
    source_name: &str,
    vad: &VadConfig,
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

    // Memory commands are answered directly, before the LLM: the only
    // intents `converse` acts on (it has no daemon, so no profile to switch).
    let allow = Allow {
        memory_writes: true,
        ..Allow::NONE
    };
    let direct = match recognise(&transcript.text, allow, None) {
        Some(Intent::Memory(intent)) => {
            let done = act_on_memory(dialogue.memory, intent)?;
            Some((done.reply, done.change.unwrap_or_default()))
        }
        _ => None,
    };
    let Dialogue {
        conversation,
        memory: _,
        custom_system,
        context,
        params,
    } = dialogue;
    if let Some((answer, action)) = direct {
        return speak_direct_answer(
            engines.voice,
            transcript.text,
            answer,
            action,
            speech_end,
            timings,
        );
    }
    let context = context(&transcript.text)?;
    let messages = prompt_for(custom_system, &transcript.text, &context);
    let (sentences_tx, sentences_rx) = mpsc::sync_channel::<String>(8);
    let voice = engines.voice;

    let (stats, tts) = std::thread::scope(|scope| {
        let tts_worker = scope.spawn(move || speak_sentences(voice, sentences_rx));
        let mut stream = SentenceStream::default();
        let llm_started = Instant::now();
        let stats = conversation.generate_chat(&messages, params, |piece| {
            for sentence in stream.push(piece) {
                if sentences_tx.send(sentence).is_err() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        let spoke_any = match &stats {
            Ok(s) => !s.text.trim().is_empty(),
            Err(_) => false,
        };
        if let Some(rest) = stream.finish() {
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
        memory_action: None,
        sources: context.sources(),
        context,
        answer_audio_s: tts.audio.len() as f64 / f64::from(sample_rate),
        audio: tts.audio,
        sample_rate,
        timings,
    })
}

/// Speaks a reply that needs no LLM (memory commands), through the same TTS stage.
fn speak_direct_answer(
    voice: &PiperVoice,
    transcript: String,
    answer: String,
    action: String,
    speech_end: Instant,
    mut timings: StageTimings,
) -> Result<ConverseOutcome> {
    let (tx, rx) = mpsc::sync_channel::<String>(8);
    for sentence in split_sentences(&answer) {
        // The channel holds 8; a direct reply is one or two sentences.
        tx.send(sentence).map_err(|_| anyhow!("the TTS stage stopped"))?;
    }
    drop(tx);
    let tts = speak_sentences(voice, rx)?;
    timings.tts_first_sentence_ms = tts.first_sentence_ms;
    timings.tts_total_ms = tts.total_ms;
    timings.speech_end_to_first_audio_ms = tts
        .first_audio_at
        .map_or(0.0, |t| ms(t.saturating_duration_since(speech_end)));
    let sample_rate = voice.sample_rate();
    Ok(ConverseOutcome {
        transcript,
        answer,
        finish_reason: "memory".to_string(),
        prompt_tokens: 0,
        prompt_tokens_evaluated: 0,
        completion_tokens: 0,
        memory_action: Some(action),
        sources: Vec::new(),
        context: TurnContext::default(),
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
            spoken.audio = voice.edge_pad();
        } else {
            spoken.audio.extend(voice.sentence_gap());
        }
        spoken.audio.extend_from_slice(&audio);
    }
    if spoken.first_audio_at.is_some() {
        spoken.audio.extend(voice.edge_pad());
    }
    Ok(spoken)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
