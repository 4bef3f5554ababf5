//! `hauski-bench satellite`: a satellite and the main HausKI, each on its
//! own private PipeWire, joined by a real `nats-server` on loopback. The
//! same spoken questions go into the satellite's microphone and then into
//! the main's, and each figure is wall-clock time between two sounds at the
//! monitors: speech end → first answer audio at the satellite's sink, and
//! the same on the main, side by side. The satellite's log splits its turns
//! into the main's own work and the rest (the NATS transport both ways); the
//! budget guard's own cost per observed duration is timed in process.
//! Writes target/bench/satellite.json.

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hauski_audio::live::lab::PipeWireLab;
use hauski_audio::live::monitor::MonitorTrace;
use hauski_audio::live::{Playback, PlaybackEvent};
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{cell, publish};
use crate::voice::{Daemon, LOUD, QUESTIONS, RATE, espeak, stats, wait_until};
use hauski::engines::App;

/// Durations the budget guard's cost is averaged over.
const GUARD_EVENTS: usize = 200_000;

/// `hauski serve --satellite`, its log in a file, killed when dropped.
struct SatelliteDaemon {
    child: Child,
    log: std::path::PathBuf,
}

impl SatelliteDaemon {
    fn start(lab: &PipeWireLab, data: &Path, log: std::path::PathBuf, bus: &str) -> Result<Self> {
        let file = std::fs::File::create(&log)?;
        let child = std::process::Command::new(crate::hauski_exe()?)
            .envs(lab.env())
            .env("HAUSKI_DATA", data)
            .env("RUST_LOG", "info")
            .args(["serve", "--satellite", "--bus", bus, "--room", "hall"])
            .args(["--source", "mic", "--source-monitor"])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()?;
        let satellite = Self { child, log };
        wait_until("the satellite to hear the main", Duration::from_secs(90), || {
            satellite.log().contains("the main HausKI answers")
        })
        .with_context(|| format!("see {}", satellite.log.display()))?;
        Ok(satellite)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }
}

impl Drop for SatelliteDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One room: its lab, a player into its microphone and the two monitors.
struct Room {
    // Dropped in this order: the streams before their PipeWire.
    mic_out: Playback,
    mic_events: Receiver<PlaybackEvent>,
    mic: MonitorTrace,
    sink: MonitorTrace,
    lab: PipeWireLab,
}

impl Room {
    fn start(dir: &Path, sink: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let lab = PipeWireLab::start(dir, &["mic", sink])?;
        lab.set_default_sink(sink)?;
        let (mic_out, mic_events) = Playback::start("mic", RATE, Some(lab.socket()))?;
        let mic = MonitorTrace::start(&lab, "mic", RATE, LOUD)?;
        let heard = MonitorTrace::start(&lab, sink, RATE, LOUD)?;
        Ok(Self {
            mic_out,
            mic_events,
            mic,
            sink: heard,
            lab,
        })
    }

    /// Plays `request` and waits until `answered` says the answer played;
    /// speech end → first answer audio at the sink, in ms.
    fn ask(&self, request: &[f32], answered: impl FnMut() -> bool) -> Result<Option<f64>> {
        let sent = Instant::now();
        self.mic_out.play(request);
        while let Ok(event) = self.mic_events.recv_timeout(Duration::from_secs(30)) {
            if event == PlaybackEvent::Drained {
                break;
            }
        }
        wait_until("the answer", Duration::from_secs(90), answered)?;
        let Some(speech_end) = self.mic.last_loud_after(sent) else {
            return Ok(None);
        };
        Ok(self
            .sink
            .first_loud_after(speech_end)
            .map(|audio| (audio - speech_end).as_secs_f64() * 1000.0))
    }
}

/// (first audio since the satellite's end of speech, of which the main's) per turn.
fn satellite_turns(log: &str) -> Vec<(f64, f64)> {
    let field = |line: &str, name: &str| {
        line.split(&format!("{name}="))
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    log.lines()
        .filter(|l| l.contains("first answer audio first_audio_ms="))
        .filter_map(|l| Some((field(l, "first_audio_ms")?, field(l, "main_ms")?)))
        .collect()
}

/// The budget guard's cost per observed duration: histogram, rolling p95
/// and budget check, on a stage with a budget (the costliest path).
fn guard_cost_ns(app: &App) -> f64 {
    let metrics = hauski::assistant::metrics::Metrics::new();
    let guard = hauski::assistant::budgets::BudgetGuard::new(app.config.limits.stage_budgets_ms.clone());
    let stages = hauski::assistant::budgets::Stages::new(guard, &metrics, hauski::assistant::bus::Bus::new());
    let started = Instant::now();
    for i in 0..GUARD_EVENTS {
        stages.observe("asr", 200.0 + (i % 100) as f64);
    }
    started.elapsed().as_secs_f64() * 1e9 / GUARD_EVENTS as f64
}

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    let turns = args.runs.max(5);
    let work = tempfile::tempdir()?;
    let nats_program = args.reference_python.with_file_name("nats-server");
    let (_nats, port) = crate::nats::start_server(&nats_program)?;
    let bus = format!("nats://127.0.0.1:{port}");
    eprintln!("bench satellite: a main and a satellite, each on its own PipeWire, over {bus}");
    let main_room = Room::start(&work.path().join("pw-main"), "living")?;
    let hall = Room::start(&work.path().join("pw-hall"), "hall")?;
    let main_data = work.path().join("main-data");
    let hall_data = work.path().join("hall-data");
    std::fs::create_dir_all(&main_data)?;
    std::fs::create_dir_all(&hall_data)?;
    let main = Daemon::start_with(
        &main_room.lab,
        &main_data,
        work.path().join("main.log"),
        &["--bus", &bus],
    )?;
    let satellite = SatelliteDaemon::start(&hall.lab, &hall_data, work.path().join("hall.log"), &bus)?;

    let wake = espeak("hey hauski")?;
    let pause = vec![0.0; RATE as usize * 3 / 10];
    let (mut at_satellite, mut at_main) = (Vec::new(), Vec::new());
    for i in 0..turns {
        let question = espeak(QUESTIONS[i % QUESTIONS.len()])?;
        let request = [
            wake.clone(),
            pause.clone(),
            question,
            vec![0.0; RATE as usize / 2],
        ]
        .concat();
        let played = satellite.count("answer played");
        if let Some(ms) = hall.ask(&request, || satellite.count("answer played") > played)? {
            at_satellite.push(ms);
        }
        let played = main.count("answer played");
        if let Some(ms) = main_room.ask(&request, || main.count("answer played") > played)? {
            at_main.push(ms);
        }
        eprintln!("  {} / {turns}", i + 1);
    }
    let split = satellite_turns(&satellite.log());
    let mut transport: Vec<f64> = split.iter().map(|(all, main)| (all - main).max(0.0)).collect();
    let mut main_work: Vec<f64> = split.iter().map(|(_, main)| *main).collect();
    let guard_ns = guard_cost_ns(app);
    let kept = Path::new("target/bench/satellite-hall.log");
    if std::fs::create_dir_all("target/bench").is_ok() {
        let _ = std::fs::copy(&satellite.log, kept);
    }
    let report = json!({
        "machine": {"threads": app.threads},
        "turns": turns,
        "satellite_speech_end_to_first_audio_at_sink_ms": stats(&mut at_satellite),
        "main_speech_end_to_first_audio_at_sink_ms": stats(&mut at_main),
        "satellite_end_to_first_audio_queued": {
            "main_work_ms": stats(&mut main_work),
            "nats_transport_ms": stats(&mut transport),
        },
        "budget_guard_ns_per_event": guard_ns,
    });
    publish(args, "satellite", &report, &markdown_table(&report))
}

fn markdown_table(r: &Value) -> String {
    let sat = &r["satellite_speech_end_to_first_audio_at_sink_ms"];
    let main = &r["main_speech_end_to_first_audio_at_sink_ms"];
    let split = &r["satellite_end_to_first_audio_queued"];
    [
        "| figure | satellite | main |".to_string(),
        "|---|---|---|".to_string(),
        format!(
            "| speech end → first answer audio at the room's sink (ms), p50 / p95 over {} | {} / {} | {} / {} |",
            sat["n"],
            cell(&sat["p50"], 0),
            cell(&sat["p95"], 0),
            cell(&main["p50"], 0),
            cell(&main["p95"], 0)
        ),
        format!(
            "| satellite's end of speech → answer audio queued: the main's work / NATS transport both ways (ms), p50 | {} / {} | |",
            cell(&split["main_work_ms"]["p50"], 0),
            cell(&split["nats_transport_ms"]["p50"], 1)
        ),
        format!(
            "| NATS transport per turn (ms), p95 | {} | |",
            cell(&split["nats_transport_ms"]["p95"], 1)
        ),
        format!(
            "| budget guard per observed duration (histogram, rolling p95, budget), ns | {} | |",
            cell(&r["budget_guard_ns_per_event"], 0)
        ),
    ]
    .join("\n")
}
