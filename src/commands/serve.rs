//! `hauski serve`: the daemon. Loads every engine once, then runs the side API
//! (and the Wyoming server when asked), the notes watcher and — where an
//! audio device is present — the voice loop, all sharing those engines.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use axum::serve::ListenerExt;

use crate::cli::ServeArgs;
use hauski::api::{ApiState, SharedState};
use hauski::assistant::health::State;
use hauski::assistant::{Assistant, SharedAssistant};
use hauski::engines::App;

pub fn run(app: App, args: &ServeArgs) -> Result<()> {
    let token = args.token.clone().filter(|t| !t.is_empty());
    check_binding(args.listen, token.is_some())?;
    if let Some(addr) = args.wyoming
        && !addr.ip().is_loopback()
        && app.config.routing.wyoming.allow.is_empty()
    {
        bail!(
            "refusing to serve Wyoming on {addr}: the protocol carries no token, so name the networks that may \
             use it under wyoming.allow in {} (e.g. [192.168.0.0/16]), or listen on 127.0.0.1",
            app.config.source_of("policies/routing.yaml")
        );
    }
    if args.satellite {
        return run_satellite(&app, args);
    }
    let assistant = Assistant::load(&app)?;
    // Kept for the daemon's lifetime.
    let voice_off = |reason: &str| {
        for part in ["voice_loop", "wake"] {
            assistant.health.set(part, State::Off, reason);
        }
    };
    let _voice = if args.no_voice {
        tracing::info!("voice loop is off (--no-voice)");
        voice_off("--no-voice");
        None
    } else {
        let config = hauski::voice_loop::VoiceConfig {
            source: args.source.clone(),
            source_monitor: args.source_monitor,
        };
        // One thread for partials: the final transcript keeps the rest.
        let started = app
            .load_transcriber_with_threads(1)
            .map_err(|e| format!("{e:#}"))
            .and_then(|partial_asr| {
                hauski::voice_loop::start(assistant.clone(), partial_asr, app.vad_config(), &config)
            });
        match started {
            Ok(voice) => {
                count_voice_events(&assistant);
                Some(voice)
            }
            Err(reason) => {
                tracing::warn!(%reason, "voice loop is off; the API and Wyoming still answer");
                voice_off(&reason);
                None
            }
        }
    };
    assistant.start_adapters();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hauski-io")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(ApiState::new(assistant, token), args))
}

/// `--satellite`: capture, wake word and VAD here; the main HausKI answers.
fn run_satellite(app: &App, args: &ServeArgs) -> Result<()> {
    let bus = args
        .bus
        .clone()
        .or_else(|| app.config.bus.nats_url.clone())
        .context("a satellite needs the main HausKI's bus: pass --bus nats://HOST:4222 (or set nats_url in bus.yaml)")?;
    let config = hauski::satellite::remote::SatelliteConfig {
        bus,
        room: args.room.clone().unwrap_or_default(),
        source: args.source.clone(),
        source_monitor: args.source_monitor,
    };
    hauski::satellite::remote::run(app, &config).context("the satellite stopped")
}

/// The metrics count what the bus reports: wake words and questions heard.
fn count_voice_events(state: &SharedAssistant) {
    let mut events = state.bus.subscribe();
    let state = state.clone();
    std::thread::spawn(move || {
        use hauski::assistant::bus::Event;
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.blocking_recv() {
                Ok(Event::Wake { .. }) => state.metrics.wake_detections.inc(),
                Ok(Event::AsrFinal { .. }) => state.metrics.voice_turns.inc(),
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
        }
    });
}

/// Off loopback, anyone on the network could use the models: only with a token.
fn check_binding(addr: SocketAddr, has_token: bool) -> Result<()> {
    if !addr.ip().is_loopback() && !has_token {
        bail!(
            "refusing to listen on {addr} without a bearer token: anyone on the network could use HausKI; \
             set HAUSKI_API_TOKEN (or --token), or listen on 127.0.0.1"
        );
    }
    Ok(())
}

async fn serve(state: SharedState, args: &ServeArgs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another HausKI running? pick another --listen",
                args.listen
            )
        })?;
    let local = listener.local_addr()?;
    let bus_url = args.bus.clone().or_else(|| state.config.bus.nats_url.clone());
    match bus_url {
        Some(url) => {
            let client = hauski::nats::start(state.assistant.clone(), &url)
                .await
                .context("the event bus cannot go over NATS")?;
            hauski::satellite::rooms::serve(state.assistant.clone(), client)
                .await
                .context("cannot listen for satellites on the bus")?;
        }
        None => state.health.set("bus", State::Off, "no nats_url in bus.yaml"),
    }
    state.health.up("api");
    tokio::spawn(hauski::service::watchdog(state.assistant.clone()));
    if let Some(addr) = args.wyoming {
        let wyoming = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for Wyoming; pick another --wyoming"))?;
        let local = wyoming.local_addr()?;
        println!("wyoming on tcp://{local}");
        // Home Assistant discovers Wyoming services over zeroconf; only worth
        // saying where someone else can connect. Kept for the daemon's life.
        let advertisement = (!local.ip().is_loopback())
            .then(|| hauski::wyoming::advertise::advertise(local.port()))
            .and_then(|a| {
                a.inspect_err(|e| tracing::warn!(error = %e, "Wyoming is not advertised"))
                    .ok()
            });
        let assistant = state.assistant.clone();
        tokio::spawn(async move {
            let _advertisement = advertisement;
            hauski::wyoming::serve(wyoming, assistant).await;
        });
    }
    hauski::service::ready(&format!("answering on http://{local}"));
    // Tests and scripts wait for this line (it carries the port for --listen :0).
    println!("listening on http://{local}");
    use std::io::Write as _;
    std::io::stdout().flush()?;
    axum::serve(listener.tap_io(hauski::api::no_delay), hauski::api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the API server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
