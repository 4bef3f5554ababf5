//! The messenger adapters' costs, measured on the daemon's own core against
//! a Telegram Bot API, Matrix and signal-cli on loopback (real HTTP
//! long-polls): message arrival → its notification on the bus (the long-poll
//! waking, the response, a fresh sandbox instance parsing it, the rules),
//! an adapter's compile (cold) and one poll call with a message waiting
//! (warm), the memory three idle adapters hold (each in its long-poll), and
//! audit appends per second, each synced to disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hauski::assistant::bus::{Bus, Event};
use hauski::assistant::everyday::{Everyday, EverydayPlaces, Outside};
use hauski::assistant::messengers::{AdapterSettings, HttpEgress, start_polling};
use hauski::engines::App;
use hauski_brain::memory::SystemClock;
use hauski_skills::vault::Vault;
use serde_json::{Value, json};

#[path = "../tests/support/messengers.rs"]
#[allow(dead_code)]
mod messengers;

use crate::procfs::rss_mib;
use crate::report::percentile;
use messengers::{MATRIX_TOKEN, Messengers, SIGNAL_NUMBER, TELEGRAM_TOKEN};

pub fn measure(app: &App, runs: usize) -> Result<Value> {
    let server = Messengers::start();
    let dir = tempfile::tempdir()?;
    let vault = Vault::open_or_create(dir.path())?;
    vault.set_secret("telegram", "token", TELEGRAM_TOKEN)?;
    vault.set_secret("matrix", "access_token", MATRIX_TOKEN)?;
    let routing = serde_yaml::from_str(
        "egress: {default: deny, allow: [{host: 127.0.0.1, skills: [telegram, matrix, signal]}]}",
    )?;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let places = EverydayPlaces {
        store: &dir.path().join("skills.sqlite"),
        audit: &dir.path().join("audit.log"),
        skills_dir: None,
    };
    let mut settings = AdapterSettings::default();
    let url = server.url.clone();
    for (adapter, pairs) in [
        ("telegram", vec![("api", url.clone())]),
        ("matrix", vec![("homeserver", url.clone())]),
        (
            "signal",
            vec![("api", url.clone()), ("number", SIGNAL_NUMBER.to_string())],
        ),
    ] {
        let pairs = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        settings.set(adapter, true, pairs);
    }
    let outside = Outside {
        egress: Arc::new(HttpEgress::new(routing)),
        secrets: Arc::new(vault),
        messages: Default::default(),
        adapters: settings,
    };
    let everyday = Arc::new(Everyday::open(
        &places,
        app.config.skills.clone(),
        Arc::new(SystemClock),
        bus,
        Some(outside),
    )?);
    let cold_ms = compile_ms(runs)?;

    let rss_before = rss_mib(std::process::id()).unwrap_or(0.0);
    start_polling(&everyday, everyday.adapter_settings())?;
    // Idle: each adapter in its long-poll (Matrix after its first sync).
    wait_until(|| {
        let requests = server.requests();
        requests.iter().filter(|r| r.contains("/sync")).count() >= 2
            && requests.iter().any(|r| r.contains("getUpdates"))
            && requests.iter().any(|r| r.contains("/v1/receive"))
    })?;
    let idle_adapters_mib = rss_mib(std::process::id()).unwrap_or(0.0) - rss_before;

    let mut arrival_ms = Vec::new();
    for i in 0..runs.max(10) * 3 {
        let text = format!("Message number {i}.");
        let started = Instant::now();
        match i % 3 {
            0 => server.telegram("Anna", &text),
            1 => server.matrix("Ben", &text),
            _ => server.signal("Carla", &text),
        }
        loop {
            match events.blocking_recv() {
                Ok(Event::Notification(notice)) if notice.text == text => break,
                Ok(_) => {}
                Err(e) => bail!("the bus closed: {e}"),
            }
        }
        arrival_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    arrival_ms.sort_by(f64::total_cmp);
    let appends_per_s = audit_appends_per_s(&dir.path().join("bench-audit.log"))?;
    Ok(json!({
        "arrival_to_bus_ms": {"n": arrival_ms.len(), "p50": percentile(&arrival_ms, 50.0), "p95": percentile(&arrival_ms, 95.0)},
        "adapter_compile_ms": cold_ms,
        "idle_adapters": 3,
        "idle_adapters_rss_mib": idle_adapters_mib,
        "audit_appends_per_s": appends_per_s,
    }))
}

/// The Telegram adapter's module compiled and checked (a daemon's start, per adapter).
fn compile_ms(runs: usize) -> Result<f64> {
    let (manifest, wasm) = hauski_skills::builtin::skills()
        .into_iter()
        .find(|(m, _)| m.name == "telegram")
        .context("the Telegram adapter is built in")?;
    let mut took = Vec::new();
    for _ in 0..runs.clamp(3, 10) {
        let dir = tempfile::tempdir()?;
        let services = hauski_skills::host::HostServices {
            clock: Arc::new(|| 0),
            notify: Arc::new(|_, _| {}),
            alarms: None,
            egress: Some(Arc::new(HttpEgress::new(serde_yaml::from_str(
                "egress: {default: deny}",
            )?))),
            secrets: Some(Arc::new(Vault::open_or_create(dir.path())?)),
        };
        let mut host = hauski_skills::host::SkillHost::new(
            &dir.path().join("s.sqlite"),
            &dir.path().join("audit.log"),
            services,
        )?;
        let started = Instant::now();
        host.load(manifest.clone(), wasm)?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(percentile(&took, 50.0))
}

fn audit_appends_per_s(path: &std::path::Path) -> Result<f64> {
    let log = hauski_skills::host::audit::AuditLog::open(path)?;
    let count = 300;
    let started = Instant::now();
    for i in 0..count {
        log.record(
            "bench",
            "egress allowed",
            &format!("GET https://api.telegram.org #{i}"),
        )?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Polls `ready` until it holds, for at most a minute.
fn wait_until(mut ready: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if Instant::now() > deadline {
            bail!("the adapters did not start polling within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
