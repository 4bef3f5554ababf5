//! The satellite itself (`hauski serve --satellite`): capture, the wake
//! word and the endpointer on this box; the question goes over NATS to the
//! main HausKI and its answer comes back as audio for this room's sink.
//! A wake word while an answer plays stops it at once (barge-in). Without
//! the main's heartbeat for [`LOST_AFTER`] the satellite says so aloud,
//! once, with its own copy of the voice, and carries on when it returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use hauski_audio::live::{Capture, CaptureConfig, Playback, PlaybackEvent};
use hauski_voice::PiperVoice;

use super::listener::{Heard, SatelliteListener};
use super::{
    ALIVE, Claim, End, LAST_HEADER, LOST_AFTER, MAIN_MS_HEADER, Pause, Played, QUESTION_RATE, RATE_HEADER,
    Wake, check_room, to_room, up_subject,
};
use crate::engines::App;
use crate::wake_watch::WakeWatch;

/// What the satellite says when the main HausKI is out of reach.
pub const UNREACHABLE: &str = "I can't reach the main HausKI.";
/// Question audio and reports waiting to go out; past this the network is
/// too slow for a live question and blocks are dropped (and logged).
const OUTBOX: usize = 512;

#[derive(Debug, Clone)]
pub struct SatelliteConfig {
    pub bus: String,
    pub room: String,
    pub source: Option<String>,
    pub source_monitor: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SatelliteError {
    #[error("{0}")]
    Room(String),
    #[error(transparent)]
    Bus(#[from] crate::nats::BridgeError),
    #[error("the satellite cannot subscribe on the bus: {0}")]
    Subscribe(String),
    #[error("the satellite has no {what}: {reason}")]
    Missing { what: &'static str, reason: String },
    #[error("the satellite's audio: {0}")]
    Audio(#[from] hauski_audio::AudioError),
    #[error("cannot start the satellite's async runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("the capture stopped")]
    CaptureStopped,
}

/// What comes from the main, handed to the listening thread.
enum Down {
    Alive,
    Claim {
        turn: String,
        claim: Claim,
    },
    Speak {
        turn: String,
        samples: Vec<f32>,
        rate: u32,
        last: bool,
        main_ms: Option<f64>,
    },
}

/// Runs the satellite until the capture stops.
pub fn run(app: &App, config: &SatelliteConfig) -> Result<(), SatelliteError> {
    check_room(&config.room).map_err(SatelliteError::Room)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("satellite-io")
        .build()?;
    let client = runtime.block_on(crate::nats::connect(&config.bus, &app.config.routing))?;
    let (down_tx, down) = channel();
    runtime
        .block_on(subscribe(&client, &config.room, down_tx))
        .map_err(|e| SatelliteError::Subscribe(e.to_string()))?;
    let outbox = start_outbox(&runtime, client);
    let voice = app.load_voice().map_err(|e| SatelliteError::Missing {
        what: "voice",
        reason: format!("{e:#}"),
    })?;
    let rate = voice.sample_rate();
    let wake = crate::wake_words::WakeWords::load(app)
        .engine(&[])
        .map_err(|reason| SatelliteError::Missing {
            what: "wake word",
            reason,
        })?;
    let sink = app
        .config
        .profiles
        .active_profile()
        .map_or_else(|| "default".to_string(), |p| p.sink.clone());
    let (playback, events) = Playback::start(&sink, rate, None)?;
    let whole_answer_queued = Arc::new(AtomicBool::new(false));
    let queued = whole_answer_queued.clone();
    std::thread::Builder::new()
        .name("playback-events".into())
        .spawn(move || follow_playback(&events, &queued))?;
    let capture = CaptureConfig::new(config.source.clone(), config.source_monitor, QUESTION_RATE);
    let (_capture, frames) = Capture::start(capture)?;
    let report = Box::new(|down: Option<&str>| {
        if let Some(reason) = down {
            tracing::error!(%reason, "the satellite's wake words are off");
        }
    });
    let wake = WakeWatch::start(wake, report).map_err(|reason| SatelliteError::Missing {
        what: "wake-word detector",
        reason,
    })?;
    let mut satellite = Satellite {
        room: config.room.clone(),
        listener: SatelliteListener::new(app.vad_config()),
        wake,
        playback: Arc::new(playback),
        voice: Arc::new(Mutex::new(voice)),
        whole_answer_queued,
        outbox,
        turns: 0,
        current: None,
        last_alive: Instant::now(),
        reachable: None,
    };
    tracing::info!(room = %config.room, bus = %config.bus, %sink, "satellite listening for the wake word");
    crate::service::ready(&format!("satellite in the {}", config.room));
    satellite.listen(&frames, &down)
}

/// The main's messages for this room, and its heartbeat.
async fn subscribe(
    client: &async_nats::Client,
    room: &str,
    to: Sender<Down>,
) -> Result<(), async_nats::SubscribeError> {
    let mut messages = futures_util::stream::select(
        client.subscribe(to_room(room)).await?,
        client.subscribe(ALIVE).await?,
    );
    tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            match read_down(&message) {
                Ok(down) => {
                    if to.send(down).is_err() {
                        return;
                    }
                }
                Err(reason) => tracing::warn!(%reason, "satellite: message from the main refused"),
            }
        }
    });
    Ok(())
}

fn read_down(message: &async_nats::Message) -> Result<Down, String> {
    let subject = message.subject.as_str();
    if subject == ALIVE {
        return Ok(Down::Alive);
    }
    let parts: Vec<&str> = subject.split('.').collect();
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    match parts.as_slice() {
        ["hauski", "main", _, "claim", turn] => Ok(Down::Claim {
            turn: turn.to_string(),
            claim: serde_json::from_slice(&message.payload).map_err(|e| format!("{subject}: {e}"))?,
        }),
        ["hauski", "main", _, "speak", turn] => {
            let rate = header(RATE_HEADER)
                .and_then(|r| r.parse().ok())
                .filter(|r| (8_000..=96_000).contains(r))
                .ok_or_else(|| format!("{subject}: no {RATE_HEADER} between 8000 and 96000"))?;
            Ok(Down::Speak {
                turn: turn.to_string(),
                samples: super::samples_from_pcm(&message.payload).map_err(|e| format!("{subject}: {e}"))?,
                rate,
                last: header(LAST_HEADER).is_some_and(|l| l == "true"),
                main_ms: header(MAIN_MS_HEADER).and_then(|m| m.parse().ok()),
            })
        }
        _ => Err(format!("{subject} is no message for a satellite")),
    }
}

/// One task publishes everything in order: the main reads a question's
/// audio as it was captured.
fn start_outbox(
    runtime: &tokio::runtime::Runtime,
    client: async_nats::Client,
) -> tokio::sync::mpsc::Sender<(String, Vec<u8>)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Vec<u8>)>(OUTBOX);
    runtime.spawn(async move {
        while let Some((subject, payload)) = rx.recv().await {
            if let Err(e) = client.publish(subject, payload.into()).await {
                tracing::warn!(error = %e, "satellite: not sent to the main");
            }
        }
    });
    tx
}

/// Logs what playback reports. Playback drains between two sentences when
/// the next is late; only a drain after the answer's last sentence is the
/// answer played.
fn follow_playback(events: &Receiver<PlaybackEvent>, whole_answer_queued: &AtomicBool) {
    for event in events {
        match event {
            PlaybackEvent::Drained if whole_answer_queued.swap(false, Ordering::AcqRel) => {
                tracing::info!("answer played")
            }
            PlaybackEvent::Drained => tracing::debug!("playback waits for the next sentence"),
            PlaybackEvent::SinkLost { sink, dropped_s } => {
                tracing::warn!(%sink, dropped_s, "the sink vanished mid-answer")
            }
            PlaybackEvent::SinkBack { sink } => tracing::info!(%sink, "the sink is back"),
        }
    }
}

/// The turn this satellite is on.
struct Turn {
    id: String,
    /// When the question's end was sent, and whether its first audio came.
    ended: Option<Instant>,
    played: bool,
}

struct Satellite {
    room: String,
    listener: SatelliteListener,
    wake: WakeWatch,
    playback: Arc<Playback>,
    voice: Arc<Mutex<PiperVoice>>,
    /// Set once the answer's last audio is queued: the next drain is its end.
    whole_answer_queued: Arc<AtomicBool>,
    outbox: tokio::sync::mpsc::Sender<(String, Vec<u8>)>,
    turns: u64,
    current: Option<Turn>,
    last_alive: Instant,
    /// Whether the main answered lately (`None` until first heard or missed).
    reachable: Option<bool>,
}

impl Satellite {
    fn listen(&mut self, frames: &Receiver<Vec<f32>>, down: &Receiver<Down>) -> Result<(), SatelliteError> {
        for block in frames {
            let detections = self.wake.push(&block);
            for heard in self.listener.step(&block, &detections) {
                self.act(heard);
            }
            for message in down.try_iter() {
                self.obey(message);
            }
            if self.last_alive.elapsed() > LOST_AFTER && self.reachable != Some(false) {
                self.reachable = Some(false);
                tracing::warn!(room = %self.room, "the main HausKI is out of reach; saying so");
                self.say_unreachable();
            }
        }
        Err(SatelliteError::CaptureStopped)
    }

    fn act(&mut self, heard: Heard) {
        match heard {
            Heard::Wake {
                name,
                score,
                level_db,
            } => {
                let _span = tracing::info_span!("wake").entered();
                let dropped_s = self.playback.stop();
                // The cut answer's drain is not an answer played.
                self.whole_answer_queued.store(false, Ordering::Release);
                if dropped_s > 0.0 {
                    tracing::info!(dropped_s, "barge-in: playback stopped");
                }
                if self.reachable == Some(false) {
                    self.listener.stand_down();
                    self.current = None;
                    return self.say_unreachable();
                }
                self.turns += 1;
                let id = format!("{:x}-{}", std::process::id(), self.turns);
                tracing::info!(%name, score, level_db, turn = %id, "wake word detected; streaming the question");
                let wake = Wake {
                    turn: id.clone(),
                    score,
                    level_db,
                };
                self.send(up_subject(&self.room, "wake", None), json(&wake));
                self.current = Some(Turn {
                    id,
                    ended: None,
                    played: false,
                });
            }
            Heard::Audio(samples) => {
                if let Some(turn) = &self.current {
                    let subject = up_subject(&self.room, "audio", Some(&turn.id));
                    self.send(subject, super::pcm_from_samples(&samples));
                }
            }
            Heard::Pause { voiced_until } => {
                if let Some(turn) = &self.current {
                    let subject = up_subject(&self.room, "pause", Some(&turn.id));
                    self.send(subject, json(&Pause { voiced_until }));
                }
            }
            Heard::End { speech, voiced_until } => {
                let Some(turn) = &mut self.current else { return };
                turn.ended = Some(Instant::now());
                tracing::info!(speech, turn = %turn.id, "question over");
                let subject = up_subject(&self.room, "end", Some(&turn.id));
                self.send(subject, json(&End { speech, voiced_until }));
            }
        }
    }

    fn obey(&mut self, message: Down) {
        match message {
            Down::Alive => {
                self.last_alive = Instant::now();
                if self.reachable != Some(true) {
                    self.reachable = Some(true);
                    tracing::info!(room = %self.room, "the main HausKI answers");
                }
            }
            Down::Claim { turn, claim } => {
                if !claim.granted && self.current.as_ref().is_some_and(|t| t.id == turn) {
                    tracing::info!(loudest = %claim.room, "another room heard the wake word louder; standing down");
                    self.listener.stand_down();
                    self.current = None;
                }
            }
            Down::Speak {
                turn,
                samples,
                rate,
                last,
                main_ms,
            } => self.play(&turn, &samples, rate, main_ms, last),
        }
    }

    /// Plays a chunk of the current turn's answer; the first one is reported.
    fn play(&mut self, turn: &str, samples: &[f32], rate: u32, main_ms: Option<f64>, last: bool) {
        let Some(current) = self.current.as_mut().filter(|t| t.id == turn) else {
            return;
        };
        let samples = if rate == self.playback.rate() {
            samples.to_vec()
        } else {
            match hauski_audio::resample(samples, rate, self.playback.rate()) {
                Ok(s) => s,
                Err(e) => return tracing::warn!(error = %e, "satellite: the answer's audio cannot be played"),
            }
        };
        if last {
            self.whole_answer_queued.store(true, Ordering::Release);
        }
        if !samples.is_empty() {
            self.playback.play(&samples);
        } else if last
            && self.playback.queued_s() <= 0.0
            && self.whole_answer_queued.swap(false, Ordering::AcqRel)
        {
            // An empty last sentence after the audio already drained.
            tracing::info!("answer played");
        }
        if current.played || samples.is_empty() {
            return;
        }
        current.played = true;
        let Some(ended) = current.ended else { return };
        let played = Played {
            first_audio_ms: ended.elapsed().as_secs_f64() * 1000.0,
            main_ms: main_ms.unwrap_or(0.0),
        };
        tracing::info!(
            first_audio_ms = played.first_audio_ms,
            main_ms = played.main_ms,
            "first answer audio"
        );
        let subject = up_subject(&self.room, "played", Some(turn));
        self.send(subject, json(&played));
    }

    fn send(&self, subject: String, payload: Vec<u8>) {
        if let Err(e) = self.outbox.try_send((subject, payload)) {
            tracing::warn!(error = %e, "satellite: the bus is too slow; a message was dropped");
        }
    }

    /// [`UNREACHABLE`] in this box's own voice, off the listening thread.
    fn say_unreachable(&self) {
        let (voice, playback) = (self.voice.clone(), self.playback.clone());
        let queued = self.whole_answer_queued.clone();
        let spawned = std::thread::Builder::new()
            .name("unreachable".into())
            .spawn(move || {
                let spoken = voice
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .synthesize_all(UNREACHABLE);
                match spoken {
                    Ok(samples) => {
                        queued.store(true, Ordering::Release);
                        playback.play(&samples);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot say that the main HausKI is out of reach"),
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot say that the main HausKI is out of reach");
        }
    }
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
