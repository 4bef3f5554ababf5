//! Messengers on loopback, as the adapters meet them on the internet: the
//! Telegram Bot API's `getUpdates`, the Matrix client-server API's `/sync`
//! and signal-cli-rest-api's `/v1/receive/{number}`, each a real HTTP
//! long-poll (held open until a message arrives or the client's `timeout`
//! passes), with the shapes their public documentation gives. Tests post
//! messages into them and read which requests came in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const TELEGRAM_TOKEN: &str = "4839574812:AAFD39kkdpWt3ywyRZergyOLMaJhac60qc";
pub const MATRIX_TOKEN: &str = "syt_aGF1c2tp_WlAsbbxTkGxIomFlxUzN_1dnWQ2";
pub const SIGNAL_NUMBER: &str = "+4915112345678";

#[derive(Default)]
struct Kept {
    /// Telegram updates not yet confirmed by a later offset.
    telegram: Vec<Value>,
    next_update_id: i64,
    /// Matrix timeline events, in order; `s{n}` is the token after n events.
    matrix: Vec<Value>,
    /// signal-cli's queue: taken by the next receive.
    signal: Vec<Value>,
    /// Every request's path (tokens included: the tests check the adapters
    /// sent them), in order.
    requests: Vec<String>,
    /// Set: every request is held this long and answered with this body.
    misbehave: Option<(Duration, String)>,
    /// Long-polls held open now (a killed client's among them, until they time out).
    open_polls: usize,
}

#[derive(Clone, Default)]
struct Shared {
    kept: Arc<Mutex<Kept>>,
    arrived: Arc<Notify>,
}

pub struct Messengers {
    /// `http://127.0.0.1:PORT`, serving all three.
    pub url: String,
    shared: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl Messengers {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/{bot}/getUpdates", get(telegram).post(telegram))
            .route("/_matrix/client/v3/sync", get(matrix))
            .route("/v1/receive/{number}", get(signal))
            .with_state(shared.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            shared,
            _runtime: runtime,
        }
    }

    fn post(&self, add: impl FnOnce(&mut Kept)) {
        add(&mut self.shared.kept.lock().expect("kept"));
        self.shared.arrived.notify_waiters();
    }

    /// A private message to the bot from `first_name`.
    pub fn telegram(&self, first_name: &str, text: &str) {
        self.post(|kept| {
            kept.next_update_id += 1;
            let id = 600_000 + kept.next_update_id;
            kept.telegram.push(json!({"update_id": id, "message": {
                "message_id": id, "date": 1_764_590_400,
                "from": {"id": 1001, "is_bot": false, "first_name": first_name},
                "chat": {"id": 1001, "first_name": first_name, "type": "private"},
                "text": text}}));
        });
    }

    /// A text message in the room "Family" from `name`.
    pub fn matrix(&self, name: &str, text: &str) {
        let sender = format!("@{}:example.org", name.to_lowercase());
        self.post(|kept| {
            let event_id = format!("$e{}", kept.matrix.len());
            kept.matrix
                .push(json!({"type": "m.room.message", "sender": sender,
                "event_id": event_id, "origin_server_ts": 1_764_590_400_000u64,
                "content": {"msgtype": "m.text", "body": text}}));
        });
    }

    /// A direct Signal message from `name`.
    pub fn signal(&self, name: &str, text: &str) {
        self.post(|kept| {
            kept.signal.push(json!({"envelope": {
                "source": "+4917000000", "sourceNumber": "+4917000000", "sourceUuid": "9d6f3a1e",
                "sourceName": name, "sourceDevice": 1, "timestamp": 1_764_590_400_000u64,
                "dataMessage": {"timestamp": 1_764_590_400_000u64, "message": text,
                    "expiresInSeconds": 0, "viewOnce": false}},
                "account": SIGNAL_NUMBER}));
        });
    }

    /// From now on every request hangs for `hold` and then gets `body`
    /// (malformed JSON, a huge answer); `None` behaves again.
    pub fn misbehave(&self, how: Option<(Duration, String)>) {
        self.post(|kept| kept.misbehave = how);
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.kept.lock().expect("kept").requests.clone()
    }

    /// Waits until no long-poll is held open: after a client was killed,
    /// its polls still wait here (as on a real server, which notices a dead
    /// client only when it writes), and one of them would take a message
    /// meant for the next client.
    pub fn wait_until_idle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.shared.kept.lock().expect("kept").open_polls > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "long-polls stayed open for a minute"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Counts a long-poll as open until it is answered or dropped.
struct OpenPoll(Shared);

impl Drop for OpenPoll {
    fn drop(&mut self) {
        self.0.kept.lock().expect("kept").open_polls -= 1;
    }
}

/// Records the request; holds it until something is there for `ready`, or
/// `timeout_s` passes (a long-poll).
async fn long_poll<T>(
    shared: &Shared,
    path: String,
    timeout_s: u64,
    mut ready: impl FnMut(&mut Kept) -> Option<T>,
) -> Result<Option<T>, Response> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout_s);
    let misbehave = {
        let mut kept = shared.kept.lock().expect("kept");
        kept.requests.push(path);
        kept.open_polls += 1;
        kept.misbehave.clone()
    };
    let _open = OpenPoll(shared.clone());
    if let Some((hold, body)) = misbehave {
        tokio::time::sleep(hold).await;
        return Err(([("content-type", "application/json")], body).into_response());
    }
    loop {
        let arrived = shared.arrived.notified();
        if let Some(found) = ready(&mut shared.kept.lock().expect("kept")) {
            return Ok(Some(found));
        }
        if tokio::time::timeout_at(deadline, arrived).await.is_err() {
            return Ok(None);
        }
    }
}

async fn telegram(
    State(shared): State<Shared>,
    Path(bot): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if bot != format!("bot{TELEGRAM_TOKEN}") {
        let refused = json!({"ok": false, "error_code": 401, "description": "Unauthorized"});
        return (StatusCode::UNAUTHORIZED, Json(refused)).into_response();
    }
    let offset: i64 = query.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let timeout_s = query.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(0);
    let found = long_poll(&shared, format!("/{bot}/getUpdates"), timeout_s, |kept| {
        // An offset confirms every update before it: they are gone for good.
        kept.telegram
            .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
        (!kept.telegram.is_empty()).then(|| kept.telegram.clone())
    })
    .await;
    match found {
        Ok(updates) => Json(json!({"ok": true, "result": updates.unwrap_or_default()})).into_response(),
        Err(misbehaving) => misbehaving,
    }
}

async fn matrix(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {MATRIX_TOKEN}"));
    if !authorized {
        let refused = json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."});
        return (StatusCode::UNAUTHORIZED, Json(refused)).into_response();
    }
    let since: usize = query
        .get("since")
        .and_then(|s| s.strip_prefix('s')?.parse().ok())
        .unwrap_or(0);
    let initial = !query.contains_key("since");
    let timeout_ms: u64 = query.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(0);
    let found = long_poll(
        &shared,
        "/_matrix/client/v3/sync".into(),
        timeout_ms / 1000,
        |kept| {
            let events: Vec<Value> = kept.matrix.iter().skip(since).cloned().collect();
            (initial || !events.is_empty()).then_some((events, kept.matrix.len()))
        },
    )
    .await;
    let (events, next) = match found {
        Ok(Some(found)) => found,
        Ok(None) => (Vec::new(), since),
        Err(misbehaving) => return misbehaving,
    };
    let members: Vec<Value> = ["Anna", "Ben", "Carla"]
        .iter()
        .map(|n| json!({"type": "m.room.member", "state_key": format!("@{}:example.org", n.to_lowercase()),
            "sender": format!("@{}:example.org", n.to_lowercase()), "content": {"membership": "join", "displayname": n}}))
        .collect();
    let mut state = vec![
        json!({"type": "m.room.name", "state_key": "", "sender": "@anna:example.org",
        "content": {"name": "Family"}}),
    ];
    state.extend(members);
    let rooms = if events.is_empty() {
        json!({})
    } else {
        json!({"join": {"!family:example.org": {
            "state": {"events": state},
            "timeline": {"events": events, "limited": false, "prev_batch": format!("s{since}")}}}})
    };
    Json(json!({"next_batch": format!("s{next}"), "rooms": rooms})).into_response()
}

async fn signal(
    State(shared): State<Shared>,
    Path(number): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if number != SIGNAL_NUMBER {
        let refused = json!({"error": format!("User {number} is not registered.")});
        return (StatusCode::BAD_REQUEST, Json(refused)).into_response();
    }
    let timeout_s = query.get("timeout").and_then(|t| t.parse().ok()).unwrap_or(1);
    let found = long_poll(&shared, format!("/v1/receive/{number}"), timeout_s, |kept| {
        (!kept.signal.is_empty()).then(|| std::mem::take(&mut kept.signal))
    })
    .await;
    match found {
        Ok(envelopes) => Json(Value::from(envelopes.unwrap_or_default())).into_response(),
        Err(misbehaving) => misbehaving,
    }
}
