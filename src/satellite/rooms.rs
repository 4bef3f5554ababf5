//! The main HausKI's side of the satellites, a front door like the voice
//! loop: it hears every satellite on NATS, settles which room answers a
//! wake word, transcribes the streamed question, answers it with the core
//! (the room is part of the turn) and streams the answer audio back to
//! that room only. A heartbeat tells the satellites the main is there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;

use super::arbiter::{Arbiter, Candidate, Decision};
use super::{ALIVE, ALIVE_EVERY, Claim, FROM_SATELLITES, QUESTION_RATE, Up, parse_up};
use crate::assistant::SharedAssistant;
use crate::assistant::bus::Event;
use crate::assistant::listening::{ASR_TAIL_S, MAX_QUESTION_S};
use crate::assistant::turn_gate::{Speculation, TurnGate};

mod answer;

/// Most question audio taken from a satellite (its longest question, its
/// pre-roll and some slack); more is dropped (and logged).
const ACCEPTED_QUESTION_S: usize = MAX_QUESTION_S + 5;

/// One satellite turn while its question streams in.
struct Streaming {
    room: String,
    audio: Vec<f32>,
    granted: Option<bool>,
    /// When its end reached the main.
    ended: Option<(Instant, bool)>,
    /// Set by a barge-in on the same satellite.
    cancel: Arc<AtomicBool>,
    /// The answer started at the satellite's last pause, held back until
    /// its end says the pause was the end (dropping it abandons it).
    speculation: Option<(usize, Speculation)>,
}

/// Audio kept past the last voiced sample for Whisper, in samples.
const ASR_TAIL: usize = (ASR_TAIL_S * QUESTION_RATE as f64) as usize;

/// The door's state: turns in flight, the arbitration, each room's profile.
struct Door {
    state: SharedAssistant,
    speaker: answer::RoomSpeaker,
    arbiter: Arbiter,
    turns: HashMap<String, Streaming>,
    /// The turn each room is on, so a new wake word there (barge-in) ends it.
    current: HashMap<String, (String, Arc<AtomicBool>)>,
}

/// Serves the satellites until the client closes; returns once subscribed.
pub async fn serve(
    state: SharedAssistant,
    client: async_nats::Client,
) -> Result<(), async_nats::SubscribeError> {
    let subscription = client.subscribe(FROM_SATELLITES).await?;
    tokio::spawn(heartbeat(client.clone()));
    let speaker = answer::RoomSpeaker::new(state.clone(), client, tokio::runtime::Handle::current());
    let door = Door {
        state,
        speaker,
        arbiter: Arbiter::default(),
        turns: HashMap::new(),
        current: HashMap::new(),
    };
    tokio::spawn(door.run(subscription));
    tracing::info!("satellites: listening on {FROM_SATELLITES}");
    Ok(())
}

/// `hauski.main.alive` every second, with the rooms' profiles.
async fn heartbeat(client: async_nats::Client) {
    let mut every = tokio::time::interval(ALIVE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // Not sent while NATS is away: a stale "alive" is worse than none.
        if client.connection_state() != async_nats::connection::State::Connected {
            continue;
        }
        if let Err(e) = client.publish(ALIVE, "{}".into()).await {
            tracing::debug!(error = %e, "satellites: heartbeat not sent");
        }
    }
}

impl Door {
    async fn run(mut self, mut subscription: async_nats::Subscriber) {
        loop {
            let closes = self.arbiter.closes_at();
            let deadline = async {
                match closes {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = subscription.next() => {
                    let Some(message) = message else { return };
                    match parse_up(&message.subject, &message.payload) {
                        Ok((room, up)) => self.hear(room, up),
                        Err(reason) => tracing::warn!(%reason, "satellites: message refused"),
                    }
                }
                () = deadline => {
                    if let Some(decision) = self.arbiter.decide(Instant::now()) {
                        self.settle(decision);
                    }
                }
            }
        }
    }

    fn hear(&mut self, room: String, up: Up) {
        match up {
            Up::Wake(wake) => {
                let _span = tracing::info_span!("satellite_wake", %room).entered();
                tracing::info!(%room, turn = %wake.turn, level_db = wake.level_db, "satellite heard the wake word");
                self.state.metrics.wake_detections.inc();
                if let Some((turn, cancel)) = self.current.remove(&room) {
                    cancel.store(true, Ordering::Relaxed);
                    self.turns.remove(&turn);
                    // The answering worker holds the other handle while it runs.
                    if Arc::strong_count(&cancel) > 1 {
                        tracing::info!(%room, %turn, "barge-in on the satellite: its answer is cancelled");
                    }
                }
                let cancel = Arc::new(AtomicBool::new(false));
                self.current
                    .insert(room.clone(), (wake.turn.clone(), cancel.clone()));
                self.turns.insert(
                    wake.turn.clone(),
                    Streaming {
                        room: room.clone(),
                        audio: Vec::new(),
                        granted: None,
                        ended: None,
                        cancel,
                        speculation: None,
                    },
                );
                self.arbiter.wake(
                    Candidate {
                        room,
                        turn: wake.turn,
                        level_db: wake.level_db,
                    },
                    Instant::now(),
                );
            }
            Up::Audio { turn, samples } => {
                let Some(streaming) = self.turns.get_mut(&turn).filter(|t| t.room == room) else {
                    return;
                };
                if streaming.audio.len() + samples.len() > ACCEPTED_QUESTION_S * QUESTION_RATE as usize {
                    tracing::warn!(%room, %turn, "satellite question past {ACCEPTED_QUESTION_S} s; the rest is dropped");
                    return;
                }
                streaming.audio.extend_from_slice(&samples);
            }
            Up::Pause { turn, pause } => self.speculate(&room, &turn, pause.voiced_until),
            Up::End { turn, end } => {
                let Some(streaming) = self.turns.get_mut(&turn).filter(|t| t.room == room) else {
                    return;
                };
                let now = Instant::now();
                streaming.ended = Some((now, end.speech));
                let confirmed = end.speech
                    && streaming
                        .speculation
                        .as_ref()
                        .is_some_and(|(until, _)| *until == end.voiced_until);
                if confirmed {
                    tracing::debug!(%room, %turn, "the pause was the end: the speculative answer goes ahead");
                    if let Some((_, speculation)) = self.turns.remove(&turn).and_then(|t| t.speculation) {
                        speculation.confirm(now);
                    }
                } else {
                    self.start_if_ready(&turn);
                }
            }
            Up::Played { turn, played } => {
                tracing::info!(%room, %turn, first_audio_ms = played.first_audio_ms, main_ms = played.main_ms, "satellite played the answer");
                self.state
                    .observe_stage("satellite_first_audio", played.first_audio_ms);
                self.state.observe_stage(
                    "satellite_transport",
                    (played.first_audio_ms - played.main_ms).max(0.0),
                );
            }
        }
    }

    /// The group's outcome: claims to every room in it, the winner's turn
    /// answered once its question is over.
    fn settle(&mut self, decision: Decision) {
        let winner = decision.winner.room.clone();
        tracing::info!(room = %winner, level_db = decision.winner.level_db, others = decision.losers.len(), "satellite turn goes to the loudest room");
        self.state.bus.publish(Event::RoomTurn {
            room: winner.clone(),
            level_db: decision.winner.level_db,
            heard_in: std::iter::once(&decision.winner)
                .chain(&decision.losers)
                .map(|c| c.room.clone())
                .collect(),
        });
        for loser in &decision.losers {
            self.turns.remove(&loser.turn);
            self.current.remove(&loser.room);
            self.speaker.claim(
                &loser.room,
                &loser.turn,
                Claim {
                    granted: false,
                    room: winner.clone(),
                },
            );
        }
        self.speaker.claim(
            &winner,
            &decision.winner.turn,
            Claim {
                granted: true,
                room: winner.clone(),
            },
        );
        if let Some(streaming) = self.turns.get_mut(&decision.winner.turn) {
            streaming.granted = Some(true);
        }
        self.start_if_ready(&decision.winner.turn);
    }

    fn start_if_ready(&mut self, turn: &str) {
        let ready = self
            .turns
            .get(turn)
            .is_some_and(|t| t.granted == Some(true) && t.ended.is_some());
        if !ready {
            return;
        }
        // A speculation that was not confirmed is abandoned here (dropped).
        let Some(streaming) = self.turns.remove(turn) else {
            return;
        };
        let Some((ended_at, speech)) = streaming.ended else {
            return;
        };
        if !speech {
            tracing::info!(room = %streaming.room, "the satellite heard nothing after the wake word");
            return;
        }
        let question = answer::Question {
            room: streaming.room,
            turn: turn.to_string(),
            audio: streaming.audio,
            gate: TurnGate::confirmed(ended_at),
            cancel: streaming.cancel,
        };
        let speaker = self.speaker.clone();
        tokio::task::spawn_blocking(move || speaker.answer(question));
    }

    /// The satellite's speaker paused: answer what was said so far, held
    /// back until the end confirms it (a newer pause abandons it).
    fn speculate(&mut self, room: &str, turn: &str, voiced_until: usize) {
        let Some(streaming) = self.turns.get_mut(turn).filter(|t| t.room == room) else {
            return;
        };
        let same = streaming
            .speculation
            .as_ref()
            .is_some_and(|(until, _)| *until == voiced_until);
        if streaming.granted != Some(true) || streaming.ended.is_some() || same {
            return;
        }
        let speculation = Speculation::start();
        let end = (voiced_until + ASR_TAIL).min(streaming.audio.len());
        let question = answer::Question {
            room: room.to_string(),
            turn: turn.to_string(),
            audio: streaming.audio[..end].to_vec(),
            gate: speculation.turn.clone(),
            cancel: streaming.cancel.clone(),
        };
        // Replacing an older speculation drops, and so abandons, it.
        streaming.speculation = Some((voiced_until, speculation));
        let speaker = self.speaker.clone();
        tokio::task::spawn_blocking(move || speaker.answer(question));
    }
}

/// The room's profile: set by voice on that satellite, else the profile
/// named like the room, else the main's active one.
#[derive(Debug, Default)]
pub struct RoomProfiles(Mutex<HashMap<String, String>>);

impl RoomProfiles {
    pub fn get(&self, state: &SharedAssistant, room: &str) -> String {
        let set = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(room)
            .cloned();
        set.or_else(|| state.profile.resolve(&room.replace(['-', '_'], " ")))
            .unwrap_or_else(|| state.profile.name())
    }

    pub fn set(&self, room: &str, profile: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(room.to_string(), profile.to_string());
    }
}
