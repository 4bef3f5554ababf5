//! The bus over NATS: every `hauski.*` event of the core's bus goes out to a
//! NATS server under its subject, and commands come in (`hauski.cmd.*`), so
//! other programs and other HausKIs can listen and act.
//!
//! The appliance must never wait for the network: the client connects (and
//! reconnects) in the background, events published while the server is away
//! wait in the client's buffer and go out once it is back, and a command
//! that cannot be read is refused with a logged error (and a reply, when the
//! sender asked for one), never a crash. The server's host must be loopback
//! or allowed in `policies/routing.yaml`, as for every other egress.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;

use tokio::sync::broadcast;

use crate::assistant::SharedAssistant;
use crate::assistant::bus::{Bus, Event};
use crate::assistant::health::State;
use crate::assistant::notices::Notice;
use crate::config::Routing;

/// Commands other programs may send; each payload is a JSON object.
pub const COMMANDS: &str = "hauski.cmd.>";
/// `{"profile": "kueche"}`: switch the active audio profile.
pub const PROFILE_SET: &str = "hauski.cmd.profile.set";
/// `{"sender": "Anna", "text": "...", "urgency": "normal"}`: read a message aloud.
pub const NOTIFY: &str = "hauski.cmd.notify";

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("the bus URL {url} is not a NATS URL ({reason}); write it as nats://HOST:PORT")]
    BadUrl { url: String, reason: String },
    #[error("policies/routing.yaml does not allow {host}; add it under egress.allow to run the bus there")]
    Denied { host: String },
    #[error("cannot use the NATS server at {url}: {reason}")]
    Client { url: String, reason: String },
}

/// Connects to `url` in the background and bridges the core's bus to it
/// until the daemon stops. Returns once the bridge runs (not once the
/// server answers: an absent server is retried, and logged). The client is
/// for the other doors on the bus (satellites).
pub async fn start(state: SharedAssistant, url: &str) -> Result<async_nats::Client, BridgeError> {
    state
        .health
        .set("bus", State::Down, format!("connecting to {url}"));
    let watched = state.clone();
    let client = connect_with(url, &state.config.routing, move |event| match event {
        async_nats::Event::Connected => watched.health.up("bus"),
        async_nats::Event::Disconnected => {
            watched
                .health
                .set("bus", State::Down, "NATS is gone; reconnecting")
        }
        _ => {}
    })
    .await?;
    let commands = client
        .subscribe(COMMANDS)
        .await
        .map_err(|e| BridgeError::Client {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    forward(&state.bus, client.clone());
    tokio::spawn(obey_commands(state, client.clone(), commands));
    tracing::info!(%url, "bus: events go out over NATS, commands come in on {COMMANDS}");
    Ok(client)
}

/// A client for `url`, if `routing` lets HausKI reach it; it connects and
/// reconnects in the background.
pub async fn connect(url: &str, routing: &Routing) -> Result<async_nats::Client, BridgeError> {
    connect_with(url, routing, |_| {}).await
}

/// [`connect`], telling `on_event` each connection event as well.
async fn connect_with(
    url: &str,
    routing: &Routing,
    on_event: impl Fn(&async_nats::Event) + Send + Sync + 'static,
) -> Result<async_nats::Client, BridgeError> {
    let on_event = std::sync::Arc::new(on_event);
    let host = host_of(url)?;
    if !routing.allows(&host) {
        return Err(BridgeError::Denied { host });
    }
    async_nats::ConnectOptions::new()
        .name("hauski")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .event_callback(move |event| {
            on_event(&event);
            async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("bus: connected to NATS"),
                    async_nats::Event::Disconnected => {
                        tracing::warn!("bus: NATS is gone; events wait until it is back")
                    }
                    other => tracing::warn!(event = %other, "bus: NATS"),
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| BridgeError::Client {
            url: url.to_string(),
            reason: e.to_string(),
        })
}

/// Sends every event published on `bus` from now on to NATS, under its
/// subject, until the bus closes.
pub fn forward(bus: &Bus, client: async_nats::Client) {
    tokio::spawn(publish_events(bus.subscribe(), client));
}

/// `nats://host:port` (or a bare `host:port`) → the host, for routing.yaml.
fn host_of(url: &str) -> Result<String, BridgeError> {
    let bad = |reason: &str| BridgeError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = match url.split_once("://") {
        Some(("nats", rest)) => rest,
        Some((scheme, _)) => return Err(bad(&format!("the scheme is {scheme}, not nats"))),
        None => url,
    };
    crate::config::policies::host_after_scheme(rest).ok_or_else(|| bad("no host"))
}

async fn publish_events(mut events: broadcast::Receiver<Event>, client: async_nats::Client) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(event) => {
                let payload = event.payload().to_string();
                if let Err(e) = client.publish(event.subject(), payload.into()).await {
                    tracing::warn!(error = %e, subject = event.subject(), "bus: event not sent over NATS");
                }
            }
            Err(RecvError::Lagged(lost)) => {
                tracing::warn!(lost, "bus: the NATS bridge fell behind; events were lost")
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// A command as it comes in.
#[derive(Debug, PartialEq)]
enum Command {
    SetProfile { profile: String },
    Notify(Notice),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSet {
    profile: String,
}

/// Reads a command, or says what is wrong with it.
fn parse_command(subject: &str, payload: &[u8]) -> Result<Command, String> {
    match subject {
        PROFILE_SET => {
            let set: ProfileSet = serde_json::from_slice(payload)
                .map_err(|e| format!("{subject} wants {{\"profile\": NAME}}: {e}"))?;
            Ok(Command::SetProfile { profile: set.profile })
        }
        NOTIFY => {
            let note: Notice = serde_json::from_slice(payload).map_err(|e| {
                format!(
                    "{subject} wants {{\"sender\": ..., \"text\": ..., \"urgency\": low|normal|high, \"source\", \"room\", \"profile\" optional}}: {e}"
                )
            })?;
            if let Some(problem) = note.problem() {
                return Err(format!("{subject}: {problem}"));
            }
            Ok(Command::Notify(note))
        }
        other => Err(format!(
            "unknown command {other}; HausKI obeys {PROFILE_SET} and {NOTIFY}"
        )),
    }
}

async fn obey_commands(
    state: SharedAssistant,
    client: async_nats::Client,
    mut commands: async_nats::Subscriber,
) {
    while let Some(message) = commands.next().await {
        let subject = message.subject.to_string();
        let reply = {
            let _span = tracing::info_span!("bus_command", %subject).entered();
            match parse_command(&subject, &message.payload).and_then(|command| run(&state, command)) {
                Ok(done) => {
                    tracing::info!(%done, "bus: command carried out");
                    serde_json::json!({"ok": true, "done": done})
                }
                Err(reason) => {
                    tracing::error!(%reason, "bus: command refused");
                    serde_json::json!({"ok": false, "error": reason})
                }
            }
        };
        if let Some(to) = message.reply
            && let Err(e) = client.publish(to, reply.to_string().into()).await
        {
            tracing::warn!(error = %e, "bus: cannot reply to a command");
        }
    }
}

fn run(state: &SharedAssistant, command: Command) -> Result<String, String> {
    match command {
        Command::SetProfile { profile } => state
            .set_profile(&profile)
            .map(|name| format!("profile {name}"))
            .map_err(|e| e.to_string()),
        Command::Notify(note) => {
            state.bus.publish(Event::Notification(note));
            Ok("notification queued".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_read_from_the_url() {
        assert_eq!(
            host_of("nats://127.0.0.1:4222").ok().as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            host_of("nats://user:pw@hub.lan:4222").ok().as_deref(),
            Some("hub.lan")
        );
        assert_eq!(host_of("nats://[::1]:4222").ok().as_deref(), Some("[::1]"));
        assert_eq!(host_of("localhost:4222").ok().as_deref(), Some("localhost"));
        let err = host_of("http://hub.lan:4222")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("nats://HOST:PORT"), "{err}");
        assert!(host_of("nats://").is_err());
    }

    #[test]
    fn commands_are_read_and_bad_ones_explained() {
        assert_eq!(
            parse_command(PROFILE_SET, br#"{"profile": "kueche"}"#),
            Ok(Command::SetProfile {
                profile: "kueche".into()
            })
        );
        assert_eq!(
            parse_command(NOTIFY, br#"{"sender": "Anna", "text": "On the train."}"#),
            Ok(Command::Notify(Notice::from_program(
                "Anna",
                "On the train.",
                crate::assistant::bus::Urgency::Normal
            )))
        );
        for (subject, payload, says) in [
            (PROFILE_SET, &b"{not json"[..], "wants {\"profile\": NAME}"),
            (PROFILE_SET, br#"{"name": "kueche"}"#, "unknown field"),
            (NOTIFY, br#"{"sender": "Anna"}"#, "missing field `text`"),
            (
                NOTIFY,
                br#"{"sender": "A", "text": "hi", "urgency": "panic"}"#,
                "unknown variant",
            ),
            (NOTIFY, br#"{"sender": "A", "text": "  "}"#, "empty"),
            ("hauski.cmd.reboot", b"{}", "unknown command"),
        ] {
            let err = parse_command(subject, payload).err().unwrap_or_default();
            assert!(err.contains(says), "{subject} {payload:?}: {err}");
        }
        let long = format!(
            r#"{{"sender": "A", "text": "{}"}}"#,
            "a".repeat(crate::assistant::notices::MAX_TEXT_CHARS + 1)
        );
        assert!(parse_command(NOTIFY, long.as_bytes()).is_err());
    }
}
