//! A load test from a second process (Debian's `wrk`) on loopback: 64
//! concurrent clients on /v1/embeddings and /healthz for a bounded time.
//! No request may fail; p50/p95/p99 go to target/bench/api-load.json.

use crate::common;

use std::process::Command;

use crate::common::hauski;
use crate::common::server::Server;
use serde_json::{Value, json};

fn wrk(url: &str, body: Option<&str>, seconds: u32) -> Value {
    let script = common::repo().join("tests/load/report.lua");
    let output = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--timeout", "60s", "-s"])
        .arg(&script)
        .arg(url)
        .env("WRK_BODY", body.unwrap_or(""))
        .output()
        .expect("wrk is installed (scripts/install-deps.sh installs Debian's wrk)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("wrk printed the summary");
    serde_json::from_str(line).expect("summary is JSON")
}

fn assert_no_errors(route: &str, r: &Value) {
    for field in [
        "connect_errors",
        "read_errors",
        "write_errors",
        "status_errors",
        "timeouts",
    ] {
        assert_eq!(r[field], 0, "{route}: {field} in {r}");
    }
    assert!(
        r["requests"].as_u64() > Some(64),
        "{route}: too few requests: {r}"
    );
}

#[test]
fn sixty_four_clients_get_answers_without_errors() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let body =
        json!({"model": "minilm-l6-v2", "input": "Is the kitchen window open?", "encoding_format": "float"})
            .to_string();
    let embeddings = wrk(&server.url("/v1/embeddings"), Some(&body), 8);
    assert_no_errors("/v1/embeddings", &embeddings);
    let health = wrk(&server.url("/healthz"), None, 4);
    assert_no_errors("/healthz", &health);
    server.assert_alive();

    let report = json!({"clients": 64, "embeddings": embeddings, "healthz": health});
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("bench"));
    if let Some(dir) = target {
        std::fs::create_dir_all(&dir).expect("target/bench");
        std::fs::write(dir.join("api-load.json"), report.to_string()).expect("api-load.json");
    }
}
