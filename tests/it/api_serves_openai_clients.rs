//! The side API against real clients: the official `openai` Python SDK,
//! hand-read SSE, bad input of every kind, auth, limits and a load test.
//! Uses Gemma 3 270M (fetched by scripts/fetch-gemma.sh) as the chat model.

use crate::common;

use crate::common::server::{RawRequest, Server, assert_error, config_with_limits, get, post, post_json};
use crate::common::{audio, hauski, require_gemma, run_err, wer};
use serde_json::{Value, json};

const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

#[test]
fn the_official_openai_sdk_works_unchanged() {
    require_gemma();
    let server = Server::start(hauski(), &[]);
    let out_dir = common::fresh_dir("openai-sdk");
    let jfk = audio("jfk.wav");
    let args = [server.base.as_ref(), jfk.as_os_str(), out_dir.as_os_str()];
    let r = common::python_json("openai_client.py", args, &server.log());

    let chat = &r["chat"];
    assert_eq!(chat["role"], "assistant");
    assert_eq!(chat["model"], "gemma-3-270m");
    assert!(
        chat["content"].as_str().unwrap_or_default().contains("Paris"),
        "chat: {chat}"
    );
    assert_eq!(chat["finish_reason"], "stop");
    let usage = &chat["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["prompt_tokens"].as_u64().unwrap_or(0) + usage["completion_tokens"].as_u64().unwrap_or(0))
    );

    assert_eq!(r["limited"]["finish_reason"], "length");
    assert_eq!(r["limited"]["completion_tokens"], 5);

    let stream = &r["stream"];
    assert!(stream["content_chunks"].as_u64() >= Some(3), "stream: {stream}");
    assert!(
        stream["last_s"].as_f64() > stream["first_s"].as_f64(),
        "chunks arrived all at once: {stream}"
    );
    assert!(!stream["text"].as_str().unwrap_or_default().trim().is_empty());
    assert!(matches!(
        stream["finish_reason"].as_str(),
        Some("stop" | "length")
    ));
    assert!(
        stream["usage"]["completion_tokens"].as_u64() >= Some(3),
        "usage in stream: {stream}"
    );

    let emb = &r["embeddings"];
    assert_eq!(emb["dims"], json!([384, 384, 384]));
    let paraphrase = emb["paraphrase"].as_f64().unwrap_or(0.0);
    let unrelated = emb["unrelated"].as_f64().unwrap_or(1.0);
    assert!(
        (paraphrase - 0.755).abs() < 0.01,
        "paraphrase cosine {paraphrase}"
    );
    assert!(
        paraphrase > unrelated + 0.4,
        "paraphrase {paraphrase} vs unrelated {unrelated}"
    );
    assert!(emb["single_vs_batch"].as_f64() > Some(0.9999));

    let models: Vec<&str> = r["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for id in [
        "gemma-3-270m",
        "whisper-tiny-en-test",
        "piper-joe",
        "minilm-l6-v2",
        "hey-hauski",
    ] {
        assert!(
            models.contains(&id),
            "{id} missing from models.list(): {models:?}"
        );
    }
    assert!(
        !models.iter().any(|m| m.ends_with("-config")),
        "config files listed as models: {models:?}"
    );

    let transcription = r["transcription"].as_str().unwrap_or_default();
    assert!(wer(JFK, transcription) <= 0.05, "transcription: {transcription}");
    assert!((r["verbose"]["duration"].as_f64().unwrap_or(0.0) - 11.0).abs() < 0.1);
    assert!(r["verbose"]["segments"].as_u64() >= Some(1));
    let read_back = r["speech_read_back"].as_str().unwrap_or_default();
    assert!(
        wer("The kitchen timer is done.", read_back) <= 0.2,
        "speech read back: {read_back}"
    );

    assert_eq!(r["errors"]["unknown_model"]["status"], 404);
    assert_eq!(r["errors"]["unknown_model"]["code"], "model_not_found");
    assert_eq!(r["errors"]["empty_messages"]["status"], 400);
    assert_eq!(r["errors"]["empty_messages"]["param"], "messages");
    let too_long = &r["errors"]["stream_too_long"];
    assert_eq!(
        too_long["status"], 400,
        "a streamed prompt past the context: {too_long}"
    );
    assert_eq!(too_long["param"], "messages");
}

#[test]
fn a_stream_is_server_sent_events_ending_in_done() {
    require_gemma();
    let server = Server::start(hauski(), &[]);
    let request = RawRequest::post_json(
        &server.addr(),
        "/v1/chat/completions",
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Name a colour."}],
                "max_tokens": 8, "stream": true}),
    );
    let response = request.read_all();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_lowercase()
            .contains("content-type: text/event-stream"),
        "{response}"
    );
    let data: Vec<&str> = response
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.last(), Some(&"[DONE]"), "last event: {response}");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("each chunk is JSON"))
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    let finish = chunks
        .iter()
        .rev()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert!(matches!(finish, Some("stop" | "length")), "{response}");
}

#[test]
fn bad_input_gets_openai_error_objects_and_the_server_keeps_answering() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let chat = server.url("/v1/chat/completions");

    let (status, bytes) = post(
        &chat,
        "application/json",
        b"{\"model\": \"hauski\", \"messages\": [",
        None,
    );
    let body: Value = serde_json::from_slice(&bytes).expect("error is JSON");
    assert_error(status, &body, 400);
    server.assert_alive();

    let (status, body) = post_json(&chat, &json!({"model": "hauski", "messages": "hello"}));
    assert_error(status, &body, 400);
    let (status, body) = post_json(
        &chat,
        &json!({"model": "hauski", "messages": [{"role": "user", "content": 5}]}),
    );
    assert_error(status, &body, 400);
    let (status, body) = post_json(
        &chat,
        &json!({"model": "hauski", "messages": [{"role": "robot", "content": "hi"}]}),
    );
    assert!(assert_error(status, &body, 400).contains("robot"));
    let (status, body) = post_json(
        &chat,
        &json!({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(assert_error(status, &body, 404).contains("gpt-9"));
    let (status, body) = post_json(&chat, &json!({"model": "hauski", "messages": []}));
    assert_error(status, &body, 400);
    let (status, body) = post_json(
        &chat,
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}),
    );
    assert!(assert_error(status, &body, 400).contains("api.max_tokens"));
    let (status, body) = post_json(
        &server.url("/v1/embeddings"),
        &json!({"model": "minilm-l6-v2", "input": [], "encoding_format": "float"}),
    );
    assert_error(status, &body, 400);
    server.assert_alive();

    // 50 MB: refused from its Content-Length, never read.
    let big = vec![b' '; 50 * 1024 * 1024];
    let head = format!(
        "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    );
    let response = RawRequest::send(&server.addr(), &head, &big).read_all();
    assert!(
        response.starts_with("HTTP/1.1 413"),
        "{}",
        &response[..response.len().min(300)]
    );
    assert!(response.contains("max_body_bytes"), "{response}");
    server.assert_alive();

    // Corrupt audio, by both routes.
    let (status, bytes) = post(
        &server.url("/asr/transcribe"),
        "audio/wav",
        b"RIFF\x10\0\0\0WAVEjunkjunk",
        None,
    );
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_error(status, &body, 400);
    let boundary = "hauskiboundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"broken.wav\"\r\nContent-Type: audio/wav\r\n\r\nnot audio at all\r\n--{boundary}--\r\n"
    );
    let (status, bytes) = post(
        &server.url("/v1/audio/transcriptions"),
        &format!("multipart/form-data; boundary={boundary}"),
        form.as_bytes(),
        None,
    );
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert!(assert_error(status, &body, 400).contains("broken.wav"), "{body}");
    server.assert_alive();

    // An unknown profile names the known ones; a synonym switches.
    let (status, body) = post_json(&server.url("/audio/profile"), &json!({"profile": "garage"}));
    let message = assert_error(status, &body, 404);
    assert!(
        message.contains("garage") && message.contains("kueche"),
        "{message}"
    );
    let (status, body) = post_json(&server.url("/audio/profile"), &json!({"profile": "kitchen"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"], "kueche");

    let (status, body) = get(&server.url("/no/such/route"), None);
    assert_eq!(status, 404, "{body}");
    server.assert_alive();
}

#[test]
fn a_client_that_leaves_mid_stream_cancels_its_generation() {
    require_gemma();
    let server = Server::start(hauski(), &[]);
    let mut request = RawRequest::post_json(
        &server.addr(),
        "/v1/chat/completions",
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Count from one to five hundred."}],
                "max_tokens": 512, "stream": true}),
    );
    request.read_until("\"content\":\"");
    drop(request);
    server.wait_for("the generation to be cancelled", || {
        server.metric("hauski_llm_generations_cancelled_total") >= 1.0
    });
    // The slot is free again: the next question is answered.
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(server.metric("hauski_llm_completion_tokens_total") >= 4.0);
}

#[test]
fn a_full_queue_gets_429_and_a_slow_request_504() {
    require_gemma();
    let config = config_with_limits(&common::fresh_dir("limits"), |limits| {
        limits.replace("max_queued_generations: 8", "max_queued_generations: 0")
    });
    let mut cmd = hauski();
    cmd.env("HAUSKI_CONFIG", &config);
    let server = Server::start(cmd, &[]);
    let mut running = RawRequest::post_json(
        &server.addr(),
        "/v1/chat/completions",
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Count from one to five hundred."}],
                "max_tokens": 512, "stream": true}),
    );
    running.read_until("\"content\":\"");
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Hi"}]}),
    );
    assert!(assert_error(status, &body, 429).contains("busy"), "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    drop(running);

    let config = config_with_limits(&common::fresh_dir("limits"), |limits| {
        limits.replace("request_timeout_ms: 120000", "request_timeout_ms: 1")
    });
    let mut cmd = hauski();
    cmd.env("HAUSKI_CONFIG", &config);
    let server = Server::start(cmd, &[]);
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "Tell me a story."}], "max_tokens": 64}),
    );
    assert!(
        assert_error(status, &body, 504).contains("request_timeout_ms"),
        "{body}"
    );
    server.wait_for("the timed-out generation to be cancelled", || {
        server.metric("hauski_llm_generations_cancelled_total") >= 1.0
    });
}

#[test]
fn a_token_guards_every_route_but_healthz() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_API_TOKEN", "s3cret")
        .env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let (status, body) = get(&server.url("/v1/models"), None);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_error(status, &body, 401);
    let (status, _) = get(&server.url("/v1/models"), Some("wrong"));
    assert_eq!(status, 401);
    let (status, _) = get(&server.url("/v1/models"), Some("s3cret"));
    assert_eq!(status, 200);
    let (status, _) = get(&server.url("/healthz"), None);
    assert_eq!(status, 200);
    assert!(
        server.log().contains("bad or missing bearer token"),
        "401s are logged"
    );
}

#[test]
fn listening_beyond_loopback_without_a_token_is_refused() {
    let mut cmd = hauski();
    cmd.env_remove("HAUSKI_API_TOKEN")
        .args(["serve", "--listen", "0.0.0.0:0"]);
    let err = run_err(&mut cmd);
    assert!(
        err.contains("without a bearer token") && err.contains("HAUSKI_API_TOKEN"),
        "{err}"
    );
}

#[test]
fn metrics_and_openapi_describe_the_server() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let wav = std::fs::read(audio("jfk.wav")).expect("jfk.wav");
    let (status, bytes) = post(&server.url("/asr/transcribe"), "audio/wav", &wav, None);
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert!(
        wer(JFK, body["text"].as_str().unwrap_or_default()) <= 0.05,
        "{body}"
    );
    assert!(body["segments"].as_array().is_some_and(|s| !s.is_empty()));

    let (_, metrics) = get(&server.url("/metrics"), None);
    assert!(
        metrics.contains(
            "hauski_http_requests_total{method=\"POST\",route=\"/asr/transcribe\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("hauski_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(server.metric("hauski_asr_real_time_factor") > 0.0, "{metrics}");

    let (status, doc) = get(&server.url("/openapi.json"), None);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).expect("openapi is JSON");
    assert!(doc["paths"]["/v1/chat/completions"]["post"].is_object());
    assert_every_documented_route_is_served(&server, &doc);
    assert_the_bus_streams_as_server_sent_events(&server);
}

/// `/events` (what `hauski top` watches): a message posted to `/notify`
/// arrives as a `hauski.notification` event with its payload.
fn assert_the_bus_streams_as_server_sent_events(server: &Server) {
    use std::io::BufRead;
    let response = ureq::get(&server.url("/events")).call().expect("/events answers");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "text/event-stream");
    let mut lines = std::io::BufReader::new(response.into_body().into_reader()).lines();
    let (status, body) = post_json(
        &server.url("/notify"),
        &json!({"text": "The train is late.", "source": "Home Assistant"}),
    );
    assert_eq!(status, 202, "{body}");
    let event = lines.find_map(|line| line.ok().filter(|l| l.starts_with("event:")));
    assert_eq!(event.as_deref(), Some("event: hauski.notification"));
    let data = lines.next().and_then(Result::ok).unwrap_or_default();
    let payload: Value = serde_json::from_str(data.trim_start_matches("data:").trim()).expect("JSON data");
    assert_eq!(payload["text"].as_str(), Some("The train is late."), "{payload}");
}

/// Each operation in the document reaches its handler: an empty request is
/// answered by the route itself (mostly a 400 naming what is missing), never
/// by the router's fallback (404 `unknown_route`) or a 405.
fn assert_every_documented_route_is_served(server: &Server, doc: &Value) {
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            let streams = op["responses"]["200"]["content"]["text/event-stream"].is_object();
            let (status, body) = match method.as_str() {
                // A stream never ends: its status is the answer.
                "get" if streams => {
                    let response = ureq::get(&server.url(path)).call().expect("GET");
                    (response.status().as_u16(), Vec::new())
                }
                "get" => {
                    let (status, body) = get(&server.url(path), None);
                    (status, body.into_bytes())
                }
                "post" => {
                    let content_type = op["requestBody"]["content"]
                        .as_object()
                        .and_then(|c| c.keys().next().cloned())
                        .unwrap_or_else(|| "application/json".into());
                    let body: &[u8] = if content_type == "application/json" {
                        b"{}"
                    } else {
                        b""
                    };
                    post(&server.url(path), &content_type, body, None)
                }
                "delete" => {
                    let (status, body) = common::server::delete(&server.url(path));
                    (status, body.to_string().into_bytes())
                }
                other => panic!("{other} {path}: a method the test does not know"),
            };
            let text = String::from_utf8_lossy(&body);
            assert!(
                status != 405 && !text.contains("unknown_route"),
                "{method} {path} is documented but not served: {status} {text}"
            );
        }
    }
    assert!(operations >= 19, "only {operations} operations documented");
}

/// Under systemd (`Type=notify`), the daemon says READY once it serves and
/// pings the watchdog while it runs: read here from the socket systemd would
/// listen on.
#[test]
fn the_service_manager_hears_ready_and_watchdog_pings() {
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};

    let dir = common::fresh_dir("notify");
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut cmd = hauski();
    cmd.env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID");
    let server = Server::start(cmd, &[]);
    let mut buf = [0u8; 512];
    let mut said = Vec::new();
    let mut pings = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while pings.len() < 3 && Instant::now() < deadline {
        let Ok(n) = socket.recv(&mut buf) else { break };
        let message = String::from_utf8_lossy(&buf[..n]).to_string();
        if message.contains("WATCHDOG=1") {
            pings.push(Instant::now());
        }
        said.push(message);
    }
    let ready = said
        .iter()
        .position(|m| m.contains("READY=1"))
        .unwrap_or_else(|| panic!("no READY=1: {said:?}"));
    assert!(said[ready].contains("STATUS=answering on http://"), "{said:?}");
    assert!(pings.len() >= 3, "watchdog pings: {said:?}");
    // At half the interval (0.2 s), not in a burst and not stalled.
    let gaps: Vec<f64> = pings.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    assert!(gaps.iter().all(|g| (0.05..2.0).contains(g)), "ping gaps {gaps:?}");
    let (status, _) = get(&server.url("/healthz"), None);
    assert_eq!(status, 200);
}

/// Ollama's API, with the official `ollama` client (as Home Assistant's
/// Ollama integration and Open WebUI speak it).
#[test]
fn the_official_ollama_client_works_unchanged() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let r = common::python_json("ollama_client.py", [&server.base], &server.log());

    assert!(
        r["version"].as_str().is_some_and(|v| v.split('.').count() == 3),
        "{r}"
    );
    let mut tags: Vec<&str> = r["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, ["minilm-l6-v2:latest", "tiny-random-llama:latest"], "{r}");
    assert_eq!(r["show"]["capabilities"][0], "completion");
    assert_eq!(r["show"]["quantization"], "F32");

    let chat = &r["chat"];
    assert_eq!(chat["role"], "assistant");
    assert_eq!(chat["done"], true);
    assert_eq!(chat["done_reason"], "length", "num_predict 12 runs out: {chat}");
    assert_eq!(chat["eval_count"], 12);
    assert!(chat["prompt_eval_count"].as_u64() > Some(0));
    // Streamed, the same seeded greedy answer arrives in pieces, `done` only on the last.
    let stream = &r["chat_stream"];
    assert!(stream["chunks"].as_u64() > Some(2), "{stream}");
    assert_eq!(stream["text"], chat["content"], "{stream} vs {chat}");
    assert_eq!(stream["last_done"], true);
    assert_eq!(stream["done_before_last"], false);
    assert_eq!(r["generate"]["done"], true);
    assert_eq!(r["generate"]["eval_count"], 8);

    let embed = &r["embed"];
    assert_eq!(embed["count"], 2);
    assert_eq!(embed["dims"], 384);
    let cosine = embed["cosine"].as_f64().expect("cosine");
    assert!(
        (cosine - 0.755).abs() < 0.02,
        "MiniLM's reference is 0.755: {cosine}"
    );

    assert_eq!(r["unknown_model"]["status"], 404, "{r}");
    assert!(
        r["unknown_model"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("/api/tags"))
    );
    assert_eq!(r["too_many_tokens"]["status"], 400);
    assert_eq!(r["stream_too_long"]["status"], 400, "{r}");
    assert!(
        r["stream_too_long"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("context")),
        "{r}"
    );
    assert!(
        r["too_many_tokens"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("num_predict")),
        "{r}"
    );
    server.assert_alive();
}
