//! One Wyoming connection: a small state machine over incoming events.

use serde_json::{Value, json};
use tokio::io::BufReader;
use tokio::net::TcpStream;

use super::protocol::{ProtocolError, WireEvent, read_event, write_event};
use super::wake::StreamingDetector;
use crate::assistant::generation::Door;
use crate::assistant::{Allow, SharedAssistant};

/// What the audio between `audio-start` and `audio-stop` is for.
#[derive(Debug, Clone, PartialEq)]
enum Purpose {
    Transcribe,
    Detect(Vec<String>),
}

/// PCM gathered from `audio-chunk`s, as mono f32 at the stream's rate.
#[derive(Debug, Default)]
struct Capture {
    rate: u32,
    samples: Vec<f32>,
}

/// Synthesised audio goes out in chunks of this many samples (Piper's rate).
const CHUNK_SAMPLES: usize = 2048;

pub async fn run(stream: TcpStream, state: SharedAssistant) -> Result<(), ProtocolError> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut session = Session::new(state);
    while let Some(event) = read_event(&mut reader).await? {
        tracing::debug!(kind = %event.kind, "wyoming event");
        for reply in &session.on_event(event).await {
            write_event(&mut write, reply).await?;
        }
    }
    Ok(())
}

/// One connection's state between events.
struct Session {
    state: SharedAssistant,
    purpose: Purpose,
    capture: Option<Capture>,
    /// A `detect` stream: fed chunk by chunk, answered mid-stream.
    detector: Option<StreamingDetector>,
    /// Text of a streamed `synthesize-start` … `synthesize-stop`.
    streamed_text: Option<String>,
    max_audio_s: usize,
}

impl Session {
    fn new(state: SharedAssistant) -> Self {
        let max_audio_s = state.config.limits.speech.max_audio_s as usize;
        Self {
            state,
            purpose: Purpose::Transcribe,
            capture: None,
            detector: None,
            streamed_text: None,
            max_audio_s,
        }
    }

    /// The replies to one event, in order.
    async fn on_event(&mut self, event: WireEvent) -> Vec<WireEvent> {
        let text = || {
            event
                .data
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        match event.kind.as_str() {
            "describe" => vec![info(&self.state)],
            "ping" => vec![WireEvent::new("pong", json!({"text": event.data.get("text")}))],
            "transcribe" => {
                self.purpose = Purpose::Transcribe;
                Vec::new()
            }
            "detect" => {
                let names = event
                    .data
                    .get("names")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                self.purpose = Purpose::Detect(names);
                Vec::new()
            }
            "audio-start" => self.audio_start(&event),
            "audio-chunk" if self.detector.is_some() => self.detect_chunk(&event),
            "audio-chunk" => self.audio_chunk(&event),
            "audio-stop" => self.audio_stop().await,
            // Home Assistant's conversation stage: a question in, the answer out.
            "transcript" => vec![handle(&self.state, text()).await],
            // With streaming, the same text also arrives as synthesize-start/chunk/stop:
            // answer only those then.
            "synthesize" if self.streamed_text.is_some() => Vec::new(),
            "synthesize" => synthesize(&self.state, text()).await,
            "synthesize-start" => {
                self.streamed_text = Some(String::new());
                Vec::new()
            }
            "synthesize-chunk" => {
                if let Some(buffer) = self.streamed_text.as_mut() {
                    buffer.push_str(&text());
                }
                Vec::new()
            }
            "synthesize-stop" => {
                let text = self.streamed_text.take().unwrap_or_default();
                let mut replies = synthesize(&self.state, text).await;
                replies.push(WireEvent::new("synthesize-stopped", json!({})));
                replies
            }
            other => {
                tracing::debug!(kind = other, "wyoming event ignored");
                Vec::new()
            }
        }
    }

    fn audio_start(&mut self, event: &WireEvent) -> Vec<WireEvent> {
        let rate = match audio_format(event) {
            Ok((rate, _, _)) => rate,
            Err(e) => return vec![error(&e, "bad-audio-format")],
        };
        self.capture = Some(Capture {
            rate,
            samples: Vec::new(),
        });
        let Purpose::Detect(names) = &self.purpose else {
            return Vec::new();
        };
        match StreamingDetector::start(&self.state.wake_words, names, rate) {
            Ok(d) => {
                self.detector = Some(d);
                Vec::new()
            }
            Err(e) => vec![error(&e, "wake-failed")],
        }
    }

    /// A chunk of a `detect` stream: detections as soon as they are heard.
    fn detect_chunk(&mut self, event: &WireEvent) -> Vec<WireEvent> {
        let (Ok((_, width, channels)), Some(detector)) = (audio_format(event), self.detector.as_mut()) else {
            return vec![error("audio-chunk format is not valid", "bad-audio-format")];
        };
        detector
            .push(&pcm_to_mono(&event.payload, width, channels))
            .unwrap_or_else(|e| {
                self.detector = None;
                vec![error(&e, "wake-failed")]
            })
    }

    /// A chunk of audio to transcribe: gathered up to `speech.max_audio_s`.
    fn audio_chunk(&mut self, event: &WireEvent) -> Vec<WireEvent> {
        match (audio_format(event), self.capture.as_mut()) {
            (Ok((rate, width, channels)), Some(c)) if rate == c.rate => {
                if c.samples.len() / rate.max(1) as usize > self.max_audio_s {
                    self.capture = None;
                    return vec![error(
                        "the audio is over speech.max_audio_s in policies/limits.yaml",
                        "too-long",
                    )];
                }
                c.samples.extend(pcm_to_mono(&event.payload, width, channels));
                Vec::new()
            }
            (Ok(_), Some(_)) => vec![error(
                "audio-chunk rate differs from audio-start",
                "bad-audio-format",
            )],
            (_, None) => vec![error("audio-chunk before audio-start", "no-audio-start")],
            (Err(e), _) => vec![error(&e, "bad-audio-format")],
        }
    }

    async fn audio_stop(&mut self) -> Vec<WireEvent> {
        match (self.capture.take(), self.detector.take()) {
            (None, _) => vec![error("audio-stop before audio-start", "no-audio-start")],
            (Some(_), Some(d)) => tokio::task::spawn_blocking(move || d.finish())
                .await
                .unwrap_or_else(|e| vec![error(&e.to_string(), "wake-failed")]),
            // The detector could not start: the error was said at audio-start.
            (Some(_), None) if matches!(self.purpose, Purpose::Detect(_)) => Vec::new(),
            (Some(c), None) => vec![transcribe(&self.state, c).await],
        }
    }
}

fn error(text: &str, code: &str) -> WireEvent {
    tracing::info!(%text, code, "wyoming request refused");
    WireEvent::new("error", json!({"text": text, "code": code}))
}

fn audio_format(event: &WireEvent) -> Result<(u32, u16, u16), String> {
    let field = |name: &str| event.data.get(name).and_then(Value::as_u64);
    let rate = field("rate").ok_or("audio event without rate")? as u32;
    let width = field("width").ok_or("audio event without width")? as u16;
    let channels = field("channels").ok_or("audio event without channels")? as u16;
    if !(8_000..=192_000).contains(&rate) || width != 2 || channels == 0 || channels > 8 {
        return Err(format!(
            "audio must be 16-bit PCM (width 2) at 8–192 kHz with 1–8 channels; got rate {rate}, width {width}, channels {channels}"
        ));
    }
    Ok((rate, width, channels))
}

/// Little-endian s16 PCM, interleaved, to mono f32.
fn pcm_to_mono(bytes: &[u8], width: u16, channels: u16) -> Vec<f32> {
    let frame = usize::from(width) * usize::from(channels);
    bytes
        .chunks_exact(frame.max(1))
        .map(|f| {
            let sum: f32 = f
                .chunks_exact(2)
                .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0)
                .sum();
            sum / f32::from(channels.max(1))
        })
        .collect()
}

fn artifact(name: &str, description: &str, extra: Value) -> Value {
    let mut value = json!({
        "name": name,
        "attribution": {"name": "HausKI", "url": "https://github.com/hauski"},
        "installed": true,
        "description": description,
        "version": env!("CARGO_PKG_VERSION"),
    });
    if let (Value::Object(v), Value::Object(e)) = (&mut value, extra) {
        v.extend(e);
    }
    value
}

fn info(state: &SharedAssistant) -> WireEvent {
    let loaded = |stage: &str| {
        state
            .engines
            .loaded
            .iter()
            .find(|(_, s)| *s == stage)
            .map(|(id, _)| id.clone())
    };
    let mut data = json!({"asr": [], "tts": [], "wake": [], "handle": []});
    if let Some(id) = loaded("asr") {
        data["asr"] = json!([artifact(
            "hauski-asr",
            "Whisper (whisper.cpp) in HausKI",
            json!({
                "models": [artifact(&id, "Whisper model", json!({"languages": ["en"]}))],
                "supports_transcript_streaming": false,
            })
        )]);
    }
    if let Some(id) = loaded("tts") {
        data["tts"] = json!([artifact(
            "hauski-tts",
            "Piper voices in HausKI",
            json!({
                "voices": [artifact(&id, "Piper voice", json!({"languages": ["en_US"], "speakers": null}))],
                "supports_synthesize_streaming": true,
            })
        )]);
    }
    let wake_models: Vec<Value> = state
        .wake_words
        .names()
        .iter()
        .map(|(name, phrase)| {
            artifact(
                name,
                "rustpotter wake word",
                json!({"languages": ["en"], "phrase": phrase}),
            )
        })
        .collect();
    if state.engines.llm.is_some() {
        data["handle"] = json!([artifact(
            "hauski-conversation",
            "HausKI's assistant: its intents, memories, notes and LLM",
            json!({
                "models": [artifact("hauski", "HausKI", json!({"languages": ["en"]}))],
                "supports_handled_streaming": false,
            })
        )]);
    }
    if !wake_models.is_empty() {
        data["wake"] = json!([artifact(
            "hauski-wake",
            "HausKI's wake words (openWakeWord features, HausKI's classifiers)",
            json!({"models": wake_models})
        )]);
    }
    WireEvent::new("info", data)
}

async fn transcribe(state: &SharedAssistant, capture: Capture) -> WireEvent {
    let Some(transcriber) = state.engines.transcriber.clone() else {
        return error(
            "no speech recognition model is loaded; run `hauski models pull whisper-tiny-en`",
            "asr-off",
        );
    };
    let result = tokio::task::spawn_blocking(move || {
        let samples = hauski_audio::resample(&capture.samples, capture.rate, hauski_voice::ASR_RATE)
            .map_err(|e| e.to_string())?;
        transcriber
            .transcribe(&samples, hauski_voice::ASR_RATE)
            .map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(transcript)) => {
            WireEvent::new("transcript", json!({"text": transcript.text, "language": "en"}))
        }
        Ok(Err(e)) => error(&e, "asr-failed"),
        Err(e) => error(&e.to_string(), "asr-failed"),
    }
}

async fn synthesize(state: &SharedAssistant, text: String) -> Vec<WireEvent> {
    let Some(voice) = state.engines.voice.clone() else {
        return vec![error(
            "no voice is loaded; run `hauski models pull piper-joe`",
            "tts-off",
        )];
    };
    if text.trim().is_empty() {
        return vec![error("nothing to say: the text is empty", "empty-text")];
    }
    let (samples, rate) = match crate::assistant::synthesize(voice, text, 1.0).await {
        Ok(r) => r,
        Err(e) => return vec![error(&e.to_string(), "tts-failed")],
    };
    let format = json!({"rate": rate, "width": 2, "channels": 1});
    let mut events = vec![WireEvent::new("audio-start", format.clone())];
    for chunk in samples.chunks(CHUNK_SAMPLES) {
        let pcm: Vec<u8> = chunk
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
            .collect();
        events.push(WireEvent::new("audio-chunk", format.clone()).with_payload(pcm));
    }
    events.push(WireEvent::new("audio-stop", json!({})));
    events
}

/// `handle`: the assistant's reply to a transcript, as the voice loop would
/// give it (intents included: it is the owner speaking through Home Assistant).
async fn handle(state: &SharedAssistant, text: String) -> WireEvent {
    if text.trim().is_empty() {
        return error("nothing to answer: the transcript is empty", "empty-text");
    }
    let assistant = state.clone();
    let reply =
        tokio::task::spawn_blocking(move || assistant.reply(&text, Door::HomeAssistant, Allow::ALL)).await;
    match reply {
        Ok(Ok(answer)) => WireEvent::new("handled", json!({"text": answer})),
        Ok(Err(e)) => error(&e.to_string(), "handle-failed"),
        Err(e) => error(&e.to_string(), "handle-failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_pcm_is_mixed_down() {
        let left = 16384i16.to_le_bytes();
        let right = 0i16.to_le_bytes();
        let bytes = [left, right].concat();
        assert_eq!(pcm_to_mono(&bytes, 2, 2), vec![0.25]);
    }
}
