//! `hauski serve`: the daemon. Loads every engine once, then runs the side API
//! (and the Wyoming server when asked), the notes watcher and — where an
//! audio device is present — the voice loop, all sharing those engines.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use axum::serve::ListenerExt;

use crate::api::metrics::Metrics;
use crate::api::{ApiState, Engines, SharedState};
use crate::cli::ServeArgs;
use crate::engines::App;
use crate::llm_pool::LlmPool;
use crate::notes_context::{NotesIndex, lower_thread_priority, watch_notes};
use crate::profile_state::ActiveProfile;

pub fn run(app: App, args: &ServeArgs) -> Result<()> {
    let token = args.token.clone().filter(|t| !t.is_empty());
    check_binding(args.listen, token.is_some())?;
    if let Some(addr) = args.wyoming {
        check_binding(addr, token.is_some())?;
    }
    let state = build_state(&app, token)?;
    // Kept for the daemon's lifetime.
    let _voice = if args.no_voice {
        tracing::info!("voice loop is off (--no-voice)");
        None
    } else {
        let config = crate::voice_loop::VoiceConfig {
            source: args.source.clone(),
            source_monitor: args.source_monitor,
        };
        let memory = app
            .open_memory()
            .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "memory is off for the voice loop"))
            .ok();
        // One thread for partials: the final transcript keeps the rest.
        let started = app
            .load_transcriber_with_threads(1)
            .map_err(|e| format!("{e:#}"))
            .and_then(|partial_asr| {
                crate::voice_loop::start(state.clone(), partial_asr, memory, app.vad_config(), &config)
            });
        match started {
            Ok(voice) => {
                count_voice_events(&voice, &state);
                Some(voice)
            }
            Err(reason) => {
                tracing::warn!(%reason, "voice loop is off; the API and Wyoming still answer");
                None
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hauski-io")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(state, args))
}

/// Loads every engine once and puts them, the limits and the active profile
/// where the API and Wyoming handlers share them.
pub fn build_state(app: &App, token: Option<String>) -> Result<SharedState> {
    let metrics = Metrics::new();
    let engines = load_engines(app, &metrics)?;
    let notes = open_notes(app, &engines)?;
    let profile = ActiveProfile::load(app.config.profiles.clone(), &app.data_dir);
    tracing::info!(profile = %profile.name(), "active audio profile");
    Ok(Arc::new(ApiState {
        app_roots: app.roots.clone(),
        config: app.config.clone(),
        engines,
        profile,
        notes,
        wake_words: Arc::new(crate::wake_words::WakeWords::load(app)),
        metrics,
        token,
    }))
}

/// The metrics subscribe to the voice loop's events.
fn count_voice_events(voice: &crate::voice_loop::VoiceLoop, state: &SharedState) {
    let mut events = voice.subscribe();
    let state = state.clone();
    std::thread::spawn(move || {
        use crate::voice_loop::VoiceEvent;
        loop {
            match events.blocking_recv() {
                Ok(VoiceEvent::WakeWord { .. }) => {
                    state.metrics.wake_detections.inc();
                }
                Ok(VoiceEvent::Heard(_)) => {
                    state.metrics.voice_turns.inc();
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
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

fn load_engines(app: &App, metrics: &Metrics) -> Result<Engines> {
    let mut loaded = Vec::new();
    // A missing model turns its endpoints into clear 503s; the rest still serves.
    let transcriber = match app.load_transcriber() {
        Ok(t) => {
            loaded.push((
                app.choose(
                    crate::config::ModelKind::Asr,
                    &app.config.models.defaults.asr,
                    None,
                )?
                .id
                .clone(),
                "asr",
            ));
            Some(Arc::new(t))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "speech recognition is off");
            None
        }
    };
    let voice = match app.load_voice() {
        Ok(v) => {
            let id = app
                .config
                .models
                .models
                .iter()
                .find(|m| app.model_path(m) == v.model_path())
                .map_or_else(|| "piper".to_string(), |m| m.id.clone());
            loaded.push((id, "tts"));
            Some(Arc::new(Mutex::new(v)))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "speech synthesis is off");
            None
        }
    };
    let embedder = match app.load_embedder() {
        Ok(e) => {
            loaded.push((
                app.choose(
                    crate::config::ModelKind::Embed,
                    &app.config.models.defaults.embed,
                    None,
                )?
                .id
                .clone(),
                "embed",
            ));
            Some(Arc::new(e))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "embeddings are off");
            None
        }
    };
    let limits = &app.config.limits.api;
    let llm = match app.load_llm() {
        Ok(model) => {
            let id = app.llm_entry()?.id.clone();
            loaded.push((id.clone(), "llm"));
            let hook_metrics = (
                metrics.completion_tokens.clone(),
                metrics.prompt_tokens.clone(),
                metrics.generations_cancelled.clone(),
            );
            let on_finished = Arc::new(move |stats: &hauski_brain::GenerationStats| {
                hook_metrics.0.inc_by(stats.completion_tokens as u64);
                hook_metrics.1.inc_by(stats.prompt_tokens as u64);
                if stats.finish == hauski_brain::FinishReason::Cancelled {
                    hook_metrics.2.inc();
                }
            });
            Some(LlmPool::start(
                model,
                id,
                limits.max_concurrent_generations,
                limits.max_queued_generations,
                on_finished,
            )?)
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the LLM is off");
            None
        }
    };
    Ok(Engines {
        llm,
        embedder,
        transcriber,
        voice,
        loaded,
    })
}

/// The notes index, if any folder was indexed, kept fresh by a watcher thread
/// at low priority.
fn open_notes(app: &App, engines: &Engines) -> Result<Option<Arc<NotesIndex>>> {
    let Some(embedder) = engines.embedder.clone() else {
        return Ok(None);
    };
    let index = Arc::new(NotesIndex::open(app, embedder)?);
    let roots = index.roots();
    if roots.is_empty() {
        return Ok(Some(index));
    }
    let watched = index.clone();
    std::thread::Builder::new()
        .name("notes-watch".into())
        .spawn(move || {
            lower_thread_priority();
            let result = watch_notes(
                &watched,
                &roots,
                |root, r| {
                    tracing::info!(root = %root.display(), added = r.added, updated = r.updated, removed = r.removed, "notes re-indexed");
                },
                || tracing::info!("watching the notes folders"),
            );
            if let Err(e) = result {
                tracing::error!(error = %format!("{e:#}"), "the notes watcher stopped");
            }
        })
        .context("cannot start the notes watcher")?;
    Ok(Some(index))
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
    if let Some(addr) = args.wyoming {
        let wyoming = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for Wyoming; pick another --wyoming"))?;
        println!("wyoming on tcp://{}", wyoming.local_addr()?);
        tokio::spawn(crate::wyoming::serve(wyoming, state.clone()));
    }
    // Tests and scripts wait for this line (it carries the port for --listen :0).
    println!("listening on http://{local}");
    use std::io::Write as _;
    std::io::stdout().flush()?;
    axum::serve(listener.tap_io(no_delay), crate::api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the API server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Streamed tokens are small writes: without TCP_NODELAY, Nagle's algorithm
/// holds each back until the previous one is acknowledged.
pub fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
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
