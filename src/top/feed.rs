//! What `hauski top` hears from the daemon: the bus as server-sent events
//! (`/events`) on one thread, `/metrics` once a second on another, both
//! into one channel. A daemon that is gone is retried every second and
//! reported, never fatal: `top` keeps showing the last state.

use std::io::{BufRead, BufReader};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use serde_json::Value;

/// How often `/metrics` is read, and a lost daemon retried.
pub const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum Update {
    Event {
        subject: String,
        payload: Value,
    },
    Metrics(String),
    /// The daemon cannot be reached or refused: why.
    Trouble(String),
}

/// Where the daemon is and how to get in.
#[derive(Debug, Clone)]
pub struct DaemonApi {
    pub api: String,
    pub token: Option<String>,
}

impl DaemonApi {
    fn get(&self, path: &str, timeout: Option<Duration>) -> Result<ureq::http::Response<ureq::Body>, String> {
        let url = format!("{}{path}", self.api.trim_end_matches('/'));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_global(timeout)
            .build()
            .into();
        let mut request = agent.get(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let response = request
            .call()
            .map_err(|e| format!("cannot reach HausKI at {url}: {e}; is `hauski serve` running (--api)?"))?;
        match response.status().as_u16() {
            200 => Ok(response),
            401 => Err(format!(
                "{url} wants a token: pass --token or set HAUSKI_API_TOKEN"
            )),
            other => Err(format!("{url} answered {other}")),
        }
    }
}

/// Starts both readers; updates arrive until the receiver is dropped.
pub fn start(daemon: &DaemonApi) -> Result<Receiver<Update>, std::io::Error> {
    let (to, updates) = channel();
    let (events_daemon, events_to) = (daemon.clone(), to.clone());
    std::thread::Builder::new()
        .name("top-events".into())
        .spawn(move || follow_events(&events_daemon, &events_to))?;
    let metrics_daemon = daemon.clone();
    std::thread::Builder::new()
        .name("top-metrics".into())
        .spawn(move || scrape_metrics(&metrics_daemon, &to))?;
    Ok(updates)
}

/// One `/metrics` scrape.
pub fn metrics_once(daemon: &DaemonApi) -> Result<String, String> {
    daemon
        .get("/metrics", Some(Duration::from_secs(10)))?
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading /metrics: {e}"))
}

fn scrape_metrics(daemon: &DaemonApi, to: &Sender<Update>) {
    loop {
        let update = metrics_once(daemon).map_or_else(Update::Trouble, Update::Metrics);
        if to.send(update).is_err() {
            return;
        }
        std::thread::sleep(EVERY);
    }
}

fn follow_events(daemon: &DaemonApi, to: &Sender<Update>) {
    loop {
        let reason = match daemon.get("/events", None) {
            Ok(response) => read_events(BufReader::new(response.into_body().into_reader()), to),
            Err(reason) => reason,
        };
        if to.send(Update::Trouble(reason)).is_err() {
            return;
        }
        std::thread::sleep(EVERY);
    }
}

/// Reads server-sent events until the stream ends; why it ended.
pub fn read_events(reader: impl BufRead, to: &Sender<Update>) -> String {
    let (mut subject, mut data) = (String::new(), String::new());
    for line in reader.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => return format!("the event stream broke: {e}"),
        };
        if let Some(name) = line.strip_prefix("event:") {
            subject = name.trim().to_string();
        } else if let Some(more) = line.strip_prefix("data:") {
            data.push_str(more.trim_start());
        } else if line.is_empty() && !subject.is_empty() {
            let payload = serde_json::from_str(&data).unwrap_or(Value::Null);
            let event = Update::Event {
                subject: std::mem::take(&mut subject),
                payload,
            };
            if to.send(event).is_err() {
                return "top stopped".into();
            }
            data.clear();
        }
    }
    "the daemon closed the event stream".into()
}
