//! Satellites: a small box in another room runs only capture, the wake
//! word and the endpointer (`hauski serve --satellite --room kitchen`),
//! streams each question over NATS to the main HausKI, and plays the
//! answer audio the main streams back. The main transcribes, answers and
//! speaks for every room (`rooms.rs`); when two satellites hear one wake
//! word, the one that heard it loudest gets the turn (`arbiter.rs`).
//!
//! This file is the wire both ends speak (subjects and payloads, also in
//! ARCHITECTURE.md's bus table). Audio travels as 16-bit little-endian mono
//! PCM, the cheapest form both ends already have.

pub mod arbiter;
pub mod listener;
pub mod remote;
pub mod rooms;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the main publishes every [`ALIVE_EVERY`], so satellites know it is there.
pub const ALIVE: &str = "hauski.main.alive";
pub const ALIVE_EVERY: Duration = Duration::from_secs(1);
/// No heartbeat for this long: the main HausKI is unreachable.
pub const LOST_AFTER: Duration = Duration::from_millis(3500);
/// Every satellite's messages, for the main's subscription.
pub const FROM_SATELLITES: &str = "hauski.satellite.>";
/// Rate of the question audio on the wire.
pub const QUESTION_RATE: u32 = hauski_voice::ASR_RATE;
/// Headers of an answer's audio chunk.
pub const RATE_HEADER: &str = "Hauski-Rate";
pub const LAST_HEADER: &str = "Hauski-Last";
/// Milliseconds from the question's end reaching the main to this chunk leaving it.
pub const MAIN_MS_HEADER: &str = "Hauski-Main-Ms";

/// A room name is one NATS subject token: letters, digits, `-` and `_`.
pub fn check_room(room: &str) -> Result<(), String> {
    if room.is_empty()
        || room.len() > 64
        || !room
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "the room {room:?} cannot be a satellite's room: use letters, digits, '-' and '_' (e.g. kitchen)"
        ));
    }
    Ok(())
}

/// Subject of a satellite's message: `hauski.satellite.ROOM.KIND[.TURN]`.
pub fn up_subject(room: &str, kind: &str, turn: Option<&str>) -> String {
    match turn {
        Some(turn) => format!("hauski.satellite.{room}.{kind}.{turn}"),
        None => format!("hauski.satellite.{room}.{kind}"),
    }
}

/// Subject of the main's message to one room: `hauski.main.ROOM.KIND.TURN`.
pub fn down_subject(room: &str, kind: &str, turn: &str) -> String {
    format!("hauski.main.{room}.{kind}.{turn}")
}

/// What a satellite's subscription takes from the main.
pub fn to_room(room: &str) -> String {
    format!("hauski.main.{room}.>")
}

/// `hauski.satellite.ROOM.wake`: the wake word was heard; the question follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wake {
    pub turn: String,
    pub score: f32,
    /// Loudness of the last second (the wake word), dBFS: the loudest room wins.
    pub level_db: f32,
}

/// `hauski.satellite.ROOM.end.TURN`: the question is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    /// False when nothing was said after the wake word.
    pub speech: bool,
    /// Where speech ended, in samples of the streamed audio (see [`Pause`]).
    #[serde(default)]
    pub voiced_until: usize,
}

/// `hauski.satellite.ROOM.pause.TURN`: the speaker paused; speech so far
/// ends at sample `voiced_until` of the streamed audio. The main may start
/// answering it, held back until an [`End`] with the same `voiced_until`
/// says the pause was the end (as the main's own loop speculates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    pub voiced_until: usize,
}

/// `hauski.satellite.ROOM.played.TURN`: the answer's first audio was queued
/// at the satellite's sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Played {
    /// From the satellite's end of speech to the first answer audio queued.
    pub first_audio_ms: f64,
    /// Of that, the main's own work ([`MAIN_MS_HEADER`]).
    pub main_ms: f64,
}

/// `hauski.main.ROOM.claim.TURN`: whether this satellite's turn is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub granted: bool,
    /// The room that heard the wake word loudest.
    pub room: String,
}

/// A message from a satellite, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Up {
    Wake(Wake),
    Audio { turn: String, samples: Vec<f32> },
    Pause { turn: String, pause: Pause },
    End { turn: String, end: End },
    Played { turn: String, played: Played },
}

/// Reads a satellite's message: its room and what it says.
pub fn parse_up(subject: &str, payload: &[u8]) -> Result<(String, Up), String> {
    let parts: Vec<&str> = subject.split('.').collect();
    let json_error = |e: serde_json::Error| format!("{subject}: {e}");
    match parts.as_slice() {
        ["hauski", "satellite", room, "wake"] => Ok((
            room.to_string(),
            Up::Wake(serde_json::from_slice(payload).map_err(json_error)?),
        )),
        ["hauski", "satellite", room, "audio", turn] => Ok((
            room.to_string(),
            Up::Audio {
                turn: turn.to_string(),
                samples: samples_from_pcm(payload).map_err(|e| format!("{subject}: {e}"))?,
            },
        )),
        ["hauski", "satellite", room, "pause", turn] => Ok((
            room.to_string(),
            Up::Pause {
                turn: turn.to_string(),
                pause: serde_json::from_slice(payload).map_err(json_error)?,
            },
        )),
        ["hauski", "satellite", room, "end", turn] => Ok((
            room.to_string(),
            Up::End {
                turn: turn.to_string(),
                end: serde_json::from_slice(payload).map_err(json_error)?,
            },
        )),
        ["hauski", "satellite", room, "played", turn] => Ok((
            room.to_string(),
            Up::Played {
                turn: turn.to_string(),
                played: serde_json::from_slice(payload).map_err(json_error)?,
            },
        )),
        _ => Err(format!(
            "{subject} is no satellite message (wake, audio.TURN, pause.TURN, end.TURN, played.TURN)"
        )),
    }
}

/// Samples in [-1, 1] → 16-bit little-endian PCM.
pub fn pcm_from_samples(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16).to_le_bytes())
        .collect()
}

/// 16-bit little-endian PCM → samples; an odd byte count is refused.
pub fn samples_from_pcm(pcm: &[u8]) -> Result<Vec<f32>, String> {
    if !pcm.len().is_multiple_of(2) {
        return Err(format!("{} bytes are no 16-bit PCM (an odd count)", pcm.len()));
    }
    Ok(pcm
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / f32::from(i16::MAX))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_from_their_subjects() {
        let wake = up_subject("kitchen", "wake", None);
        let payload = br#"{"turn": "a1-1", "score": 0.6, "level_db": -23.5}"#;
        assert_eq!(
            parse_up(&wake, payload),
            Ok((
                "kitchen".into(),
                Up::Wake(Wake {
                    turn: "a1-1".into(),
                    score: 0.6,
                    level_db: -23.5
                })
            ))
        );
        let audio = up_subject("kitchen", "audio", Some("a1-1"));
        let pcm = pcm_from_samples(&[0.0, 0.5, -1.0]);
        match parse_up(&audio, &pcm) {
            Ok((room, Up::Audio { turn, samples })) => {
                assert_eq!((room.as_str(), turn.as_str()), ("kitchen", "a1-1"));
                assert_eq!(samples.len(), 3);
                assert!((samples[1] - 0.5).abs() < 1e-4 && (samples[2] + 1.0).abs() < 1e-4);
            }
            other => panic!("{other:?}"),
        }
        let end = up_subject("hall", "end", Some("t"));
        assert!(matches!(
            parse_up(&end, br#"{"speech": true}"#),
            Ok((
                _,
                Up::End {
                    end: End { speech: true, .. },
                    ..
                }
            ))
        ));
    }

    #[test]
    fn bad_messages_are_explained() {
        for (subject, payload, says) in [
            (
                "hauski.satellite.kitchen.wake",
                &b"{"[..],
                "hauski.satellite.kitchen.wake",
            ),
            ("hauski.satellite.kitchen.audio.t", &[1u8, 2, 3][..], "odd count"),
            (
                "hauski.satellite.kitchen.reboot",
                &b"{}"[..],
                "no satellite message",
            ),
            (
                "hauski.satellite.kitchen.end.t",
                &br#"{"speech": 1}"#[..],
                "invalid type",
            ),
        ] {
            let err = parse_up(subject, payload).err().unwrap_or_default();
            assert!(err.contains(says), "{subject}: {err}");
        }
    }

    #[test]
    fn rooms_are_single_subject_tokens() {
        assert!(check_room("kitchen").is_ok() && check_room("guest_room-2").is_ok());
        for bad in ["", "a.b", "a b", "*", ">", "küche"] {
            assert!(check_room(bad).is_err(), "{bad}");
        }
    }
}
