//! The messenger adapters as an owner sets them up and as the internet
//! treats them: enabled and given a token by the CLI (the token read from
//! stdin, encrypted in the vault), polling a Telegram Bot API on loopback,
//! reaching for a host the routing policy does not grant them (refused,
//! audited), and meeting malformed JSON, a 20 MB answer and a server that
//! hangs: each time the adapter fails, backs off and recovers, and the
//! daemon answers meanwhile; an adapter that loops forever or asks for
//! 4 GiB is stopped by the host.

use std::path::Path;
use std::time::Duration;

use crate::common::adapters::{config_granting_loopback, set_secret};
use crate::common::messengers::{Messengers, TELEGRAM_TOKEN};
use crate::common::server::{Server, post_json};
use crate::common::{fresh_dir, hauski_with_data, require_gemma, run_err, run_ok};

/// The daemon answers a question over the API.
fn answers(server: &Server) {
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &serde_json::json!({"model": "hauski", "messages": [{"role": "user", "content": "Say hello."}],
            "max_tokens": 8, "temperature": 0}),
    );
    assert_eq!(status, 200, "the daemon stopped answering: {body}");
    assert!(body["choices"][0]["message"]["content"].is_string(), "{body}");
}

/// An adapter of the owner's in `skills/NAME/` of the data dir, whose poll
/// runs `body` (WebAssembly text).
fn owners_adapter(data: &Path, name: &str, body: &str) {
    let dir = data.join("skills").join(name);
    std::fs::create_dir_all(&dir).expect("skill dir");
    std::fs::write(
        dir.join("skill.yaml"),
        format!(
            "name: {name}\ndescription: misbehaves\nmodule: {name}.wasm\nadapter: {{source: Test}}\n\
             actions:\n  - {{name: {name}.poll, description: poll, tool: false, parameters: {{type: object}}}}\n\
             limits: {{fuel: 5000000, memory_mib: 1}}\n"
        ),
    )
    .expect("manifest");
    let module = format!(
        r#"(module (memory (export "memory") 1)
  (func (export "hauski_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hauski_call") (param i32 i32) (result i64) {body}))"#
    );
    std::fs::write(dir.join(format!("{name}.wasm")), module).expect("module");
}

#[test]
fn adapters_poll_only_granted_hosts_and_recover_from_bad_servers() {
    require_gemma();
    let messengers = Messengers::start();
    let data = fresh_dir("adapters-data");
    let config = config_granting_loopback(&fresh_dir("adapters-config"), |memory| memory);
    let hauski = |args: &[&str]| {
        let mut cmd = hauski_with_data(&data);
        cmd.env("HAUSKI_CONFIG", &config).args(args);
        cmd
    };

    let listed = run_ok(&mut hauski(&["adapters", "list"]));
    for adapter in ["telegram", "matrix", "signal"] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(adapter) && l.contains("disabled")),
            "{listed}"
        );
    }
    let unknown = run_err(&mut hauski(&["adapters", "enable", "whatsapp"]));
    assert!(
        unknown.contains("whatsapp") && unknown.contains("telegram, matrix, signal"),
        "{unknown}"
    );
    let api = format!("api={}", messengers.url);
    run_ok(&mut hauski(&[
        "adapters", "enable", "telegram", "--set", &api, "--set", "wait_s=2",
    ]));
    set_secret(&data, &config, "telegram", "token", TELEGRAM_TOKEN);
    // Signal's API at `localhost`, which no rule grants it.
    let port = messengers.url.rsplit(':').next().expect("port");
    let localhost = format!("api=http://localhost:{port}");
    run_ok(&mut hauski(&[
        "adapters",
        "enable",
        "signal",
        "--set",
        &localhost,
        "--set",
        "number=+49151",
    ]));
    let listed = run_ok(&mut hauski(&["adapters", "list"]));
    let telegram = listed
        .lines()
        .find(|l| l.starts_with("telegram"))
        .expect("telegram listed");
    assert!(
        telegram.contains("enabled") && telegram.ends_with("token"),
        "{listed}"
    );
    assert!(
        !listed.contains(TELEGRAM_TOKEN)
            && !std::fs::read_to_string(data.join("adapters.yaml"))
                .expect("settings")
                .contains(TELEGRAM_TOKEN)
    );
    let vault = std::fs::read(data.join("secrets.age")).expect("the vault");
    assert!(
        !String::from_utf8_lossy(&vault).contains("AAFD39"),
        "the token lies in the clear"
    );

    // Two adapters of the owner's that misbehave: one loops forever, one
    // asks for 4 GiB. The host stops each call; the daemon goes on.
    for (name, body) in [
        ("looper", "(loop (br 0)) (i64.const 0)"),
        ("hog", "(drop (memory.grow (i32.const 65535))) (i64.const 0)"),
    ] {
        owners_adapter(&data, name, body);
        run_ok(&mut hauski(&["adapters", "enable", name]));
    }

    let mut cmd = hauski_with_data(&data);
    cmd.env("HAUSKI_CONFIG", &config);
    let server = Server::start(cmd, &[]);
    server.wait_for("the runaway adapters to be stopped", || {
        let audit = std::fs::read_to_string(data.join("audit.log")).unwrap_or_default();
        audit.contains("\"skill\":\"looper\",\"decision\":\"failed\"")
            && audit.contains("ran past its fuel")
            && audit.contains("\"skill\":\"hog\",\"decision\":\"failed\"")
    });
    messengers.telegram("Anna", "The train is late.");
    server.wait_for("Anna's message on the bus", || {
        server.log().contains("The train is late.")
    });
    server.wait_for("the refusal of localhost", || {
        server.log().contains("egress refused")
    });
    answers(&server);

    // A bad server, three ways: the adapter fails, backs off, recovers.
    for (what, hold, body, expected) in [
        ("malformed JSON", 0, "{\"ok\": tru".to_string(), "not JSON"),
        ("a 20 MB answer", 0, "x".repeat(20 << 20), "larger than"),
        ("a hanging server", 20, String::new(), "timeout"),
    ] {
        let telegram_failures = |log: &str| -> Vec<String> {
            log.lines()
                .filter(|l| l.contains("adapter failed") && l.contains("telegram"))
                .map(str::to_string)
                .collect()
        };
        let failures_before = telegram_failures(&server.log()).len();
        messengers.misbehave(Some((Duration::from_secs(hold), body)));
        server.wait_for(what, || {
            let failures = telegram_failures(&server.log());
            failures.len() > failures_before && failures.last().is_some_and(|l| l.contains(expected))
        });
        messengers.misbehave(None);
        let text = format!("Still there after {what}?");
        messengers.telegram("Ben", &text);
        server.wait_for("the adapter to recover", || server.log().contains(&text));
        answers(&server);
    }
    drop(server);

    let requests = messengers.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with(&format!("/bot{TELEGRAM_TOKEN}/"))),
        "{requests:?}"
    );
    let tail = run_ok(&mut hauski(&["audit", "tail", "-n", "1000"]));
    assert!(
        tail.contains("egress refused") && tail.contains("http://localhost"),
        "{tail}"
    );
    assert!(
        tail.contains("egress allowed") && tail.contains("secret read"),
        "{tail}"
    );
    assert!(
        !tail.contains(TELEGRAM_TOKEN),
        "the audit log holds the token:\n{tail}"
    );
    let verified = run_ok(&mut hauski(&["audit", "verify"]));
    assert!(verified.contains("every signature hold"), "{verified}");
}
