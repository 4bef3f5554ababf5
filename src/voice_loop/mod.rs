//! The hands-free voice loop inside `hauski serve`, in vector.dev's shape:
//! PipeWire capture (source) → 16 kHz blocks → wake word (hauski-wake) →
//! endpointing with partial transcripts → Whisper → profile/memory intents or
//! the LLM (streamed) → sentences → Piper → the active profile's sink.
//!
//! Saying the wake word while HausKI speaks (barge-in) stops playback at
//! once, cancels the answer and starts listening again.

mod dismissal;
mod partials;
mod profile_intent;
mod speaker;
mod turn;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hauski_audio::live::{Capture, CaptureConfig, Playback, PlaybackEvent};
use hauski_brain::memory::{MemoryStore, parse_intent};
use hauski_voice::wake::{WakeEngine, WakeSettings};
use hauski_voice::{ASR_RATE, Endpointer, SpeechEvent, VadConfig};

use crate::assistant::bus::{Bus, Event};
use crate::assistant::context::{TurnContext, prompt_for};
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::assistant::sentences::SentenceStream;
use crate::assistant::{Allow, SharedAssistant};
use crate::config::Profile;
use crate::llm_pool::GenerationEvent;
use partials::{Partials, partial_due};
use profile_intent::ProfileIntent;
use speaker::{Sentence, Speaker};
use turn::{Speculation, TurnGate};

/// Where the loop listens and plays.
#[derive(Debug, Clone, Default)]
pub struct VoiceConfig {
    /// Capture node (default: the system's default source).
    pub source: Option<String>,
    /// Capture a sink's monitor (a virtual microphone fed by another program).
    pub source_monitor: bool,
}

/// Quiet time after the wake word before HausKI gives up listening.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(6);
/// Longest question; longer speech is cut here.
const MAX_UTTERANCE_S: usize = 20;
/// Audio kept from before the wake detection, so the question's first
/// syllable survives a late detection.
const PRE_ROLL_S: f64 = 0.25;
/// A pause this long starts answering speculatively (see `turn`): well
/// inside the hang-over, long enough that most gaps inside words do not.
/// Three VAD frames; at 120 ms the slowest answers (one long sentence)
/// were still being synthesised when the hang-over ended.
const SPECULATE_AFTER_MS: u32 = 90;
/// Audio kept past the last voiced frame for Whisper: the endpointer ends
/// speech where it falls 40 dB below its loudest, and a soft final consonant
/// may trail a little further.
const ASR_TAIL_S: f64 = 0.06;
/// The reply when the question held no words Whisper could make out.
const DID_NOT_CATCH: &str = "Sorry, I didn't catch that.";
/// The acknowledgement of "never mind", "stop" and the like.
const DISMISSED: &str = "Okay.";
/// What other programs' streams are turned down to while HausKI speaks, in
/// profiles with `duck_others` (about −14 dB: still audible, not in the way).
const DUCK_OTHERS_TO: f32 = 0.2;

/// The running loop; what it hears and says goes out on the core's bus.
pub struct VoiceLoop {
    _running: (),
}

/// Everything the loop needs from the daemon; checked before anything starts.
struct Parts {
    state: SharedAssistant,
    /// Partial transcripts get a Whisper state of their own, so the final
    /// transcript never waits for one in flight.
    partial_asr: Arc<hauski_voice::Transcriber>,
    wake: WakeEngine,
    vad: VadConfig,
}

/// Starts the loop, or says why it cannot run here (no PipeWire, no wake
/// engine, a model missing); the daemon then serves without it.
pub fn start(
    state: SharedAssistant,
    partial_asr: hauski_voice::Transcriber,
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
    apply_profile(&state, &profile, &playback);
    let speaker = Speaker::start(voice, playback.clone(), state.bus.clone()).map_err(|e| e.to_string())?;
    let parts = Parts {
        state,
        partial_asr: Arc::new(partial_asr),
        wake,
        vad,
    };
    warm_up(&parts);
    let capture_config = CaptureConfig::new(config.source.clone(), config.source_monitor, ASR_RATE);
    let (capture, frames) = Capture::start(capture_config).map_err(|e| e.to_string())?;
    let playback_speaker = speaker.clone();
    std::thread::Builder::new()
        .name("playback-events".into())
        .spawn(move || follow_playback(&playback_events, &playback_speaker))
        .map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("voice-loop".into())
        .spawn(move || {
            // The capture lives as long as the loop.
            let _capture = capture;
            if let Err(e) = listen(&parts, &frames, &playback, &speaker) {
                tracing::error!(error = %e, "the voice loop stopped");
            }
        })
        .map_err(|e| e.to_string())?;
    tracing::info!(source = ?config.source, "voice loop listening for the wake word");
    Ok(VoiceLoop { _running: () })
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
fn active_profile(state: &SharedAssistant) -> Option<Profile> {
    let profiles = state.profile.profiles();
    profiles
        .profiles
        .get(&state.profile.name())
        .or_else(|| profiles.active_profile())
        .cloned()
}

/// The profile's voice pace, loudness and liveliness, and whether others are ducked.
fn apply_profile(state: &SharedAssistant, profile: &Profile, playback: &Playback) {
    playback.set_ducking(profile.duck_others.then_some(DUCK_OTHERS_TO));
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
        /// The question so far: the pre-roll, then what the endpointer saw.
        audio: Vec<f32>,
        /// Samples of pre-roll at the start of `audio`.
        pre_roll: usize,
        since: Instant,
        /// Where speech started in `audio`, once it has.
        speech_start: Option<usize>,
        /// The length of `audio` when the last partial was offered.
        last_partial_at: Option<usize>,
        /// Partials published before this question: none since means the
        /// one in flight is the question's first.
        partials_before: usize,
        /// An answer started during a pause; dropping it abandons it.
        speculation: Option<Speculation>,
    },
}

fn listen(
    parts: &Parts,
    frames: &Receiver<Vec<f32>>,
    playback: &Arc<Playback>,
    speaker: &Speaker,
) -> Result<(), String> {
    let mut wake = parts.wake.stream().map_err(|e| e.to_string())?;
    let bus = &parts.state.bus;
    let partials = Partials::start(parts.partial_asr.clone(), bus)?;
    let mut mode = Mode::Idle;
    let mut recent: VecDeque<f32> = VecDeque::with_capacity(ASR_RATE as usize);
    let pre_roll = (PRE_ROLL_S * f64::from(ASR_RATE)) as usize;
    let mut profile_name = parts.state.profile.name();
    // The partial transcript in flight, stopped when a turn needs the cores.
    let mut partial_abort = Arc::new(AtomicBool::new(false));
    for block in frames {
        wake.push(&block).map_err(|e| e.to_string())?;
        recent.extend(block.iter().copied());
        let excess = recent.len().saturating_sub(pre_roll);
        recent.drain(..excess);
        // A switch made over the API (or by voice) re-targets playback.
        let now_active = parts.state.profile.name();
        if now_active != profile_name {
            profile_name = now_active;
            if let Some(profile) = active_profile(&parts.state) {
                tracing::info!(profile = %profile_name, sink = %profile.sink, "answers now play here");
                // A switch by voice or over the API was published where it was made.
                playback.set_sink(&profile.sink);
                apply_profile(&parts.state, &profile, playback);
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
            bus.publish(Event::Wake {
                name: detection.name.clone(),
                score: detection.score,
            });
            mode = Mode::Listening {
                endpointer: Endpointer::new(parts.vad.clone()),
                audio: recent.iter().copied().collect(),
                pre_roll: recent.len(),
                since: Instant::now(),
                speech_start: None,
                last_partial_at: None,
                partials_before: partials.published(),
                speculation: None,
            };
        }
        let Mode::Listening {
            endpointer,
            audio,
            pre_roll,
            since,
            speech_start,
            last_partial_at,
            partials_before,
            speculation,
        } = &mut mode
        else {
            continue;
        };
        audio.extend_from_slice(&block);
        let mut ended = None;
        for event in endpointer.push(&block) {
            match event {
                SpeechEvent::Started { at_sample } => {
                    speech_start.get_or_insert(*pre_roll + at_sample);
                }
                SpeechEvent::Ended { at_sample } => ended = Some(at_sample),
            }
        }
        if ended.is_none() && audio.len() > MAX_UTTERANCE_S * ASR_RATE as usize {
            ended = Some(audio.len());
        }
        // The partial in flight stops when a turn needs the cores, unless it
        // is the question's first: where transcribing is slow, the turn's
        // transcript comes well after the end of speech, and the speaker
        // would never see a word of the question while saying it.
        let first_partial_pending = partials.published() == *partials_before;
        if let Some(end) = ended {
            if !first_partial_pending {
                partial_abort.store(true, Ordering::Relaxed);
            }
            let speech_end = Instant::now();
            let question_end = (*pre_roll + end).min(audio.len());
            match speculation.take() {
                // The pause the answer started in was the end: it plays now.
                Some(s) if s.speech_until == question_end => {
                    tracing::debug!("speech over; the speculative answer goes ahead");
                    s.confirm(speech_end);
                }
                other => {
                    drop(other);
                    let question = with_tail(audio, question_end).to_vec();
                    let epoch = speaker.current();
                    start_turn(parts, question, TurnGate::confirmed(speech_end), epoch, speaker);
                }
            }
            mode = Mode::Idle;
            continue;
        }
        // The speaker went on after the pause: that answer is dropped unheard.
        let voiced_until = (*pre_roll + endpointer.last_voiced_end()).min(audio.len());
        if speculation
            .as_ref()
            .is_some_and(|s| s.speech_until != voiced_until)
        {
            tracing::info!("the speaker went on; speculative answer abandoned");
            *speculation = None;
        }
        if speculation.is_none() && endpointer.is_speaking() && endpointer.silence_ms() >= SPECULATE_AFTER_MS
        {
            // The speculative turn needs both cores to be ready by the end
            // of the hang-over; its own transcript is the next partial.
            if !first_partial_pending {
                partial_abort.store(true, Ordering::Relaxed);
            }
            let started = Speculation::start(voiced_until);
            let epoch = speaker.current();
            let question = with_tail(audio, voiced_until).to_vec();
            start_turn(parts, question, started.turn.clone(), epoch, speaker);
            *speculation = Some(started);
            continue;
        }
        if speech_start.is_none() && since.elapsed() > LISTEN_TIMEOUT {
            tracing::info!("heard nothing after the wake word; waiting for it again");
            mode = Mode::Idle;
            continue;
        }
        if let Some(start) = *speech_start
            && speculation.is_none()
            && partial_due(start, *last_partial_at, audio.len(), partials.cost_s())
            && let Some(abort) = partials.offer(audio)
        {
            *last_partial_at = Some(audio.len());
            partial_abort = abort;
        }
    }
    Err("the capture stopped".into())
}

/// The question up to `end`, and [`ASR_TAIL_S`] more where it was heard.
fn with_tail(audio: &[f32], end: usize) -> &[f32] {
    let tail = (ASR_TAIL_S * f64::from(ASR_RATE)) as usize;
    &audio[..(end + tail).min(audio.len())]
}

/// Runs each engine once before listening, so the first question does not
/// pay for first-run allocations (ONNX Runtime, Whisper's buffers for the
/// live window) or for evaluating the system prompt: that first answer
/// was 100–300 ms later than the rest.
fn warm_up(parts: &Parts) {
    let _span = tracing::info_span!("warm_up").entered();
    let second = vec![0.0; ASR_RATE as usize];
    for asr in [
        parts.state.engines.transcriber.as_deref(),
        Some(parts.partial_asr.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        if let Err(e) = asr.transcribe_live(&second, ASR_RATE, None) {
            tracing::warn!(error = %e, "warming up speech recognition failed");
        }
    }
    if let Some(voice) = &parts.state.engines.voice
        && let Err(e) = voice
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .synthesize("Hello.")
    {
        tracing::warn!(error = %e, "warming up the voice failed");
    }
    let Some(pool) = &parts.state.engines.llm else {
        return;
    };
    // The system prompt every spoken question's prompt starts with, so the
    // LLM keeps it cached.
    let messages = prompt_for(None, "Hello.", &TurnContext::default());
    let one_token = Requested {
        max_tokens: Some(1),
        ..Requested::default()
    };
    let params = match generation_params(&parts.state.config.limits, Door::Voice, &one_token) {
        Ok(params) => params,
        Err(e) => return tracing::warn!(error = %e, "warming up the LLM failed"),
    };
    match pool.submit(messages, params) {
        Ok(mut generation) => {
            while let Some(event) = generation.events.blocking_recv() {
                if let GenerationEvent::Done(Err(e)) = event {
                    tracing::warn!(error = %e, "warming up the LLM failed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "warming up the LLM failed"),
    }
}

/// A partial transcript, to the log and to in-process subscribers.
pub(super) fn emit_partial(bus: &Bus, text: &str) {
    tracing::info!(partial = %text, "partial transcript");
    bus.publish(Event::AsrPartial {
        text: text.to_string(),
    });
}

/// Answers one question on its own thread (so listening, and barge-in, go
/// on): the transcript, then an intent or the LLM, spoken sentence by
/// sentence. A speculative turn does everything but play and act until the
/// listener confirms it; abandoned, it stops and leaves no trace.
fn start_turn(parts: &Parts, question: Vec<f32>, turn: Arc<TurnGate>, epoch: u64, speaker: &Speaker) {
    let worker = TurnWorker {
        state: parts.state.clone(),
        memory: parts.state.memory.clone(),
        turn,
        epoch,
        speaker: speaker.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name("turn".into())
        .spawn(move || worker.answer(&question));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start answering");
    }
}

/// What one turn's thread needs.
struct TurnWorker {
    state: SharedAssistant,
    memory: Option<Arc<Mutex<MemoryStore>>>,
    turn: Arc<TurnGate>,
    epoch: u64,
    speaker: Speaker,
}

impl TurnWorker {
    fn answer(&self, question: &[f32]) {
        let _span = tracing::info_span!("turn", epoch = self.epoch).entered();
        let Some(transcriber) = self.state.engines.transcriber.clone() else {
            return;
        };
        let text = {
            let _span = tracing::info_span!("asr", samples = question.len()).entered();
            match transcriber.transcribe_live(question, ASR_RATE, Some(self.turn.abandoned_flag())) {
                Ok(t) => t.text.trim().to_string(),
                Err(hauski_voice::VoiceError::Aborted) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not transcribe the question");
                    return;
                }
            }
        };
        // A speculative transcript is the question so far: subscribers get it
        // as a partial (the periodic partial gave its core to this turn).
        if self.turn.settled().is_none() && !text.is_empty() {
            emit_partial(&self.state.bus, &text);
        }
        if text.is_empty() {
            // Speech, but no words in it: say so rather than stay silent.
            if self.turn.wait().is_some() {
                tracing::info!("heard speech but no words");
                self.say_all(DID_NOT_CATCH.to_string());
            }
            return;
        }
        if dismissal::is_dismissal(&text) {
            if self.turn.wait().is_some() {
                self.heard(&text);
                self.say_all(DISMISSED.to_string());
            }
            return;
        }
        let intent = profile_intent::parse(&text, self.state.profile.profiles());
        let memory_intent = parse_intent(&text).filter(|_| self.memory.is_some());
        if intent.is_none() && memory_intent.is_none() {
            self.ask_llm(text);
            return;
        }
        // Intents change things: only once the question is surely over.
        if self.turn.wait().is_none() {
            return;
        }
        self.heard(&text);
        match intent {
            Some(ProfileIntent::Switch(name)) => match self.state.set_profile(&name) {
                // The loop sees the new profile at its next block and re-targets
                // playback before this confirmation is played.
                Ok(name) => {
                    // "kueche" read aloud by an English voice is "cute": say its first synonym.
                    let profiles = self.state.profile.profiles();
                    let spoken = profiles
                        .profiles
                        .get(&name)
                        .and_then(|p| p.synonyms.first())
                        .unwrap_or(&name);
                    self.say_all(format!("Switched to the {spoken} profile."));
                }
                Err(e) => tracing::error!(error = %e, "profile switch failed"),
            },
            Some(ProfileIntent::Unknown(name)) => {
                let known = self.state.profile.profiles().known_names();
                tracing::warn!(profile = %name, %known, "unknown profile asked for");
                self.say_all(format!("I don't know a profile called {name}; I know {known}."));
            }
            None => {
                if let (Some(intent), Some(memory)) = (memory_intent, &self.memory) {
                    let memory = memory.lock().unwrap_or_else(|p| p.into_inner());
                    match crate::pipeline::act_on_memory(&memory, intent) {
                        Ok((reply, _)) => self.say_all(reply),
                        Err(e) => tracing::error!(error = %e, "memory command failed"),
                    }
                }
            }
        }
    }

    /// The question as heard, once its turn is confirmed.
    fn heard(&self, text: &str) {
        tracing::info!(transcript = %text, "heard");
        self.state.bus.publish(Event::AsrFinal {
            text: text.to_string(),
        });
    }

    fn say(&self, text: String, last: bool) {
        self.speaker.say(Sentence {
            epoch: self.epoch,
            text,
            turn: self.turn.clone(),
            last,
        });
    }

    /// A whole reply in one go (intents).
    fn say_all(&self, reply: String) {
        tracing::info!(answer = %reply, "answer");
        self.state.bus.publish(Event::TurnEnd {
            answer: reply.clone(),
        });
        self.say(reply, true);
    }

    fn ask_llm(&self, question: String) {
        let Some(pool) = &self.state.engines.llm else {
            return;
        };
        let context = self.state.context_for(&question, Allow::ALL).unwrap_or_else(|e| {
            tracing::warn!(error = %format!("{e:#}"), "no memories or notes for this answer");
            TurnContext::default()
        });
        let params = match generation_params(&self.state.config.limits, Door::Voice, &Requested::default()) {
            Ok(params) => params,
            Err(e) => {
                return tracing::error!(error = %e, "policies/limits.yaml's llm settings are out of bounds");
            }
        };
        let messages = prompt_for(None, &question, &context);
        let mut generation = match pool.submit(messages, params) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "the LLM is busy");
                return;
            }
        };
        let mut announced = false;
        let mut stream = SentenceStream::default();
        let mut spoken_any = false;
        while let Some(event) = generation.events.blocking_recv() {
            match self.turn.settled() {
                Some(None) => {
                    generation.cancel();
                    return;
                }
                Some(Some(_)) if !announced => {
                    announced = true;
                    self.heard(&question);
                }
                _ => {}
            }
            if self.speaker.current() != self.epoch {
                generation.cancel();
                tracing::info!("answer cancelled by barge-in");
                return;
            }
            match event {
                GenerationEvent::Text(piece) => {
                    for text in stream.push(&piece) {
                        self.say(text, false);
                        spoken_any = true;
                    }
                }
                GenerationEvent::Done(result) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "the answer failed");
                    }
                    let rest = stream
                        .finish()
                        .or_else(|| (!spoken_any).then(|| crate::pipeline::FALLBACK_ANSWER.to_string()));
                    if let Some(rest) = rest {
                        self.say(rest, true);
                    }
                    // A short answer can be complete before the pause is
                    // known to be the end: it is told only if it is.
                    if self.turn.wait().is_none() {
                        return;
                    }
                    if !announced {
                        self.heard(&question);
                    }
                    let whole = stream.text().trim().to_string();
                    tracing::info!(answer = %whole, "answer");
                    self.state.bus.publish(Event::TurnEnd { answer: whole });
                    return;
                }
            }
        }
    }
}
