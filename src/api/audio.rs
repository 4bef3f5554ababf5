//! Speech over HTTP: OpenAI's `/v1/audio/transcriptions` and `/v1/audio/speech`,
//! and HausKI's raw-body `/asr/transcribe`.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hauski_voice::{ASR_RATE, Transcript};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{
    ErrorBody, PlainTranscription, RequestErrors, TimedText, Transcription, VerboseSegment,
    VerboseTranscription,
};
use super::state::SharedState;
use crate::assistant::{SpeechError, synthesize};

/// OpenAI's voice names: all speak with the one Piper voice loaded, so that
/// clients written for OpenAI work without edits.
const OPENAI_VOICES: &[&str] = &[
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
];

fn unavailable(what: &str, pull: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_error",
        format!("no {what} model is loaded; run `hauski models pull {pull}` and restart `hauski serve`"),
    )
}

fn loaded_id(state: &SharedState, stage: &str) -> String {
    state
        .engines
        .loaded
        .iter()
        .find(|(_, s)| *s == stage)
        .map(|(id, _)| id.clone())
        .unwrap_or_default()
}

/// Decodes and transcribes an upload; bad audio is the client's 400.
async fn transcribe_bytes(state: &SharedState, bytes: Bytes, name: String) -> ApiResult<(Transcript, f64)> {
    let transcriber = state
        .engines
        .transcriber
        .clone()
        .ok_or_else(|| unavailable("speech recognition", "whisper-tiny-en"))?;
    let max_s = state.config.limits.speech.max_audio_s;
    let started = Instant::now();
    let (transcript, audio_s) = tokio::task::spawn_blocking(move || {
        let too_long = |how_long: String| {
            ApiError::invalid(
                "file",
                format!("{name} is {how_long}, over the limit of {max_s} s (speech.max_audio_s in policies/limits.yaml)"),
            )
        };
        // The limit is handed to the decoder: compressed audio is refused
        // while it decodes, before hours of samples fill memory.
        let samples = hauski_audio::decode_mono_within(&bytes, &name, ASR_RATE, f64::from(max_s))
            .map_err(|e| match e {
                hauski_audio::AudioError::TooLong { .. } => too_long("longer".into()),
                other => ApiError::invalid("file", other.to_string()),
            })?;
        let audio_s = samples.len() as f64 / f64::from(ASR_RATE);
        if audio_s > f64::from(max_s) {
            return Err(too_long(format!("{audio_s:.0} s long")));
        }
        let transcript = transcriber
            .transcribe(&samples, ASR_RATE)
            .map_err(ApiError::internal)?;
        Ok((transcript, audio_s))
    })
    .await
    .map_err(ApiError::internal)??;
    state
        .metrics
        .asr_real_time_factor
        .set(started.elapsed().as_secs_f64() / audio_s.max(1e-9));
    Ok((transcript, audio_s))
}

fn multipart_error(e: impl std::fmt::Display, status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError {
            status,
            ..ApiError::bad_request(e.to_string())
        };
    }
    ApiError::bad_request(format!("cannot read the multipart form: {e}"))
}

/// The multipart form of `/v1/audio/transcriptions` (documentation only: the
/// handler reads the fields as they stream in).
#[derive(ToSchema)]
#[allow(dead_code, reason = "describes the form for the OpenAPI document")]
pub struct TranscriptionForm {
    /// WAV, FLAC, MP3, M4A/MP4, Ogg (Vorbis, Opus) or WebM; any rate and channel count.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The loaded ASR model's id, `whisper-1` or `hauski`.
    model: String,
    /// `json` (default), `verbose_json` or `text`.
    response_format: Option<String>,
    /// `en` or nothing: the model understands English.
    language: Option<String>,
}

/// Speech to text (OpenAI-compatible multipart form: `file`, `model`,
/// `response_format`).
#[utoipa::path(post, path = "/v1/audio/transcriptions", tag = "openai",
    request_body(content = TranscriptionForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The transcript (text/plain for `response_format: text`)", body = Transcription),
        RequestErrors,
        (status = 404, description = "The model named is not the one loaded", body = ErrorBody),
    ))]
pub async fn transcriptions(
    State(state): State<SharedState>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let mut form = form.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut file: Option<(String, Bytes)> = None;
    let mut model = None;
    let mut format = "json".to_string();
    let mut language = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, e.status()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e, e.status()))?;
                file = Some((file_name, bytes));
            }
            "model" => model = Some(field.text().await.map_err(|e| multipart_error(&e, e.status()))?),
            "response_format" => format = field.text().await.map_err(|e| multipart_error(&e, e.status()))?,
            "language" => language = Some(field.text().await.map_err(|e| multipart_error(&e, e.status()))?),
            // prompt, temperature, timestamp_granularities[]: accepted, not used.
            _ => {}
        }
    }
    let (file_name, bytes) = file.ok_or_else(|| ApiError::invalid("file", "the form has no `file` field"))?;
    let loaded = loaded_id(&state, "asr");
    match model.as_deref() {
        None => return Err(ApiError::invalid("model", "the form has no `model` field")),
        Some(m) if m == loaded || m == "whisper-1" || m == "hauski" => {}
        Some(m) => {
            return Err(ApiError::not_found(
                "model_not_found",
                format!(
                    "the model {m:?} is not loaded; this server transcribes with {loaded:?} (or say whisper-1)"
                ),
            ));
        }
    }
    if let Some(lang) = language.filter(|l| !l.is_empty() && l != "en") {
        return Err(ApiError::invalid(
            "language",
            format!("{loaded} understands English only, not {lang:?}"),
        ));
    }
    if !matches!(format.as_str(), "json" | "text" | "verbose_json") {
        return Err(ApiError::invalid(
            "response_format",
            format!("response_format {format:?} is not json, text or verbose_json"),
        ));
    }
    let (transcript, audio_s) = transcribe_bytes(&state, bytes, file_name).await?;
    Ok(match format.as_str() {
        "text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            transcript.text,
        )
            .into_response(),
        "verbose_json" => {
            let segments = transcript
                .segments
                .iter()
                .enumerate()
                .map(|(id, s)| VerboseSegment {
                    id,
                    seek: 0,
                    start: s.start,
                    end: s.end,
                    text: s.text.clone(),
                    tokens: Vec::new(),
                    temperature: 0.0,
                    avg_logprob: 0.0,
                    compression_ratio: 0.0,
                    no_speech_prob: 0.0,
                })
                .collect();
            Json(Transcription::Verbose(VerboseTranscription {
                task: "transcribe".into(),
                language: "english".into(),
                duration: audio_s,
                text: transcript.text,
                segments,
            }))
            .into_response()
        }
        _ => Json(Transcription::Plain(PlainTranscription {
            text: transcript.text,
        }))
        .into_response(),
    })
}

/// Speech to text: a recording (WAV, FLAC, MP3, M4A, Ogg, WebM) as the raw body.
#[utoipa::path(post, path = "/asr/transcribe", tag = "hauski",
    request_body(description = "A WAV, FLAC, MP3, M4A, Ogg or WebM file", content(
        (Vec<u8> = "audio/wav"),
        (Vec<u8> = "audio/flac"),
    )),
    responses(
        (status = 200, description = "The transcript with timed segments", body = super::schema::TimedTranscript),
        RequestErrors,
    ))]
pub async fn asr_transcribe(
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<super::schema::TimedTranscript>> {
    let bytes = body.map_err(|e| {
        let status = e.status();
        multipart_error(e.body_text(), status)
    })?;
    let (transcript, audio_s) = transcribe_bytes(&state, bytes, "the request body".to_string()).await?;
    Ok(Json(super::schema::TimedTranscript {
        segments: transcript
            .segments
            .into_iter()
            .map(|s| TimedText {
                start: s.start,
                end: s.end,
                text: s.text,
            })
            .collect(),
        text: transcript.text,
        duration: audio_s,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SpeechRequest {
    /// `tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, `hauski` or the loaded voice's id.
    model: String,
    /// The text to speak.
    input: String,
    /// The loaded voice's id or any OpenAI voice name (all speak with it).
    voice: String,
    /// `wav` (default) or `pcm` (24 kHz, 16-bit little-endian mono).
    #[serde(default)]
    response_format: Option<String>,
    /// 0.25 to 4.0; 1.0 is the voice's own pace.
    #[serde(default)]
    speed: Option<f32>,
}

/// OpenAI's raw PCM is 24 kHz, 16-bit little-endian mono.
const OPENAI_PCM_RATE: u32 = 24_000;

/// Text to speech (OpenAI-compatible): `input` spoken with the Piper voice.
#[utoipa::path(post, path = "/v1/audio/speech", tag = "openai", request_body = SpeechRequest, responses(
    (status = 200, description = "The speech, as WAV or raw PCM", content(
        (Vec<u8> = "audio/wav"),
        (Vec<u8> = "audio/pcm"),
    )),
    RequestErrors,
    (status = 404, description = "The model named is not the one loaded", body = ErrorBody),
    (status = 503, description = "No voice is loaded", body = ErrorBody),
))]
pub async fn speech(
    State(state): State<SharedState>,
    body: Result<Json<SpeechRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(request) = body?;
    let voice = state
        .engines
        .voice
        .clone()
        .ok_or_else(|| unavailable("speech synthesis", "piper-joe"))?;
    let loaded = loaded_id(&state, "tts");
    if !matches!(
        request.model.as_str(),
        "tts-1" | "tts-1-hd" | "gpt-4o-mini-tts" | "hauski"
    ) && request.model != loaded
    {
        return Err(ApiError::not_found(
            "model_not_found",
            format!(
                "the model {:?} is not loaded; this server speaks with {loaded:?} (or say tts-1)",
                request.model
            ),
        ));
    }
    if request.voice != loaded && !OPENAI_VOICES.contains(&request.voice.as_str()) {
        return Err(ApiError::invalid(
            "voice",
            format!(
                "unknown voice {:?}; use {loaded:?} or an OpenAI voice name ({})",
                request.voice,
                OPENAI_VOICES.join(", ")
            ),
        ));
    }
    let text = request.input.trim().to_string();
    let max = state.limits().max_speech_chars;
    if text.is_empty() || text.chars().count() > max {
        return Err(ApiError::invalid(
            "input",
            format!("input must hold 1 to {max} characters (api.max_speech_chars in policies/limits.yaml)"),
        ));
    }
    let pcm = match request.response_format.as_deref() {
        None | Some("wav") => false,
        Some("pcm") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "response_format",
                format!("response_format {other:?} is not supported; use wav or pcm"),
            ));
        }
    };
    let speed = request.speed.unwrap_or(1.0);
    if !(0.25..=4.0).contains(&speed) {
        return Err(ApiError::invalid("speed", "speed must be between 0.25 and 4.0"));
    }
    let started = Instant::now();
    let (samples, rate) = synthesize(voice, text, speed).await.map_err(|e| match e {
        SpeechError::Voice(e) => ApiError::invalid("input", e.to_string()),
        SpeechError::Task(e) => ApiError::internal(e),
    })?;
    let audio_s = samples.len() as f64 / f64::from(rate.max(1));
    state
        .metrics
        .tts_real_time_factor
        .set(started.elapsed().as_secs_f64() / audio_s.max(1e-9));
    if pcm {
        let resampled =
            hauski_audio::resample(&samples, rate, OPENAI_PCM_RATE).map_err(ApiError::internal)?;
        let bytes: Vec<u8> = resampled
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
            .collect();
        return Ok(([(header::CONTENT_TYPE, "audio/pcm")], bytes).into_response());
    }
    let wav = hauski_audio::encode_wav(&samples, rate);
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}
