//! The built-in messenger adapters in the sandbox, against canned answers
//! in each messenger's wire format (the daemon's tests run them against
//! servers on loopback): what they hand over, what they keep, and what the
//! host refuses them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::super::egress::{Egress, HttpRequest, HttpResponse};
use super::super::secrets::SecretReader;
use super::super::*;

/// Answers queued per host; the hosts it allows per skill; every request sent.
#[derive(Default)]
pub struct CannedEgress {
    pub granted: Mutex<Vec<(String, String)>>,
    pub answers: Mutex<VecDeque<Result<HttpResponse, String>>>,
    pub sent: Mutex<Vec<HttpRequest>>,
}

impl Egress for CannedEgress {
    fn allows(&self, skill: &str, host: &str) -> bool {
        self.granted
            .lock()
            .expect("granted")
            .iter()
            .any(|(s, h)| s == skill && h == host)
    }

    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        self.sent.lock().expect("sent").push(request.clone());
        self.answers
            .lock()
            .expect("answers")
            .pop_front()
            .unwrap_or_else(|| Err("no answer queued".into()))
    }
}

impl CannedEgress {
    fn grant(&self, skill: &str, host: &str) {
        self.granted
            .lock()
            .expect("granted")
            .push((skill.into(), host.into()));
    }

    fn answer(&self, status: u16, body: &str) {
        self.answers.lock().expect("answers").push_back(Ok(HttpResponse {
            status,
            body: body.into(),
        }));
    }
}

/// Secrets by (owner, key); every read recorded with its owner.
#[derive(Default)]
pub struct SecretsInMemory {
    pub kept: Mutex<HashMap<(String, String), String>>,
    pub read: Mutex<Vec<(String, String)>>,
}

impl SecretReader for SecretsInMemory {
    fn secret(&self, owner: &str, key: &str) -> Result<Option<String>, String> {
        self.read.lock().expect("read").push((owner.into(), key.into()));
        Ok(self
            .kept
            .lock()
            .expect("kept")
            .get(&(owner.to_string(), key.to_string()))
            .cloned())
    }
}

type Heard = Arc<Mutex<Vec<(String, Option<String>, Message)>>>;

struct Bench {
    host: SkillHost,
    egress: Arc<CannedEgress>,
    secrets: Arc<SecretsInMemory>,
    heard: Heard,
}

fn bench(dir: &Path) -> Bench {
    let egress = Arc::new(CannedEgress::default());
    let secrets = Arc::new(SecretsInMemory::default());
    let heard: Heard = Arc::default();
    let told = heard.clone();
    let services = HostServices {
        clock: Arc::new(|| super::NOW_MS),
        notify: Arc::new(move |from, message| {
            told.lock().expect("heard").push((
                from.skill.to_string(),
                from.source.map(str::to_string),
                message,
            ));
        }),
        alarms: None,
        egress: Some(egress.clone()),
        secrets: Some(secrets.clone()),
    };
    let mut host =
        SkillHost::new(&dir.join("skills.sqlite"), &dir.join("audit.log"), services).expect("host");
    for (manifest, wasm) in crate::builtin::skills() {
        if manifest.adapter.is_some() {
            host.load(manifest, wasm).expect("an adapter loads");
        }
    }
    Bench {
        host,
        egress,
        secrets,
        heard,
    }
}

impl Bench {
    /// `owner`'s secret `key` set, and `host` granted to `skill`.
    fn with(&self, skill: &str, host: &str, secret: Option<(&str, &str, &str)>) -> &Self {
        self.egress.grant(skill, host);
        if let Some((owner, key, value)) = secret {
            self.secrets
                .kept
                .lock()
                .expect("kept")
                .insert((owner.into(), key.into()), value.into());
        }
        self
    }
}

fn audit_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("audit.log")).expect("audit log")
}

#[test]
fn telegram_hands_over_messages_and_asks_only_for_what_is_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    bench.with(
        "telegram",
        "api.telegram.org",
        Some(("telegram", "token", "123:SECRET")),
    );
    bench.egress.answer(
        200,
        &json!({"ok": true, "result": [
            {"update_id": 41, "message": {"message_id": 1, "from": {"id": 7, "first_name": "Anna"},
             "chat": {"id": 7, "type": "private"}, "date": 1, "text": "On the train"}},
            {"update_id": 42, "message": {"message_id": 2, "from": {"id": 8, "first_name": "Ben", "last_name": "Ott"},
             "chat": {"id": -5, "type": "group", "title": "Family"}, "date": 2, "text": "Pizza?"}},
            {"update_id": 43, "message": {"message_id": 3, "from": {"id": 8, "first_name": "Ben"},
             "chat": {"id": -5, "type": "group", "title": "Family"}, "date": 3, "sticker": {}}}
        ]})
        .to_string(),
    );
    bench.egress.answer(200, r#"{"ok":true,"result":[]}"#);
    let args = json!({"settings": {}, "wait_s": 20});
    let polled = bench.host.call("telegram.poll", &args).expect("poll");
    assert_eq!(polled.data["messages"], 2);
    bench.host.call("telegram.poll", &args).expect("poll again");

    let heard = bench.heard.lock().expect("heard").clone();
    assert_eq!(heard.len(), 2);
    assert_eq!(
        (heard[0].0.as_str(), heard[0].1.as_deref()),
        ("telegram", Some("Telegram"))
    );
    assert_eq!(
        (heard[0].2.sender.as_str(), heard[0].2.room.as_deref()),
        ("Anna", None)
    );
    assert_eq!(heard[1].2.sender, "Ben Ott");
    assert_eq!(heard[1].2.room.as_deref(), Some("Family"));
    let sent = bench.egress.sent.lock().expect("sent").clone();
    assert!(
        sent[0]
            .url
            .starts_with("https://api.telegram.org/bot123:SECRET/getUpdates?timeout=20")
    );
    assert!(!sent[0].url.contains("offset="), "{}", sent[0].url);
    assert!(sent[1].url.ends_with("&offset=44"), "{}", sent[1].url);
    assert_eq!(sent[0].timeout_s, 30);
    // The audit log names the origin, never the token in the path.
    let audit = audit_of(dir.path());
    assert_eq!(audit.matches("egress allowed").count(), 2, "{audit}");
    assert!(audit.contains("GET https://api.telegram.org"), "{audit}");
    assert!(!audit.contains("SECRET"), "{audit}");
    assert!(audit.contains("\"decision\":\"secret read\""), "{audit}");
}

#[test]
fn a_host_the_policy_does_not_grant_stops_the_call_and_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    // Granted to the Signal adapter, not to Telegram.
    bench.with("signal", "127.0.0.1", Some(("telegram", "token", "123:SECRET")));
    let refused = bench
        .host
        .call(
            "telegram.poll",
            &json!({"settings": {"api": "http://127.0.0.1:9/"}}),
        )
        .expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("egress to http://127.0.0.1:9 refused"),
        "{refused}"
    );
    assert!(bench.egress.sent.lock().expect("sent").is_empty(), "it was sent");
    let audit = audit_of(dir.path());
    assert!(audit.contains("\"decision\":\"egress refused\""), "{audit}");
    assert!(audit.contains("\"decision\":\"failed\""), "{audit}");
}

#[test]
fn an_adapter_reads_only_its_own_secrets_and_says_which_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    bench.with(
        "matrix",
        "matrix.example.org",
        Some(("telegram", "access_token", "telegram's")),
    );
    let missing = bench
        .host
        .call(
            "matrix.poll",
            &json!({"settings": {"homeserver": "https://matrix.example.org"}}),
        )
        .expect_err("no token");
    assert!(
        missing
            .to_string()
            .contains("hauski secrets set matrix access_token"),
        "{missing}"
    );
    let asked = bench.secrets.read.lock().expect("read").clone();
    assert_eq!(asked, [("matrix".to_string(), "access_token".to_string())]);
}

#[test]
fn matrix_skips_history_then_reads_new_text_messages_with_display_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    bench.with(
        "matrix",
        "matrix.example.org",
        Some(("matrix", "access_token", "syt_token")),
    );
    let history = json!({"next_batch": "s1_1", "rooms": {"join": {"!a:example.org": {"timeline": {"events": [
        {"type": "m.room.message", "sender": "@anna:example.org", "content": {"msgtype": "m.text", "body": "old"}}
    ]}}}}});
    let new = json!({"next_batch": "s2_9", "rooms": {"join": {"!a:example.org": {
    "state": {"events": [
        {"type": "m.room.name", "state_key": "", "content": {"name": "Family"}},
        {"type": "m.room.member", "state_key": "@anna:example.org", "content": {"displayname": "Anna", "membership": "join"}}
    ]},
    "timeline": {"events": [
        {"type": "m.room.message", "sender": "@anna:example.org", "content": {"msgtype": "m.text", "body": "Dinner at 7"}},
        {"type": "m.room.message", "sender": "@ben:example.org", "content": {"msgtype": "m.image", "body": "cat.jpg"}},
        {"type": "m.room.message", "sender": "@me:example.org", "content": {"msgtype": "m.text", "body": "mine"}},
        {"type": "m.room.message", "sender": "@carla:example.org", "content": {"msgtype": "m.text", "body": "Yes"}}
    ]}}}}});
    bench.egress.answer(200, &history.to_string());
    bench.egress.answer(200, &new.to_string());
    let args = json!({"settings": {"homeserver": "https://matrix.example.org/", "user_id": "@me:example.org"}, "wait_s": 25});
    assert_eq!(
        bench.host.call("matrix.poll", &args).expect("first").data["messages"],
        0
    );
    assert_eq!(
        bench.host.call("matrix.poll", &args).expect("second").data["messages"],
        2
    );
    let heard: Vec<(String, Option<String>, String)> = bench
        .heard
        .lock()
        .expect("heard")
        .iter()
        .map(|(_, _, m)| (m.sender.clone(), m.room.clone(), m.text.clone()))
        .collect();
    assert_eq!(
        heard,
        [
            ("Anna".into(), Some("Family".into()), "Dinner at 7".into()),
            ("carla".into(), Some("Family".into()), "Yes".into())
        ]
    );
    let sent = bench.egress.sent.lock().expect("sent").clone();
    assert!(
        sent[0].url.ends_with("/_matrix/client/v3/sync?timeout=0"),
        "{}",
        sent[0].url
    );
    assert!(
        sent[1].url.ends_with("sync?timeout=25000&since=s1_1"),
        "{}",
        sent[1].url
    );
    assert_eq!(
        sent[1].headers,
        BTreeMap::from([("Authorization".to_string(), "Bearer syt_token".to_string())])
    );
}

#[test]
fn malformed_oversized_and_failed_answers_fail_the_poll_not_the_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    bench.egress.grant("signal", "127.0.0.1");
    let args = json!({"settings": {"api": "http://127.0.0.1:8080", "number": "+4912345"}, "wait_s": 5});
    bench.egress.answer(200, "[{\"envelope\":");
    bench
        .egress
        .answers
        .lock()
        .expect("answers")
        .push_back(Err("the response is larger than 4194304 bytes; refused".into()));
    bench.egress.answer(500, "signal-cli is restarting");
    for expected in ["not JSON", "larger than", "answered 500"] {
        let failed = bench.host.call("signal.poll", &args).expect_err(expected);
        assert!(failed.to_string().contains(expected), "{failed}");
    }
    // Three failures in a row: it rests, then recovers.
    assert!(matches!(
        bench.host.call("signal.poll", &args),
        Err(SkillError::Resting { .. })
    ));
    let sent = bench.egress.sent.lock().expect("sent").clone();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:8080/v1/receive/%2B4912345?timeout=5"
    );
}

#[test]
fn signal_reads_direct_and_group_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path());
    bench.egress.grant("signal", "127.0.0.1");
    bench.egress.answer(
        200,
        &json!([
            {"envelope": {"source": "+491111", "sourceNumber": "+491111", "sourceName": "Anna", "timestamp": 1,
              "dataMessage": {"timestamp": 1, "message": "Running late"}}, "account": "+4912345"},
            {"envelope": {"source": "+492222", "sourceNumber": "+492222", "sourceName": "", "timestamp": 2,
              "dataMessage": {"timestamp": 2, "message": "Who has the keys?",
                "groupInfo": {"groupId": "abc=", "groupName": "Family", "type": "DELIVER"}}}, "account": "+4912345"},
            {"envelope": {"source": "+491111", "sourceName": "Anna", "timestamp": 3,
              "typingMessage": {"action": "STARTED", "timestamp": 3}}, "account": "+4912345"}
        ])
        .to_string(),
    );
    let args = json!({"settings": {"api": "http://127.0.0.1:8080", "number": "+4912345"}});
    assert_eq!(
        bench.host.call("signal.poll", &args).expect("poll").data["messages"],
        2
    );
    let heard: Vec<(String, Option<String>)> = bench
        .heard
        .lock()
        .expect("heard")
        .iter()
        .map(|(_, source, m)| {
            (
                m.sender.clone(),
                source
                    .clone()
                    .zip(m.room.clone())
                    .map(|(s, r)| format!("{s}/{r}")),
            )
        })
        .collect();
    assert_eq!(
        heard,
        [
            ("Anna".into(), None),
            ("+492222".into(), Some("Signal/Family".into()))
        ]
    );
}
