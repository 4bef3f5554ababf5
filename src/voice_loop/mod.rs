//! The hands-free voice loop inside `hauski serve`, in vector.dev's shape:
//! PipeWire capture (source) → 16 kHz blocks → wake word (in process, `hauski_voice::wake`) →
//! endpointing with partial transcripts → Whisper → profile/memory intents or
//! the LLM (streamed) → sentences → Piper → the active profile's sink.
//!
//! Saying the wake word while HausKI speaks (barge-in) stops playback at
//! once, cancels the answer and starts listening again.

mod listener;
mod partials;
mod read_aloud;
mod speaker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use hauski_audio::live::{Capture, CaptureConfig, Playback, PlaybackEvent};
use hauski_voice::wake::WakeEngine;
use hauski_voice::{ASR_RATE, VadConfig};

use crate::assistant::bus::{Bus, Event};
use crate::assistant::context::{TurnContext, prompt_for};
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::assistant::health::State;
use crate::assistant::listening::DID_NOT_CATCH;
use crate::assistant::sentences::{Spoken, SpokenAnswer};
use crate::assistant::turn_end;
use crate::assistant::turn_gate::{Speculation, TurnGate};
use crate::assistant::{Allow, SharedAssistant};
use crate::config::Profile;
use crate::llm_pool::GenerationEvent;
use crate::wake_watch::WakeWatch;
use listener::{Action, Listener, Reports};
use partials::Partials;
use speaker::{Sentence, Speaker};

/// Where the loop listens and plays.
#[derive(Debug, Clone, Default)]
pub struct VoiceConfig {
    /// Capture node (default: the system's default source).
    pub source: Option<String>,
    /// Capture a sink's monitor (a virtual microphone fed by another program).
    pub source_monitor: bool,
}

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
    let expected = crate::assistant::intents::expected_words(state.profile.profiles());
    partial_asr.expect_words(&expected);
    if let Some(transcriber) = &state.engines.transcriber {
        transcriber.expect_words(&expected);
    }
    let wake = state.wake_words.engine(&[])?;
    let profile = active_profile(&state).ok_or("profiles.yaml names no active profile")?;
    let rate = voice.lock().unwrap_or_else(|p| p.into_inner()).sample_rate();
    let (playback, playback_events) =
        Playback::start(&profile.sink, rate, None).map_err(|e| e.to_string())?;
    let playback = Arc::new(playback);
    apply_profile(&state, &profile, &playback);
    follow_profile(state.clone(), playback.clone()).map_err(|e| e.to_string())?;
    let speaker = Speaker::start(voice, playback.clone(), state.clone()).map_err(|e| e.to_string())?;
    read_aloud::start(&state, &speaker).map_err(|e| e.to_string())?;
    let assistant = state.clone();
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
            let state = parts.state.clone();
            if let Err(e) = listen(&parts, &frames, &playback, &speaker) {
                tracing::error!(error = %e, "the voice loop stopped");
                state.health.set("voice_loop", State::Down, e);
            }
        })
        .map_err(|e| e.to_string())?;
    tracing::info!(source = ?config.source, "voice loop listening for the wake word");
    assistant.health.up("voice_loop");
    Ok(VoiceLoop { _running: () })
}

/// Logs what playback reports; a sink lost mid-answer ends that answer (the
/// rest would otherwise play, out of context, when the sink returns).
fn follow_playback(events: &Receiver<PlaybackEvent>, speaker: &Speaker) {
    for event in events {
        match event {
            PlaybackEvent::Drained => {
                tracing::info!("answer played");
                speaker.stopped(false);
            }
            PlaybackEvent::SinkLost { sink, dropped_s } => {
                speaker.next_epoch();
                tracing::warn!(%sink, dropped_s, "the sink vanished mid-answer; the rest of the answer was dropped");
            }
            PlaybackEvent::SinkBack { sink } => tracing::info!(%sink, "the sink is back"),
        }
    }
}

/// The sink of the profile `name`, if profiles.yaml still holds it.
fn profile_sink(state: &SharedAssistant, name: &str) -> Option<String> {
    state
        .profile
        .profiles()
        .profiles
        .get(name)
        .map(|p| p.sink.clone())
}

/// The active profile's settings; profiles.yaml was validated to hold it.
fn active_profile(state: &SharedAssistant) -> Option<Profile> {
    state.profile.settings()
}

/// The profile's voice pace, loudness and liveliness, and whether others are ducked.
fn apply_profile(state: &SharedAssistant, profile: &Profile, playback: &Playback) {
    playback.set_ducking(profile.duck_others.then_some(DUCK_OTHERS_TO));
    if let Some(voice) = &state.engines.voice {
        crate::assistant::use_profile(&mut voice.lock().unwrap_or_else(|p| p.into_inner()), profile);
    }
}

/// The edge around the [`Listener`]: feeds it the capture's blocks and the
/// wake word's detections, and carries out what it decides.
fn listen(
    parts: &Parts,
    frames: &Receiver<Vec<f32>>,
    playback: &Arc<Playback>,
    speaker: &Speaker,
) -> Result<(), String> {
    let health = parts.state.clone();
    let report = Box::new(move |down: Option<&str>| match down {
        None => health.health.up("wake"),
        Some(reason) => health.health.set("wake", State::Down, reason),
    });
    let mut wake = WakeWatch::start(parts.wake.clone(), report)?;
    let bus = &parts.state.bus;
    let partials = Partials::start(parts.partial_asr.clone(), bus)?;
    let hang_overs = parts.state.config.limits.speech.hang_overs();
    let mut listener = Listener::new(parts.vad.clone(), hang_overs);
    // The partial transcript in flight, stopped when a turn needs the cores.
    let mut partial_abort = Arc::new(AtomicBool::new(false));
    let mut speculation: Option<Speculation> = None;
    // Whether playback is paused for a wake word the next chunk may confirm.
    let mut held = false;
    for block in frames {
        parts.state.health.beat("voice_loop");
        let detections = wake.push(&block);
        // A barge-in's first chunk silences the answer at once; the chunk
        // that confirms it stops playback, one that does not plays on.
        if wake.undecided() && !held {
            tracing::debug!("a wake word may be coming; playback paused");
            playback.pause();
            held = true;
        }
        let reports = Reports {
            detections: &detections,
            partials_published: partials.published(),
            partial_cost_s: partials.cost_s(),
            turn_end: speculation.as_ref().and_then(|s| s.turn.verdict()),
        };
        for action in listener.step(&block, &reports) {
            match action {
                Action::Wake { name, score } => {
                    let _span = tracing::info_span!("wake").entered();
                    let lag_ms = wake.detection_lag_ms(&detections);
                    if let Some(lag_ms) = lag_ms {
                        parts.state.observe_stage("wake", lag_ms);
                    }
                    let interrupted = playback.stop();
                    let epoch = speaker.next_epoch();
                    if interrupted > 0.0 {
                        tracing::info!(dropped_s = interrupted, epoch, "barge-in: playback stopped");
                        speaker.stopped(true);
                    }
                    tracing::info!(%name, score, lag_ms, "wake word detected; listening");
                    bus.publish(Event::Wake { name, score });
                }
                Action::SpeechStarted { after_wake_ms } => bus.publish(Event::VadStart { after_wake_ms }),
                Action::SpeechEnded {
                    after_wake_ms,
                    waited_ms,
                } => {
                    parts.state.observe_stage("vad_end", waited_ms as f64);
                    bus.publish(Event::VadEnd { after_wake_ms });
                }
                Action::StopPartial => partial_abort.store(true, Ordering::Relaxed),
                Action::StartTurn {
                    question,
                    speculative,
                } => {
                    let gate = if speculative {
                        let started = Speculation::start();
                        let gate = started.turn.clone();
                        speculation = Some(started);
                        gate
                    } else {
                        TurnGate::confirmed(Instant::now())
                    };
                    start_turn(parts, question, gate, speaker.current(), speaker);
                }
                Action::Confirm => {
                    tracing::debug!("speech over; the speculative answer goes ahead");
                    if let Some(s) = speculation.take() {
                        s.confirm(Instant::now());
                    }
                }
                // Dropping the speculation abandons its turn.
                Action::Abandon => speculation = None,
                Action::OfferPartial => {
                    if let Some(abort) = partials.offer(listener.question_so_far()) {
                        listener.partial_offered();
                        partial_abort = abort;
                    }
                }
                Action::GiveUp => {}
            }
        }
        if held && !wake.undecided() {
            // Stopped by the wake word's action, or not confirmed: plays on.
            playback.resume();
            held = false;
        }
    }
    Err("the capture stopped".into())
}

/// Re-targets playback and the voice on every profile switch (over the
/// API, by voice, from a satellite), from a thread of its own: the switch
/// must not wait for the capture's next block, which a stalled or missing
/// microphone never sends, while messages and alarms still play.
fn follow_profile(state: SharedAssistant, playback: Arc<Playback>) -> std::io::Result<()> {
    let mut events = state.bus.subscribe();
    std::thread::Builder::new()
        .name("follow-profile".into())
        .spawn(move || {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match events.blocking_recv() {
                    Ok(Event::ProfileChanged { .. }) | Err(RecvError::Lagged(_)) => {
                        retarget(&state, &playback)
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        })?;
    Ok(())
}

/// Plays answers on the active profile's sink, with its voice settings.
fn retarget(state: &SharedAssistant, playback: &Playback) {
    if let Some(profile) = active_profile(state) {
        tracing::info!(profile = %state.profile.name(), sink = %profile.sink, "answers now play here");
        playback.set_sink(&profile.sink);
        apply_profile(state, &profile, playback);
    }
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
    turn: Arc<TurnGate>,
    epoch: u64,
    speaker: Speaker,
}

impl TurnWorker {
    fn answer(&self, question: &[f32]) {
        let _span = tracing::info_span!("turn", epoch = self.epoch).entered();
        self.keep_recording(question);
        let Some(transcriber) = self.state.engines.transcriber.clone() else {
            return;
        };
        let text = {
            let _span = tracing::info_span!("asr", samples = question.len()).entered();
            let started = std::time::Instant::now();
            match transcriber.transcribe_live(question, ASR_RATE, Some(self.turn.abandoned_flag())) {
                Ok(t) => {
                    self.state
                        .observe_stage("asr", started.elapsed().as_secs_f64() * 1000.0);
                    t.text.trim().to_string()
                }
                Err(hauski_voice::VoiceError::Aborted) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not transcribe the question");
                    return;
                }
            }
        };
        let intent = self.state.recognise(&text, Allow::ALL);
        // A speculative transcript is the question so far: subscribers get it
        // as a partial (the periodic partial gave its core to this turn), and
        // the listener learns whether its words end the turn.
        if self.turn.settled().is_none() {
            let verdict = turn_end::judge(&text, intent.is_some());
            tracing::debug!(?verdict, transcript = %text, "turn end judged");
            self.turn.judged(verdict);
            if !text.is_empty() {
                emit_partial(&self.state.bus, &text);
            }
        }
        if text.is_empty() {
            // Speech, but no words in it: say so rather than stay silent.
            if self.turn.wait().is_some() {
                tracing::info!("heard speech but no words");
                self.say_all(DID_NOT_CATCH.to_string());
            }
            return;
        }
        let Some(intent) = intent else {
            if self.state.wants_skill_tools(&text, Allow::ALL) {
                self.act_by_llm(&text);
            } else {
                self.ask_llm(text);
            }
            return;
        };
        // Intents change things: only once the question is surely over.
        if self.turn.wait().is_none() {
            return;
        }
        self.heard(&text);
        // The speaker plays the reply on the sink of the profile active
        // then: a switch is heard in its new room.
        match self.state.act(intent) {
            Ok(done) => self.say_all(done.reply),
            Err(e) => tracing::error!(error = %e, "the spoken command failed"),
        }
    }

    /// Keeps the utterance, encrypted, when the owner keeps recordings: once
    /// the turn is confirmed (an abandoned speculation's audio is a prefix
    /// of the confirmed turn's), off this thread.
    fn keep_recording(&self, question: &[f32]) {
        let Some(recordings) = self.state.recordings.clone() else {
            return;
        };
        let (turn, audio) = (self.turn.clone(), question.to_vec());
        let said_at = {
            use hauski_brain::memory::{Clock, SystemClock};
            SystemClock.now_ms()
        };
        let spawned = std::thread::Builder::new()
            .name("recording".into())
            .spawn(move || {
                if turn.wait().is_some()
                    && let Err(e) = recordings.keep(&audio, ASR_RATE, said_at)
                {
                    tracing::warn!(error = %e, "the utterance could not be kept");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the utterance is not kept");
        }
    }

    /// A request about a skill the fast path missed: the LLM picks the
    /// call, once the question is surely over (it changes things).
    fn act_by_llm(&self, text: &str) {
        if self.turn.wait().is_none() {
            return;
        }
        self.heard(text);
        match self.state.act_by_llm(text, Door::Voice) {
            Ok(done) => self.say_all(done.reply),
            Err(e) => {
                tracing::error!(error = %e, "the skill request failed");
                self.say_all(crate::pipeline::FALLBACK_ANSWER.to_string());
            }
        }
    }

    /// The question as heard, once its turn is confirmed.
    fn heard(&self, text: &str) {
        tracing::info!(transcript = %text, "heard");
        self.state.bus.publish(Event::AsrFinal {
            text: text.to_string(),
        });
        self.state.bus.publish(Event::TurnStart {
            door: Door::Voice.name().into(),
            question: text.to_string(),
        });
    }

    fn say(&self, text: String, last: bool) {
        self.speaker.say(Sentence {
            epoch: self.epoch,
            text,
            turn: self.turn.clone(),
            last,
            chime: false,
            sink: None,
        });
    }

    /// A whole reply in one go (intents).
    fn say_all(&self, reply: String) {
        tracing::info!(answer = %reply, "answer");
        self.state.bus.publish(Event::TurnEnd {
            door: Door::Voice.name().into(),
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
        let generation = match pool.submit(messages, params) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "the LLM is busy");
                return;
            }
        };
        let mut announced = false;
        let mut answer = SpokenAnswer::new(generation);
        while let Some(step) = answer.next_step() {
            match self.turn.settled() {
                Some(None) => {
                    answer.cancel();
                    return;
                }
                Some(Some(_)) if !announced => {
                    announced = true;
                    self.heard(&question);
                }
                _ => {}
            }
            if self.speaker.current() != self.epoch {
                answer.cancel();
                tracing::info!("answer cancelled by barge-in");
                return;
            }
            let Spoken::Sentence { text, last } = step else {
                continue;
            };
            self.say(text, last);
            if !last {
                continue;
            }
            // A short answer can be complete before the pause is known to be
            // the end: it is told only if it is.
            if self.turn.wait().is_none() {
                return;
            }
            if !announced {
                self.heard(&question);
            }
            let whole = answer.text().to_string();
            tracing::info!(answer = %whole, "answer");
            self.state.bus.publish(Event::TurnEnd {
                door: Door::Voice.name().into(),
                answer: whole,
            });
            return;
        }
    }
}
