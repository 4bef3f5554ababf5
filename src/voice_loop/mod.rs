//! The hands-free voice loop inside `hauski serve`, in vector.dev's shape:
//! PipeWire capture (source) → 16 kHz blocks → wake word (hauski-wake) →
//! endpointing with partial transcripts → Whisper → profile/memory intents or
//! the LLM (streamed) → sentences → Piper → the active profile's sink.
//!
//! Saying the wake word while HausKI speaks (barge-in) stops playback at
//! once, cancels the answer and starts listening again.

mod profile_intent;
mod speaker;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use hauski_audio::live::{Capture, CaptureConfig, Playback, PlaybackEvent};
use hauski_brain::memory::{MemoryStore, parse_intent};
use hauski_brain::{ChatMessage, ChatRole, GenerationParams};
use hauski_voice::wake::{WakeEngine, WakeSettings};
use hauski_voice::{ASR_RATE, Endpointer, SpeechEvent, VadConfig, split_sentences};
use tokio::sync::broadcast;

use crate::api::SharedState;
use crate::config::Profile;
use crate::llm_pool::GenerationEvent;
use profile_intent::ProfileIntent;
use speaker::{Sentence, Speaker};

/// Where the loop listens and plays.
#[derive(Debug, Clone, Default)]
pub struct VoiceConfig {
    /// Capture node (default: the system's default source).
    pub source: Option<String>,
    /// Capture a sink's monitor (a virtual microphone fed by another program).
    pub source_monitor: bool,
}

/// What the loop tells in-process subscribers (and the log).
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceEvent {
    WakeWord { name: String },
    Partial(String),
    Heard(String),
    Answer(String),
}

/// Quiet time after the wake word before HausKI gives up listening.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(6);
/// Longest question; longer speech is cut here.
const MAX_UTTERANCE_S: usize = 20;
/// How often a partial transcript is made while the speaker talks.
const PARTIAL_EVERY_S: f64 = 0.5;
/// Audio kept from before the wake detection, so the question's first
/// syllable survives a late detection.
const PRE_ROLL_S: f64 = 0.25;

pub struct VoiceLoop {
    events: broadcast::Sender<VoiceEvent>,
}

impl VoiceLoop {
    /// In-process subscribers: wake words, partial and final transcripts, answers.
    pub fn subscribe(&self) -> broadcast::Receiver<VoiceEvent> {
        self.events.subscribe()
    }
}

/// Everything the loop needs from the daemon; checked before anything starts.
struct Parts {
    state: SharedState,
    /// Partial transcripts get a Whisper state of their own, so the final
    /// transcript never waits for one in flight.
    partial_asr: Arc<hauski_voice::Transcriber>,
    wake: WakeEngine,
    memory: Option<MemoryStore>,
    vad: VadConfig,
}

/// Starts the loop, or says why it cannot run here (no PipeWire, no wake
/// engine, a model missing); the daemon then serves without it.
pub fn start(
    state: SharedState,
    partial_asr: hauski_voice::Transcriber,
    memory: Option<MemoryStore>,
    vad: VadConfig,
    config: &VoiceConfig,
) -> Result<VoiceLoop, String> {
    hauski_audio::live::probe(None).map_err(|e| e.to_string())?;
    let voice = state.engines.voice.clone().ok_or("no voice is loaded")?;
    if state.engines.transcriber.is_none() || state.engines.llm.is_none() {
        return Err("speech recognition and the LLM must both be loaded".into());
    }
    let wake = state.wake_words.engine(&[])?;
    let wake = wake.clone().with_settings(WakeSettings {
        eager: true,
        ..wake.settings()
    });
    let profile = active_profile(&state).ok_or("profiles.yaml names no active profile")?;
    let rate = voice.lock().unwrap_or_else(|p| p.into_inner()).sample_rate();
    let (playback, playback_events) =
        Playback::start(&profile.sink, rate, None).map_err(|e| e.to_string())?;
    let playback = Arc::new(playback);
    apply_voice_settings(&state, &profile);
    let speaker = Speaker::start(voice, playback.clone()).map_err(|e| e.to_string())?;
    let capture_config = CaptureConfig::new(config.source.clone(), config.source_monitor, ASR_RATE);
    let (capture, frames) = Capture::start(capture_config).map_err(|e| e.to_string())?;
    let (events, _) = broadcast::channel(64);
    let playback_speaker = speaker.clone();
    std::thread::Builder::new()
        .name("playback-events".into())
        .spawn(move || follow_playback(&playback_events, &playback_speaker))
        .map_err(|e| e.to_string())?;
    let parts = Parts {
        state,
        partial_asr: Arc::new(partial_asr),
        wake,
        memory,
        vad,
    };
    let loop_events = events.clone();
    std::thread::Builder::new()
        .name("voice-loop".into())
        .spawn(move || {
            // The capture lives as long as the loop.
            let _capture = capture;
            if let Err(e) = listen(&parts, &frames, &playback, &speaker, &loop_events) {
                tracing::error!(error = %e, "the voice loop stopped");
            }
        })
        .map_err(|e| e.to_string())?;
    tracing::info!(source = ?config.source, "voice loop listening for the wake word");
    Ok(VoiceLoop { events })
}

/// Logs what playback reports; a sink lost mid-answer ends that answer (the
/// rest would otherwise play, out of context, when the sink returns).
fn follow_playback(events: &Receiver<PlaybackEvent>, speaker: &Speaker) {
    for event in events {
        match event {
            PlaybackEvent::Drained => tracing::info!("answer played"),
            PlaybackEvent::SinkLost { sink, dropped_s } => {
                speaker.next_epoch();
                tracing::warn!(%sink, dropped_s, "the sink vanished mid-answer; the rest of the answer was dropped");
            }
            PlaybackEvent::SinkBack { sink } => tracing::info!(%sink, "the sink is back"),
        }
    }
}

/// The active profile's settings; profiles.yaml was validated to hold it.
fn active_profile(state: &SharedState) -> Option<Profile> {
    let profiles = state.profile.profiles();
    profiles
        .profiles
        .get(&state.profile.name())
        .or_else(|| profiles.active_profile())
        .cloned()
}

/// The profile's voice pace, loudness and liveliness.
fn apply_voice_settings(state: &SharedState, profile: &Profile) {
    if let Some(voice) = &state.engines.voice {
        let mut voice = voice.lock().unwrap_or_else(|p| p.into_inner());
        voice.set_speaking_rate(profile.speaking_rate);
        voice.set_volume(profile.volume);
        voice.set_variation(profile.variation);
    }
}

enum Mode {
    /// Waiting for the wake word.
    Idle,
    /// After the wake word: endpointing the question.
    Listening {
        endpointer: Endpointer,
        audio: Vec<f32>,
        since: Instant,
        speech_started: bool,
        last_partial_at: usize,
    },
}

fn listen(
    parts: &Parts,
    frames: &Receiver<Vec<f32>>,
    playback: &Arc<Playback>,
    speaker: &Speaker,
    events: &broadcast::Sender<VoiceEvent>,
) -> Result<(), String> {
    let mut wake = parts.wake.stream().map_err(|e| e.to_string())?;
    let partials = start_partials(parts, events)?;
    let mut mode = Mode::Idle;
    let mut recent: VecDeque<f32> = VecDeque::with_capacity(ASR_RATE as usize);
    let pre_roll = (PRE_ROLL_S * f64::from(ASR_RATE)) as usize;
    let mut profile_name = parts.state.profile.name();
    for block in frames {
        wake.push(&block).map_err(|e| e.to_string())?;
        recent.extend(block.iter().copied());
        while recent.len() > pre_roll {
            recent.pop_front();
        }
        // A switch made over the API (or by voice) re-targets playback.
        let now_active = parts.state.profile.name();
        if now_active != profile_name {
            profile_name = now_active;
            if let Some(profile) = active_profile(&parts.state) {
                tracing::info!(profile = %profile_name, sink = %profile.sink, "answers now play here");
                playback.set_sink(&profile.sink);
                apply_voice_settings(&parts.state, &profile);
            }
        }
        while let Ok(detection) = wake.detections.try_recv() {
            // While the question is being spoken, a "detection" is the
            // question itself scoring high: it must not restart listening.
            if matches!(mode, Mode::Listening { .. }) {
                tracing::debug!(score = detection.score, "wake word ignored while listening");
                continue;
            }
            let _span = tracing::info_span!("wake").entered();
            let interrupted = playback.stop();
            let epoch = speaker.next_epoch();
            if interrupted > 0.0 {
                tracing::info!(dropped_s = interrupted, epoch, "barge-in: playback stopped");
            }
            tracing::info!(name = %detection.name, score = detection.score, "wake word detected; listening");
            let _ = events.send(VoiceEvent::WakeWord {
                name: detection.name.clone(),
            });
            mode = Mode::Listening {
                endpointer: Endpointer::new(parts.vad.clone()),
                audio: recent.iter().copied().collect(),
                since: Instant::now(),
                speech_started: false,
                last_partial_at: 0,
            };
        }
        let Mode::Listening {
            endpointer,
            audio,
            since,
            speech_started,
            last_partial_at,
        } = &mut mode
        else {
            continue;
        };
        audio.extend_from_slice(&block);
        let mut ended = None;
        for event in endpointer.push(&block) {
            match event {
                SpeechEvent::Started { .. } => *speech_started = true,
                SpeechEvent::Ended { at_sample } => ended = Some(at_sample),
            }
        }
        if ended.is_none() && audio.len() > MAX_UTTERANCE_S * ASR_RATE as usize {
            ended = Some(audio.len());
        }
        if let Some(end) = ended {
            let speech_end = Instant::now();
            let question: Vec<f32> = audio[..end.min(audio.len())].to_vec();
            mode = Mode::Idle;
            let epoch = speaker.current();
            answer(parts, &question, speech_end, epoch, speaker, events);
            continue;
        }
        if !*speech_started && since.elapsed() > LISTEN_TIMEOUT {
            tracing::info!("heard nothing after the wake word; waiting for it again");
            mode = Mode::Idle;
            continue;
        }
        if *speech_started && (audio.len() - *last_partial_at) as f64 >= PARTIAL_EVERY_S * f64::from(ASR_RATE)
        {
            *last_partial_at = audio.len();
            // At most one in flight: when ASR is busy, this partial is skipped.
            let _ = partials.try_send(audio.clone());
        }
    }
    Err("the capture stopped".into())
}

/// Partial transcripts on their own thread, so endpointing never waits for them.
fn start_partials(
    parts: &Parts,
    events: &broadcast::Sender<VoiceEvent>,
) -> Result<std::sync::mpsc::SyncSender<Vec<f32>>, String> {
    let transcriber = parts.partial_asr.clone();
    let events = events.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<f32>>(0);
    std::thread::Builder::new()
        .name("asr-partial".into())
        .spawn(move || {
            for audio in rx {
                let _span = tracing::debug_span!("asr_partial", samples = audio.len()).entered();
                match transcriber.transcribe(&audio, ASR_RATE) {
                    Ok(t) if !t.text.trim().is_empty() => {
                        tracing::info!(partial = %t.text.trim(), "partial transcript");
                        let _ = events.send(VoiceEvent::Partial(t.text.trim().to_string()));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "partial transcript failed"),
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(tx)
}

/// The final transcript, then an intent or the LLM; the answer is spoken
/// sentence by sentence. Runs on its own thread so barge-in stays possible.
fn answer(
    parts: &Parts,
    question: &[f32],
    speech_end: Instant,
    epoch: u64,
    speaker: &Speaker,
    events: &broadcast::Sender<VoiceEvent>,
) {
    let Some(transcriber) = parts.state.engines.transcriber.clone() else {
        return;
    };
    let text = {
        let _span = tracing::info_span!("asr", samples = question.len()).entered();
        match transcriber.transcribe(question, ASR_RATE) {
            Ok(t) => t.text.trim().to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "could not transcribe the question");
                return;
            }
        }
    };
    if text.is_empty() {
        tracing::info!("the question was empty");
        return;
    }
    tracing::info!(transcript = %text, "heard");
    let _ = events.send(VoiceEvent::Heard(text.clone()));

    let say_now = |reply: String| {
        tracing::info!(answer = %reply, "answer");
        let _ = events.send(VoiceEvent::Answer(reply.clone()));
        speaker.say(Sentence {
            epoch,
            text: reply,
            speech_end: Some(speech_end),
            last: true,
        });
    };
    match profile_intent::parse(&text, parts.state.profile.profiles()) {
        Some(ProfileIntent::Switch(name)) => match parts.state.profile.set(&name) {
            // The loop sees the new profile at its next block and re-targets
            // playback before this confirmation is played.
            Ok(name) => {
                // "kueche" read aloud by an English voice is "cute": say its first synonym.
                let profiles = parts.state.profile.profiles();
                let spoken = profiles
                    .profiles
                    .get(&name)
                    .and_then(|p| p.synonyms.first())
                    .unwrap_or(&name);
                say_now(format!("Switched to the {spoken} profile."));
            }
            Err(e) => tracing::error!(error = %e, "profile switch failed"),
        },
        Some(ProfileIntent::Unknown(name)) => {
            let known = parts.state.profile.profiles().known_names();
            tracing::warn!(profile = %name, %known, "unknown profile asked for");
            say_now(format!("I don't know a profile called {name}; I know {known}."));
        }
        None => {
            if let (Some(intent), Some(memory)) = (parse_intent(&text), &parts.memory) {
                match crate::pipeline::act_on_memory(memory, intent) {
                    Ok((reply, _)) => say_now(reply),
                    Err(e) => tracing::error!(error = %e, "memory command failed"),
                }
                return;
            }
            ask_llm(parts, text, speech_end, epoch, speaker, events);
        }
    }
}

fn ask_llm(
    parts: &Parts,
    question: String,
    speech_end: Instant,
    epoch: u64,
    speaker: &Speaker,
    events: &broadcast::Sender<VoiceEvent>,
) {
    let Some(pool) = &parts.state.engines.llm else {
        return;
    };
    let memories = parts
        .memory
        .as_ref()
        .and_then(|m| m.recent(parts.state.config.memory.prompt_entries).ok())
        .unwrap_or_default();
    let mut system = crate::pipeline::system_prompt(None, &memories);
    if let Some(notes) = &parts.state.notes
        && let Ok(context) = notes.retrieve(&question)
        && !context.prompt.is_empty()
    {
        system = format!("{system}\n\n{}", context.prompt.trim());
    }
    let limits = &parts.state.config.limits.llm;
    let params = GenerationParams {
        max_tokens: limits.max_tokens,
        temperature: limits.temperature,
        seed: limits.seed,
        stop: Vec::new(),
        ..GenerationParams::default()
    };
    let messages = vec![
        ChatMessage::new(ChatRole::System, system),
        ChatMessage::new(ChatRole::User, question),
    ];
    let mut generation = match pool.submit(messages, params) {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "the LLM is busy");
            return;
        }
    };
    let speaker = speaker.clone();
    let events = events.clone();
    let spawned = std::thread::Builder::new().name("answer".into()).spawn(move || {
        let _span = tracing::info_span!("answer", epoch).entered();
        let mut pending = String::new();
        let mut first = true;
        let mut whole = String::new();
        while let Some(event) = generation.events.blocking_recv() {
            if speaker.current() != epoch {
                generation.cancel();
                tracing::info!("answer cancelled by barge-in");
                return;
            }
            match event {
                GenerationEvent::Text(piece) => {
                    pending.push_str(&piece);
                    whole.push_str(&piece);
                    let mut sentences = split_sentences(&pending);
                    if sentences.len() > 1 {
                        let keep = sentences.pop().unwrap_or_default();
                        for text in sentences {
                            speaker.say(Sentence {
                                epoch,
                                text,
                                speech_end: first.then_some(speech_end),
                                last: false,
                            });
                            first = false;
                        }
                        pending = keep;
                    }
                }
                GenerationEvent::Done(result) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "the answer failed");
                    }
                    let rest = pending.trim().to_string();
                    let rest = if rest.is_empty() && first {
                        crate::pipeline::FALLBACK_ANSWER.to_string()
                    } else {
                        rest
                    };
                    if !rest.is_empty() {
                        speaker.say(Sentence {
                            epoch,
                            text: rest,
                            speech_end: first.then_some(speech_end),
                            last: true,
                        });
                    }
                    tracing::info!(answer = %whole.trim(), "answer");
                    let _ = events.send(VoiceEvent::Answer(whole.trim().to_string()));
                    return;
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the answer thread");
    }
}
