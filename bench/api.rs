//! `hauski bench api`: what the HTTP layer costs. The same requests go to the
//! engines directly and through the API (served in this process on loopback),
//! interleaved so both see the same machine state. Writes target/bench/api.json.

use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::serve::ListenerExt;
use hauski_brain::{ChatMessage, ChatRole, GenerationParams};

use hauski::assistant::context::system_prompt;
use hauski::assistant::generation::{Door, Requested, generation_params};
use hauski_voice::ASR_RATE;
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{cell, mean_ci95, median, publish};
use hauski::engines::App;

const PROMPT: &str = "Tell me about the history of Rome.";
const MAX_TOKENS: u32 = 64;
/// Pairs timed for the first token alone (two tokens each, so a pair costs
/// ~0.1 s): enough that the interval of the overhead is narrow.
const FIRST_TOKEN_PAIRS: usize = 200;
const SPEECH: &str = "The kitchen timer is done. The oven is now off.";

/// One timed answer, as the caller sees it.
struct Timed {
    first_token_ms: f64,
    tokens_per_s: f64,
}

/// One client for the whole run, so connections are kept alive and reused
/// as an OpenAI SDK's are; a new connection per request would bill the API
/// for TCP set-up that real clients do not pay each time.
fn agent() -> ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT
        .get_or_init(|| {
            ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(300)))
                .build()
                .into()
        })
        .clone()
}

fn chat_body(stream: bool, max_tokens: u32) -> Value {
    json!({
        "model": "hauski",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
        "stream_options": {"include_usage": true},
    })
}

/// Streams one chat over HTTP: time to the first content delta, and tokens
/// per second from there to the end (as the direct path measures it).
fn http_chat(base: &str, max_tokens: u32) -> Result<Timed> {
    let started = Instant::now();
    let response = agent()
        .post(&format!("{base}/v1/chat/completions"))
        .header("Content-Type", "application/json")
        .send(chat_body(true, max_tokens).to_string())?;
    let mut first = None;
    let mut tokens = 0u64;
    // Read to the body's end (past `[DONE]`), as SDKs do: a connection whose
    // body was left unread cannot go back to the pool.
    for line in BufReader::new(response.into_body().into_reader()).lines() {
        let line = line?;
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        if data == "[DONE]" {
            continue;
        }
        let chunk: Value = serde_json::from_str(data)?;
        if chunk["choices"][0]["delta"]["content"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
        {
            first.get_or_insert_with(|| started.elapsed());
        }
        if let Some(n) = chunk["usage"]["completion_tokens"].as_u64() {
            tokens = n;
        }
    }
    let total = started.elapsed();
    let first = first.context("the stream carried no content")?;
    Ok(Timed {
        first_token_ms: first.as_secs_f64() * 1000.0,
        tokens_per_s: tokens as f64 / (total - first).as_secs_f64().max(1e-9),
    })
}

fn direct_chat(
    conversation: &mut hauski_brain::Conversation<'_>,
    params: &GenerationParams,
) -> Result<Timed> {
    // As the API composes the same request: HausKI's system prompt first.
    let messages = [
        ChatMessage::new(ChatRole::System, system_prompt(None)),
        ChatMessage::new(ChatRole::User, PROMPT),
    ];
    let started = Instant::now();
    let mut first = None;
    let stats = conversation.generate_chat(&messages, params, |piece| {
        if !piece.is_empty() {
            first.get_or_insert_with(|| started.elapsed());
        }
        ControlFlow::Continue(())
    })?;
    let total = started.elapsed();
    let first = first.context("the model answered nothing")?;
    Ok(Timed {
        first_token_ms: first.as_secs_f64() * 1000.0,
        tokens_per_s: stats.completion_tokens as f64 / (total - first).as_secs_f64().max(1e-9),
    })
}

/// `runs` pairs of one direct and one HTTP call, back to back, the two
/// taking turns going first so neither always follows the other's leftovers
/// (whisper's and llama.cpp's OpenMP threads spin on after their work).
fn interleaved<T>(
    runs: usize,
    mut direct: impl FnMut() -> Result<T>,
    mut http: impl FnMut() -> Result<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    let (mut directs, mut https) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..runs {
        if i % 2 == 0 {
            directs.push(direct()?);
            https.push(http()?);
        } else {
            https.push(http()?);
            directs.push(direct()?);
        }
    }
    Ok((directs, https))
}

fn overhead_pct(http: f64, direct: f64) -> f64 {
    (http - direct) / direct.max(1e-9) * 100.0
}

/// Inputs per second for `requests` calls of `batch` inputs each, over HTTP.
fn http_embeddings(base: &str, batch: usize, requests: usize) -> Result<f64> {
    let inputs: Vec<String> = (0..batch)
        .map(|i| format!("Is window {i} in the kitchen open?"))
        .collect();
    let body = json!({"model": "minilm-l6-v2", "input": inputs, "encoding_format": "float"}).to_string();
    let started = Instant::now();
    for _ in 0..requests {
        let mut response = agent()
            .post(&format!("{base}/v1/embeddings"))
            .header("Content-Type", "application/json")
            .send(body.as_str())?;
        response.body_mut().read_to_string()?;
    }
    Ok((batch * requests) as f64 / started.elapsed().as_secs_f64())
}

fn direct_embeddings(embedder: &hauski_brain::Embedder, batch: usize, requests: usize) -> Result<f64> {
    let inputs: Vec<String> = (0..batch)
        .map(|i| format!("Is window {i} in the kitchen open?"))
        .collect();
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let started = Instant::now();
    for _ in 0..requests {
        embedder.embed(&refs)?;
    }
    Ok((batch * requests) as f64 / started.elapsed().as_secs_f64())
}

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    if args.runs < 5 {
        bail!("--runs {} is too few; use at least 5", args.runs);
    }
    eprintln!("bench api: loading engines");
    let state = hauski::api::ApiState::new(hauski::assistant::Assistant::load(app)?, None);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = hauski::api::router(state.clone());
    runtime.spawn(async move { axum::serve(listener.tap_io(hauski::api::no_delay), router).await });

    // The direct path gets its own copy of the weights and its own context,
    // configured as the API's worker is.
    let model = app.load_llm()?;
    let mut conversation = model.conversation()?;
    eprintln!("bench api: chat ({} runs each way, interleaved)", args.runs);
    // The settings the API gives the same request (`max_tokens`, greedy).
    let params_for = |max_tokens: u32| {
        generation_params(
            &app.config.limits,
            Door::Api,
            &Requested {
                max_tokens: Some(max_tokens),
                temperature: Some(0.0),
                ..Requested::default()
            },
        )
    };
    let (params, first_only) = (params_for(MAX_TOKENS)?, params_for(2)?);
    direct_chat(&mut conversation, &params)?;
    http_chat(&base, MAX_TOKENS)?;
    let (direct, http) = interleaved(
        args.runs,
        || direct_chat(&mut conversation, &params),
        || http_chat(&base, MAX_TOKENS),
    )?;
    let ttft = |runs: &[Timed]| median(runs.iter().map(|t| t.first_token_ms).collect());
    let tps = |runs: &[Timed]| median(runs.iter().map(|t| t.tokens_per_s).collect());
    let (direct_ttft, http_ttft) = (ttft(&direct), ttft(&http));
    // The overhead from many short pairs, each back to back: a pair's
    // difference cancels most of what drifts between pairs (cache, clock,
    // the other core's work), a steadier estimate than two medians.
    eprintln!("bench api: first token alone ({FIRST_TOKEN_PAIRS} pairs)");
    let (first_direct, first_http) = interleaved(
        FIRST_TOKEN_PAIRS,
        || direct_chat(&mut conversation, &first_only),
        || http_chat(&base, 2),
    )?;
    let differences: Vec<f64> = first_direct
        .iter()
        .zip(&first_http)
        .map(|(d, h)| h.first_token_ms - d.first_token_ms)
        .collect();
    let paired_ttft_ms = median(differences.clone());
    // The overhead's 95 % interval, in per cent of the direct path's mean.
    let direct_mean = first_direct.iter().map(|t| t.first_token_ms).sum::<f64>() / first_direct.len() as f64;
    let (mean_diff, low_diff, high_diff) = mean_ci95(&differences);
    let pct = |ms: f64| ms / direct_mean.max(1e-9) * 100.0;
    let (direct_tps, http_tps) = (tps(&direct), tps(&http));

    eprintln!("bench api: embeddings");
    let embedder = state
        .engines
        .embedder
        .clone()
        .context("no embedding model loaded")?;
    http_embeddings(&base, 1, 5)?;
    let emb = json!({
        "batch_1": {
            "http_inputs_per_s": http_embeddings(&base, 1, 100)?,
            "direct_inputs_per_s": direct_embeddings(&embedder, 1, 100)?,
        },
        "batch_32": {
            "http_inputs_per_s": http_embeddings(&base, 32, 10)?,
            "direct_inputs_per_s": direct_embeddings(&embedder, 32, 10)?,
        },
    });

    eprintln!("bench api: ASR and TTS");
    let jfk = app.roots.locate(std::path::Path::new("audio/jfk.wav"));
    let wav = std::fs::read(&jfk).with_context(|| format!("cannot read {}", jfk.display()))?;
    let transcriber = state.engines.transcriber.clone().context("no ASR model loaded")?;
    let voice = state.engines.voice.clone().context("no voice loaded")?;
    let speech_body =
        json!({"model": "tts-1", "voice": "alloy", "input": SPEECH, "response_format": "wav"}).to_string();
    let asr_direct_once = || -> Result<f64> {
        // The CLI path: decode, resample, transcribe, in this process.
        let started = Instant::now();
        let samples = hauski_audio::decode_mono(&wav, "jfk.wav", ASR_RATE)?;
        transcriber.transcribe(&samples, ASR_RATE)?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let asr_http_once = || -> Result<f64> {
        let started = Instant::now();
        let mut response = agent()
            .post(&format!("{base}/asr/transcribe"))
            .header("Content-Type", "audio/wav")
            .send(wav.as_slice())?;
        response.body_mut().read_to_string()?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let tts_direct_once = || -> Result<f64> {
        let started = Instant::now();
        let voice = voice.lock().unwrap_or_else(|p| p.into_inner());
        let samples = voice.synthesize_all(SPEECH)?;
        let _ = hauski_audio::encode_wav(&samples, voice.sample_rate());
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let tts_http_once = || -> Result<f64> {
        let started = Instant::now();
        let mut response = agent()
            .post(&format!("{base}/v1/audio/speech"))
            .header("Content-Type", "application/json")
            .send(speech_body.as_str())?;
        response.body_mut().read_to_vec()?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    // Each engine warmed up first.
    asr_direct_once()?;
    let (asr_direct, asr_http) = interleaved(args.runs, asr_direct_once, asr_http_once)?;
    tts_direct_once()?;
    let (tts_direct, tts_http) = interleaved(args.runs, tts_direct_once, tts_http_once)?;
    let (asr_d, asr_h, tts_d, tts_h) = (
        median(asr_direct),
        median(asr_http),
        median(tts_direct),
        median(tts_http),
    );

    let report = json!({
        "machine": {"threads": app.threads},
        "chat": {
            "model": state.engines.llm.as_ref().map(|p| p.model_id().to_string()),
            "runs": args.runs,
            "max_tokens": MAX_TOKENS,
            "first_token_pairs": FIRST_TOKEN_PAIRS,
            "time_to_first_token_ms": {
                "direct": direct_ttft,
                "http": http_ttft,
                "overhead_pct": overhead_pct(http_ttft, direct_ttft),
                "paired_overhead_ms": paired_ttft_ms,
                "paired_overhead_pct": pct(paired_ttft_ms),
                "paired_overhead_mean_ms": mean_diff,
                "paired_overhead_ci95_ms": [low_diff, high_diff],
                "paired_overhead_mean_pct": pct(mean_diff),
                "paired_overhead_ci95_pct": [pct(low_diff), pct(high_diff)],
            },
            "tokens_per_s": {"direct": direct_tps, "http": http_tps, "overhead_pct": (direct_tps - http_tps) / direct_tps.max(1e-9) * 100.0},
            "target_overhead_pct": 2.0,
        },
        "embeddings": emb,
        "asr_jfk_ms": {"direct": asr_d, "http": asr_h, "overhead_pct": overhead_pct(asr_h, asr_d)},
        "tts_ms": {"direct": tts_d, "http": tts_h, "overhead_pct": overhead_pct(tts_h, tts_d)},
    });
    publish(args, "api", &report, &markdown_table(&report))
}

fn markdown_table(r: &Value) -> String {
    let model = r["chat"]["model"].as_str().unwrap_or("llm");
    let mut rows = vec![
        "| figure | direct | over HTTP | overhead |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    let c = &r["chat"];
    rows.push(format!(
        "| chat time to first token (ms), {model}, median of {} | {} | {} | {} % |",
        c["runs"],
        cell(&c["time_to_first_token_ms"]["direct"], 1),
        cell(&c["time_to_first_token_ms"]["http"], 1),
        cell(&c["time_to_first_token_ms"]["overhead_pct"], 1)
    ));
    rows.push(format!(
        "| chat time to first token alone, median of {} paired differences (ms) | | {} | {} % |",
        c["first_token_pairs"],
        cell(&c["time_to_first_token_ms"]["paired_overhead_ms"], 1),
        cell(&c["time_to_first_token_ms"]["paired_overhead_pct"], 1)
    ));
    let ci = &c["time_to_first_token_ms"]["paired_overhead_ci95_pct"];
    rows.push(format!(
        "| chat time to first token alone, mean paired overhead and its 95 % interval (target: upper end < 2 %) | | {} ms | {} % [{}, {}] |",
        cell(&c["time_to_first_token_ms"]["paired_overhead_mean_ms"], 2),
        cell(&c["time_to_first_token_ms"]["paired_overhead_mean_pct"], 1),
        cell(&ci[0], 1),
        cell(&ci[1], 1)
    ));
    rows.push(format!(
        "| chat generation (tokens/s) | {} | {} | {} % |",
        cell(&c["tokens_per_s"]["direct"], 1),
        cell(&c["tokens_per_s"]["http"], 1),
        cell(&c["tokens_per_s"]["overhead_pct"], 1)
    ));
    for batch in ["1", "32"] {
        let e = &r["embeddings"][format!("batch_{batch}")];
        rows.push(format!(
            "| embeddings, batch {batch} (inputs/s) | {} | {} | |",
            cell(&e["direct_inputs_per_s"], 0),
            cell(&e["http_inputs_per_s"], 0)
        ));
    }
    rows.push(format!(
        "| ASR, jfk.wav (ms) | {} | {} | {} % |",
        cell(&r["asr_jfk_ms"]["direct"], 0),
        cell(&r["asr_jfk_ms"]["http"], 0),
        cell(&r["asr_jfk_ms"]["overhead_pct"], 1)
    ));
    rows.push(format!(
        "| TTS, two sentences to WAV (ms) | {} | {} | {} % |",
        cell(&r["tts_ms"]["direct"], 0),
        cell(&r["tts_ms"]["http"], 0),
        cell(&r["tts_ms"]["overhead_pct"], 1)
    ));
    rows.join("\n")
}
