//! What the voice loop says unasked: ringing alarms at once, after a chime,
//! in the room they were set in; messages (`hauski.notification`: adapters,
//! skills, NATS, `POST /notify`) only once nothing else is said or asked,
//! those that arrived together said as one (`notices::spoken`).

use std::time::Duration;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::speaker::{Sentence, Speaker};
use crate::assistant::SharedAssistant;
use crate::assistant::bus::Event;
use crate::assistant::notices::{Notice, grouped, spoken};
use crate::assistant::turn_gate::TurnGate;

/// Messages that arrive within this of the first are said together.
const GATHER: Duration = Duration::from_millis(1500);
/// After HausKI stops speaking, a pause before a message, so the owner can
/// follow up on the answer first.
const AFTER_SPEECH: Duration = Duration::from_millis(800);
/// A wake word with no turn after it stops holding messages back after this.
const LONGEST_TURN: Duration = Duration::from_secs(30);

/// Reads alarms and messages aloud from a thread of its own, for the
/// daemon's lifetime.
pub fn start(state: &SharedAssistant, speaker: &Speaker) -> std::io::Result<()> {
    let events = state.bus.subscribe();
    let (state, speaker) = (state.clone(), speaker.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("read-aloud".into())
        .spawn(move || runtime.block_on(read_aloud(events, &state, &speaker)))?;
    Ok(())
}

/// Messages waiting to be said, and whether HausKI is busy with the owner.
struct Waiting {
    notices: Vec<Notice>,
    /// When the waiting messages may be said, if nothing is said or asked then.
    speak_at: Instant,
    /// A question in progress since the wake word, until its turn ends.
    turn_since: Option<Instant>,
}

impl Waiting {
    fn busy(&self, speaker: &Speaker, now: Instant) -> bool {
        speaker.is_speaking() || self.turn_since.is_some_and(|since| now - since < LONGEST_TURN)
    }
}

async fn read_aloud(mut events: Receiver<Event>, state: &SharedAssistant, speaker: &Speaker) {
    let mut waiting = Waiting {
        notices: Vec::new(),
        speak_at: Instant::now(),
        turn_since: None,
    };
    loop {
        let event = if waiting.notices.is_empty() {
            events.recv().await
        } else {
            match tokio::time::timeout_at(waiting.speak_at, events.recv()).await {
                Ok(event) => event,
                Err(_due) => {
                    let now = Instant::now();
                    if waiting.busy(speaker, now) {
                        waiting.speak_at = now + AFTER_SPEECH;
                    } else {
                        say_messages(state, speaker, std::mem::take(&mut waiting.notices));
                    }
                    continue;
                }
            }
        };
        match event {
            Ok(Event::Notification(notice)) => {
                tracing::info!(sender = %notice.sender, source = ?notice.source, "a message to read aloud");
                if waiting.notices.is_empty() {
                    waiting.speak_at = Instant::now() + GATHER;
                }
                waiting.notices.push(notice);
            }
            Ok(Event::Alarm {
                id,
                text,
                ring,
                profile,
                ..
            }) => {
                let _span = tracing::info_span!("alarm", id, ring).entered();
                speaker.say(Sentence {
                    epoch: speaker.current(),
                    text,
                    turn: TurnGate::confirmed(std::time::Instant::now()),
                    last: true,
                    chime: true,
                    sink: profile.and_then(|name| super::profile_sink(state, &name)),
                });
            }
            Ok(Event::Wake { .. }) => waiting.turn_since = Some(Instant::now()),
            Ok(Event::TurnEnd { .. }) => waiting.turn_since = None,
            Ok(Event::TtsStop { .. }) if !waiting.notices.is_empty() => {
                waiting.speak_at = waiting.speak_at.max(Instant::now() + AFTER_SPEECH);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the read-aloud thread fell behind the bus")
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Says `notices`, gathered per profile (room) and coalesced per conversation.
fn say_messages(state: &SharedAssistant, speaker: &Speaker, notices: Vec<Notice>) {
    for (profile, in_room) in grouped(notices, |notice| notice.profile.clone()) {
        let sink = profile
            .as_deref()
            .and_then(|name| super::profile_sink(state, name));
        for text in spoken(&in_room) {
            let _span = tracing::info_span!("notification", profile = ?profile).entered();
            tracing::info!(messages = in_room.len(), %text, "reading messages aloud");
            speaker.say(Sentence {
                epoch: speaker.current(),
                text,
                turn: TurnGate::confirmed(std::time::Instant::now()),
                last: true,
                chime: false,
                sink: sink.clone(),
            });
        }
    }
}
