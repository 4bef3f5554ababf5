//! The event bus `hauski.*`: what happens in the assistant, as typed events
//! with a documented JSON payload (the table in ARCHITECTURE.md), so other
//! parts of the daemon, and later other programs and other HausKIs over
//! NATS, can listen without knowing the door an event came from.
//!
//! The transport is in-process (a tokio broadcast channel): the appliance
//! runs alone and needs no server. A subscriber that falls behind loses the
//! oldest events and is told how many (`Lagged`); publishing never blocks a
//! door.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::notices::Notice;

/// Events a slow subscriber may fall behind by before it loses some.
const CAPACITY: usize = 256;

/// One event. Its subject is `hauski.` plus the dotted name in
/// [`Event::subject`]; the payload is the JSON of the variant's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The wake word was heard; listening starts.
    Wake { name: String, score: f32 },
    /// Speech started after the wake word (`after_wake_ms` of audio in).
    VadStart { after_wake_ms: u64 },
    /// Speech ended: the hang-over passed without a voiced frame.
    VadEnd { after_wake_ms: u64 },
    /// The question so far, while it is being spoken.
    AsrPartial { text: String },
    /// The question, once speech ended and the turn is confirmed.
    AsrFinal { text: String },
    /// A door starts answering `question` (`door`: voice, api, editor, ...).
    TurnStart { door: String, question: String },
    /// A sentence of the answer, handed to speech as it is generated.
    AnswerSentence { text: String },
    /// The whole answer, once the turn is over.
    TurnEnd { door: String, answer: String },
    /// HausKI starts speaking on `sink`.
    TtsStart { sink: String },
    /// HausKI stopped speaking: the answer played out, or was cut off.
    TtsStop { interrupted: bool },
    /// Answers now play through this profile's sink.
    ProfileChanged { profile: String },
    /// A message to read aloud (see [`Notice`]).
    Notification(Notice),
    /// A timer or reminder rings (`kind`: timer or reminder); `ring` counts
    /// from 1 until "stop"; `late`: it was due while the daemon was down.
    Alarm {
        id: i64,
        kind: String,
        text: String,
        profile: Option<String>,
        ring: u32,
        late: bool,
    },
    /// "Stop" or "okay": the ringing alarms are done.
    AlarmStopped { count: usize },
    /// A satellite's wake word was settled: `room` heard it loudest (dBFS
    /// `level_db`) of the rooms in `heard_in`, and answers.
    RoomTurn {
        room: String,
        level_db: f32,
        heard_in: Vec<String>,
    },
    /// A stage's rolling p95 went over its budget (`raised`), or back under
    /// 90 % of it.
    BudgetAlarm {
        stage: String,
        p95_ms: f64,
        budget_ms: f64,
        raised: bool,
    },
}

/// How much a notification may interrupt; urgent ones are said first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    #[default]
    Normal,
    High,
}

impl Event {
    /// The NATS-style subject, `hauski.<name>`.
    pub fn subject(&self) -> &'static str {
        match self {
            Self::Wake { .. } => "hauski.wake",
            Self::VadStart { .. } => "hauski.vad.start",
            Self::VadEnd { .. } => "hauski.vad.end",
            Self::AsrPartial { .. } => "hauski.asr.partial",
            Self::AsrFinal { .. } => "hauski.asr.final",
            Self::TurnStart { .. } => "hauski.turn.start",
            Self::AnswerSentence { .. } => "hauski.turn.sentence",
            Self::TurnEnd { .. } => "hauski.turn.end",
            Self::TtsStart { .. } => "hauski.tts.start",
            Self::TtsStop { .. } => "hauski.tts.stop",
            Self::ProfileChanged { .. } => "hauski.profile.changed",
            Self::Notification { .. } => "hauski.notification",
            Self::Alarm { .. } => "hauski.alarm",
            Self::AlarmStopped { .. } => "hauski.alarm.stopped",
            Self::RoomTurn { .. } => "hauski.room.turn",
            Self::BudgetAlarm { .. } => "hauski.budget",
        }
    }

    /// The payload as published: the event's fields as a JSON object.
    pub fn payload(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("event");
        }
        value
    }
}

/// The in-process bus: cheap to clone, every clone publishes to the same
/// subscribers.
#[derive(Debug, Clone)]
pub struct Bus {
    sender: broadcast::Sender<Event>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publishes `event` to whoever listens (nobody is fine), and logs it at
    /// debug level under its subject.
    pub fn publish(&self, event: Event) {
        tracing::debug!(subject = %event.subject(), payload = %event.payload(), "event");
        let _ = self.sender.send(event);
    }

    /// Every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Event> {
        let text = || "what is the capital of France".to_string();
        vec![
            Event::Wake {
                name: "hey-hauski".into(),
                score: 0.62,
            },
            Event::VadStart { after_wake_ms: 300 },
            Event::VadEnd { after_wake_ms: 2100 },
            Event::AsrPartial { text: text() },
            Event::AsrFinal { text: text() },
            Event::TurnStart {
                door: "voice".into(),
                question: text(),
            },
            Event::AnswerSentence {
                text: "Paris.".into(),
            },
            Event::TurnEnd {
                door: "voice".into(),
                answer: "Paris.".into(),
            },
            Event::TtsStart {
                sink: "living".into(),
            },
            Event::TtsStop { interrupted: false },
            Event::ProfileChanged {
                profile: "kueche".into(),
            },
            Event::Notification(Notice {
                source: Some("signal".into()),
                ..Notice::from_program("Anna", "I'm on the train.", Urgency::Normal)
            }),
            Event::Alarm {
                id: 7,
                kind: "timer".into(),
                text: "Your 10-minute pasta timer is done.".into(),
                profile: Some("kueche".into()),
                ring: 1,
                late: false,
            },
            Event::AlarmStopped { count: 1 },
            Event::RoomTurn {
                room: "kitchen".into(),
                level_db: -21.0,
                heard_in: vec!["kitchen".into(), "hall".into()],
            },
            Event::BudgetAlarm {
                stage: "speech_end_to_first_audio".into(),
                p95_ms: 2612.0,
                budget_ms: 2500.0,
                raised: true,
            },
        ]
    }

    #[test]
    fn subscribers_get_every_event_in_order() {
        let bus = Bus::new();
        let mut first = bus.subscribe();
        let mut second = bus.clone().subscribe();
        for event in every_kind() {
            bus.publish(event);
        }
        for receiver in [&mut first, &mut second] {
            for expected in every_kind() {
                assert_eq!(receiver.try_recv().ok(), Some(expected));
            }
        }
    }

    #[test]
    fn payloads_are_the_fields_and_subjects_are_unique() {
        let payload = Event::Wake {
            name: "hey-hauski".into(),
            score: 0.5,
        }
        .payload();
        assert_eq!(payload, serde_json::json!({"name": "hey-hauski", "score": 0.5}));
        let mut subjects: Vec<&str> = every_kind().iter().map(Event::subject).collect();
        subjects.sort_unstable();
        subjects.dedup();
        assert_eq!(subjects.len(), every_kind().len());
    }

    /// The table in ARCHITECTURE.md documents every subject and its fields;
    /// this compares it with what the code publishes.
    #[test]
    fn architecture_md_documents_every_event() {
        let doc = include_str!("../../ARCHITECTURE.md");
        for event in every_kind() {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", event.subject())))
                .unwrap_or_else(|| panic!("ARCHITECTURE.md has no row for {}", event.subject()));
            for field in event.payload().as_object().expect("object").keys() {
                assert!(row.contains(&format!("`{field}`")), "{row} lacks {field}");
            }
        }
    }
}
