//! `hauski bench voice`: the live loop measured from outside, on a private
//! PipeWire (`audio::live::lab`). A `hauski serve` child listens to the
//! monitor of a null sink `mic`; this process plays spoken requests into `mic`
//! and watches the `mic` and `living` monitors with timestamps, so each figure
//! is wall-clock time between two sounds: wake word end → listening, speech end
//! → first answer audio at the sink, wake word end → silence (barge-in).
//! Writes target/bench/voice.json.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use hauski_audio::live::lab::PipeWireLab;
use hauski_audio::live::monitor::MonitorTrace;
use hauski_audio::live::{Playback, PlaybackEvent};
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::procfs::{child_pids, stat_cpu_s};
use crate::report::{cell, percentile, publish};
use hauski::engines::App;

pub(crate) const RATE: u32 = 16_000;
/// Peak level that counts as sound at a monitor.
pub(crate) const LOUD: f32 = 0.02;
/// Silence at the sink this long after a barge-in is playback stopped:
/// Piper's pauses between sentences are far shorter.
const STOPPED_FOR: Duration = Duration::from_secs(1);
/// Seconds of silence over which idle CPU is measured.
const IDLE_S: f64 = 30.0;
/// Notes in the vault of the idle-with-notes figure: a few hundred, as an
/// owner's vault has.
const VAULT_NOTES: usize = 300;

pub(crate) const QUESTIONS: &[&str] = &[
    "what is the capital of France",
    "how many days are in a week",
    "what colour is the sky",
    "name a fruit",
    "what is two plus two",
];

/// From the first sample louder than [`LOUD`] to the last.
fn voiced_length(samples: &[f32]) -> Duration {
    let loud = |s: &&f32| s.abs() > LOUD;
    let first = samples.iter().position(|s| loud(&s)).unwrap_or(0);
    let last = samples.iter().rposition(|s| loud(&s)).unwrap_or(first);
    Duration::from_secs_f64((last - first) as f64 / f64::from(RATE))
}

pub(crate) fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// `count` short Markdown notes, each on one topic, made from a fixed list.
fn write_vault(dir: &Path, count: usize) -> Result<()> {
    const ROOMS: [&str; 6] = ["kitchen", "garage", "cellar", "garden", "attic", "hallway"];
    const THINGS: [&str; 6] = [
        "the boiler",
        "a ladder",
        "the fuse box",
        "seed packets",
        "the drill",
        "winter tyres",
    ];
    const WHEN: [&str; 5] = [
        "in May",
        "every Sunday",
        "before winter",
        "after the holidays",
        "on Fridays",
    ];
    std::fs::create_dir_all(dir)?;
    for i in 0..count {
        let (room, thing, when) = (ROOMS[i % 6], THINGS[(i / 6) % 6], WHEN[(i / 36) % 5]);
        let text = format!(
            "# Note {i}: {room}\n{thing} in the {room} needs a look {when}.\n\n## Details\nItem {i} of the house list; ask the neighbour about {thing}.\n"
        );
        std::fs::write(dir.join(format!("note-{i:03}.md")), text)?;
    }
    Ok(())
}

/// `hauski index add VAULT` into `data`, as the owner would run it.
fn index_vault(vault: &Path, data: &Path) -> Result<()> {
    eprintln!("bench voice: indexing {}", vault.display());
    let status = std::process::Command::new(crate::hauski_exe()?)
        .env("HAUSKI_DATA", data)
        .args(["index", "add"])
        .arg(vault)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("hauski index add {} failed", vault.display());
    }
    Ok(())
}

pub(crate) fn espeak(text: &str) -> Result<Vec<f32>> {
    let dir = tempfile::tempdir()?;
    let raw = dir.path().join("raw.wav");
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .context("espeak-ng is needed for the voice bench (scripts/install-deps.sh)")?;
    if !status.success() {
        bail!("espeak-ng failed");
    }
    Ok(hauski_audio::load_mono(&raw, RATE)?)
}

/// The daemon under test, its log in a file.
pub(crate) struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(lab: &PipeWireLab, data: &Path, log: PathBuf) -> Result<Self> {
        Self::start_with(lab, data, log, &[])
    }

    /// [`Daemon::start`] with more `serve` flags.
    pub(crate) fn start_with(lab: &PipeWireLab, data: &Path, log: PathBuf, extra: &[&str]) -> Result<Self> {
        let exe = crate::hauski_exe()?;
        let file = std::fs::File::create(&log)?;
        let mut child = std::process::Command::new(exe)
            .envs(lab.env())
            .env("HAUSKI_DATA", data)
            .env(
                "RUST_LOG",
                "info,llama-cpp-2=warn,tower_http=warn,hauski_brain::conversation=debug",
            )
            .env("HAUSKI_LOG_SPANS", "1")
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--source",
                "mic",
                "--source-monitor",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(file)
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.starts_with("listening on"));
        if !ready {
            bail!("hauski serve did not start; see {}", log.display());
        }
        let daemon = Self { child, log };
        wait_until("the voice loop", Duration::from_secs(60), || {
            daemon.log().contains("capturing")
        })?;
        Ok(daemon)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    /// The share of one core the daemon uses over [`IDLE_S`] of silence.
    /// Also logs the busiest threads, to show where an idle daemon's time goes.
    fn idle_cpu_percent(&self) -> f64 {
        let pid = self.child.id();
        let cpu_before = self.cpu_s();
        let threads_before = thread_cpu_s(pid);
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(IDLE_S));
        let elapsed = started.elapsed().as_secs_f64();
        let mut busiest: Vec<(String, f64)> = thread_cpu_s(pid)
            .into_iter()
            .map(|(name, s)| {
                let before = threads_before
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(0.0, |t| t.1);
                (name, (s - before) / elapsed * 100.0)
            })
            .filter(|(_, pct)| *pct > 0.05)
            .collect();
        busiest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let listed: Vec<String> = busiest.iter().map(|(n, p)| format!("{n} {p:.1} %")).collect();
        eprintln!("bench voice: idle CPU by thread: {}", listed.join(", "));
        (self.cpu_s() - cpu_before) / elapsed * 100.0
    }

    /// CPU seconds used so far (user + system) by every HausKI process: the
    /// daemon and any children it started, from /proc.
    fn cpu_s(&self) -> f64 {
        let pid = self.child.id();
        let helpers: f64 = child_pids(pid)
            .iter()
            .map(|child| stat_cpu_s(&format!("/proc/{child}/stat")))
            .sum();
        stat_cpu_s(&format!("/proc/{pid}/stat")) + helpers
    }
}

/// CPU seconds of each of `pid`'s threads, summed by thread name.
fn thread_cpu_s(pid: u32) -> Vec<(String, f64)> {
    let mut threads: Vec<(String, f64)> = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let cpu = stat_cpu_s(&path.join("stat").display().to_string());
        match threads.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 += cpu,
            None => threads.push((name, cpu)),
        }
    }
    threads
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wall-clock seconds of a log line's RFC 3339 stamp.
fn log_seconds(line: &str) -> Option<f64> {
    let stamp = line.split_whitespace().next()?.trim_end_matches('Z');
    let (date, time) = stamp.split_once('T')?;
    let mut d = date.split('-').filter_map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    let mut t = time.split(':').filter_map(|p| p.parse::<f64>().ok());
    let (h, min, s) = (t.next()?, t.next()?, t.next()?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s)
}

/// Converts a monotonic instant to wall-clock seconds (for log lines).
fn wall(at: Instant) -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    now - at.elapsed().as_secs_f64()
}

/// Where the time from speech end to first audio goes, from the daemon's
/// "first answer audio queued" line: its stamp and the time since the
/// daemon's end of speech it carries split each utterance in three.
#[derive(Default)]
struct Stages {
    /// Speech end at the mic → the daemon's endpoint (hang-over, the VAD's
    /// tail, capture).
    to_endpoint: Vec<f64>,
    /// Endpoint → first audio queued for playback (what speculation left).
    to_queued: Vec<f64>,
    /// Queued → heard at the sink's monitor (playback, PipeWire).
    to_sink: Vec<f64>,
}

impl Stages {
    fn add(&mut self, log: &str, speech_end_s: f64, first_audio_s: f64) {
        let Some(line) = log
            .lines()
            .rev()
            .find(|l| l.contains("first answer audio queued"))
        else {
            return;
        };
        let since_endpoint_ms = line
            .split("speech_end_to_first_audio_ms=")
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok());
        let (Some(queued_s), Some(since_endpoint_ms)) = (log_seconds(line), since_endpoint_ms) else {
            return;
        };
        let endpoint_s = queued_s - since_endpoint_ms / 1000.0;
        self.to_endpoint.push((endpoint_s - speech_end_s) * 1000.0);
        self.to_queued.push(since_endpoint_ms);
        self.to_sink.push((first_audio_s - queued_s) * 1000.0);
    }

    fn report(&mut self) -> Value {
        json!({
            "speech_end_to_endpoint": stats(&mut self.to_endpoint),
            "endpoint_to_queued": stats(&mut self.to_queued),
            "queued_to_sink": stats(&mut self.to_sink),
        })
    }
}

pub(crate) fn stats(values: &mut [f64]) -> Value {
    values.sort_by(f64::total_cmp);
    json!({"n": values.len(), "p50": percentile(values, 50.0), "p95": percentile(values, 95.0)})
}

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    let utterances = args.runs.max(20);
    let work = tempfile::tempdir()?;
    eprintln!("bench voice: starting a private PipeWire");
    let lab = PipeWireLab::start(work.path(), &["mic", "living", "kitchen"])?;
    // The living-room profile plays to the default sink.
    lab.set_default_sink("living")?;
    let (mic_out, mic_events) = Playback::start("mic", RATE, Some(lab.socket()))?;
    let mic = MonitorTrace::start(&lab, "mic", RATE, LOUD)?;
    let living = MonitorTrace::start(&lab, "living", RATE, LOUD)?;
    let data = work.path().join("data");
    std::fs::create_dir_all(&data)?;
    eprintln!("bench voice: starting hauski serve");
    let daemon = Daemon::start(&lab, &data, work.path().join("serve.log"))?;

    let wake = espeak("hey hauski")?;
    // From the word's first loud sample to its last: espeak-ng pads the file
    // with ~350 ms of silence, which is not the word.
    let wake_voiced = voiced_length(&wake);
    let pause = vec![0.0; RATE as usize * 3 / 10];
    let drained = |events: &Receiver<PlaybackEvent>| {
        while let Ok(e) = events.recv_timeout(Duration::from_secs(30)) {
            if e == PlaybackEvent::Drained {
                return true;
            }
        }
        false
    };

    let (mut wake_to_listening, mut speech_end_to_audio) = (Vec::new(), Vec::new());
    let mut stages = Stages::default();
    for i in 0..utterances {
        let question = espeak(QUESTIONS[i % QUESTIONS.len()])?;
        let request = [
            wake.clone(),
            pause.clone(),
            question.clone(),
            vec![0.0; RATE as usize / 2],
        ]
        .concat();
        let played = daemon.count("answer played");
        let detections = daemon.count("wake word detected");
        let sent = Instant::now();
        mic_out.play(&request);
        drained(&mic_events);
        wait_until("the answer", Duration::from_secs(90), || {
            daemon.count("answer played") > played
        })
        .inspect_err(|_| keep_log(&daemon))?;
        // When the request's sound reached the mic: its first loud block.
        let Some(onset) = mic.first_loud_after(sent) else {
            continue;
        };
        let wake_end = onset + wake_voiced;
        let speech_end = mic.last_loud_after(sent).unwrap_or(wake_end);
        let log = daemon.log();
        if let Some(first_audio) = living.first_loud_after(speech_end) {
            speech_end_to_audio.push((first_audio - speech_end).as_secs_f64() * 1000.0);
            stages.add(&log, wall(speech_end), wall(first_audio));
        }
        if daemon.count("wake word detected") > detections
            && let Some(t) = log
                .lines()
                .rev()
                .find(|l| l.contains("wake word detected"))
                .and_then(log_seconds)
        {
            wake_to_listening.push(((t - wall(wake_end)) * 1000.0).max(0.0));
        }
        eprintln!("  {} / {utterances}", i + 1);
    }

    eprintln!("bench voice: barge-in");
    let story = [
        wake.clone(),
        pause.clone(),
        espeak("tell me a long story about a brave knight and a dragon")?,
    ]
    .concat();
    let mut barge_in = Vec::new();
    for _ in 0..5 {
        let queued = daemon.count("first answer audio queued");
        let sent = Instant::now();
        mic_out.play(&story);
        drained(&mic_events);
        wait_until("the story to start", Duration::from_secs(90), || {
            daemon.count("first answer audio queued") > queued
        })?;
        wait_until("the story at the sink", Duration::from_secs(30), || {
            living.first_loud_after(sent).is_some()
        })?;
        let barge = Instant::now();
        mic_out.play(&[wake.clone(), vec![0.0; RATE as usize / 2]].concat());
        drained(&mic_events);
        let Some(onset) = mic.first_loud_after(barge) else {
            continue;
        };
        // The word's end as the microphone heard it (espeak pads the file).
        let wake_end = mic.last_loud_after(barge).unwrap_or(onset);
        wait_until("silence after barge-in", Duration::from_secs(10), || {
            living.first_quiet_after(wake_end, STOPPED_FOR).is_some()
        })?;
        // The silence that lasts, searched from the word's start: a gap
        // between sentences is shorter, so only the stop is found; a stop
        // before the word ended (an eager detection) counts as 0.
        if let Some(quiet) = living.first_quiet_after(onset, STOPPED_FOR) {
            barge_in.push((quiet.saturating_duration_since(wake_end)).as_secs_f64() * 1000.0);
        }
        // Close the listening window the barge-in opened, then let it settle.
        let heard = daemon.count("heard");
        mic_out.play(&[espeak("never mind")?, vec![0.0; RATE as usize / 2]].concat());
        drained(&mic_events);
        let _ = wait_until("the loop to settle", Duration::from_secs(30), || {
            daemon.count("heard") > heard
        });
        let played = daemon.count("answer played");
        let _ = wait_until("the reply", Duration::from_secs(60), || {
            daemon.count("answer played") > played
        });
    }

    eprintln!("bench voice: {IDLE_S} s of silence (idle CPU)");
    let idle_cpu_pct = daemon.idle_cpu_percent();
    keep_log(&daemon);
    drop(daemon);

    // The same with the owner's notes indexed: the daemon watches the vault,
    // and a watcher that woke on its own reads once cost 5.7 % of a core.
    let vault = work.path().join("vault");
    let notes_data = work.path().join("data-notes");
    write_vault(&vault, VAULT_NOTES)?;
    index_vault(&vault, &notes_data)?;
    eprintln!("bench voice: {IDLE_S} s of silence with {VAULT_NOTES} notes indexed");
    let daemon = Daemon::start(&lab, &notes_data, work.path().join("serve-notes.log"))?;
    wait_until("the notes watcher", Duration::from_secs(120), || {
        daemon.log().contains("watching the notes folders")
    })?;
    let idle_with_notes_pct = daemon.idle_cpu_percent();
    drop(daemon);

    let quality = read_bench_json("wake.json");
    let turn_end = read_bench_json("turn-end.json");
    let limits = &app.config.limits;
    let report = json!({
        "machine": {"threads": app.threads},
        "utterances": utterances,
        "wake_word_end_to_listening_ms": stats(&mut wake_to_listening),
        "speech_end_to_first_audio_at_sink_ms": stats(&mut speech_end_to_audio),
        "speech_end_to_first_audio_stages_ms": stages.report(),
        "barge_in_stop_ms": stats(&mut barge_in),
        "idle_cpu_percent_of_one_core": idle_cpu_pct,
        "idle_cpu_with_notes_percent_of_one_core": idle_with_notes_pct,
        "indexed_notes": VAULT_NOTES,
        "false_accepts_per_hour": quality.as_ref().map(|q| q["false_accepts_per_hour"].clone()),
        "wake_detection_rate": quality.as_ref().map(|q| q["detection_rate"].clone()),
        "cut_off_at_a_pause_mid_sentence": turn_end.as_ref().map(|t| json!({
            "pause_ms": t["pause_ms"], "cut_off": t["cut_off"], "of": t["paused_questions"],
            "with_a_fixed_hang_over": t["cut_off_with_a_fixed_hang_over"],
        })),
        "targets": {
            "speech_end_to_first_audio_p95_ms": limits.voice.speech_end_to_first_audio_p95_ms,
            "barge_in_ms": limits.voice.barge_in_ms,
            "idle_cpu_percent": limits.voice.idle_cpu_percent,
        },
    });
    publish(args, "voice", &report, &markdown_table(&report))
}

/// A figure file another test wrote (`None` where it did not run).
fn read_bench_json(name: &str) -> Option<Value> {
    std::fs::read_to_string(Path::new("target/bench").join(name))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Keeps the daemon's log, with every stage's time, for looking into the
/// figures (or into a failure).
fn keep_log(daemon: &Daemon) {
    let kept = Path::new("target/bench/voice-serve.log");
    if std::fs::create_dir_all("target/bench").is_ok() && std::fs::copy(&daemon.log, kept).is_ok() {
        eprintln!("bench voice: the daemon's log is in {}", kept.display());
    }
}

fn markdown_table(r: &Value) -> String {
    let t = &r["targets"];
    let s = &r["speech_end_to_first_audio_at_sink_ms"];
    let b = &r["barge_in_stop_ms"];
    let w = &r["wake_word_end_to_listening_ms"];
    let st = &r["speech_end_to_first_audio_stages_ms"];
    [
        "| figure | value | target |".to_string(),
        "|---|---|---|".to_string(),
        format!(
            "| speech end → first answer audio at the sink (ms), p50 / p95 over {} | {} / {} | p95 < {} |",
            s["n"],
            cell(&s["p50"], 0),
            cell(&s["p95"], 0),
            cell(&t["speech_end_to_first_audio_p95_ms"], 0)
        ),
        format!(
            "| … of it: speech end → endpoint / endpoint → audio queued / queued → at the sink (ms), p50 | {} / {} / {} | |",
            cell(&st["speech_end_to_endpoint"]["p50"], 0),
            cell(&st["endpoint_to_queued"]["p50"], 0),
            cell(&st["queued_to_sink"]["p50"], 0)
        ),
        format!("| wake word end → listening (ms), p95 | {} | |", cell(&w["p95"], 0)),
        format!(
            "| barge-in: wake word end → silence at the sink (ms), p50 / p95 over {} | {} / {} | < {} |",
            b["n"],
            cell(&b["p50"], 0),
            cell(&b["p95"], 0),
            cell(&t["barge_in_ms"], 0)
        ),
        format!(
            "| idle CPU while listening to silence, every HausKI process (% of one core) | {} | < {} |",
            cell(&r["idle_cpu_percent_of_one_core"], 1),
            cell(&t["idle_cpu_percent"], 0)
        ),
        format!(
            "| … with {} notes indexed and watched | {} | < {} |",
            r["indexed_notes"],
            cell(&r["idle_cpu_with_notes_percent_of_one_core"], 1),
            cell(&t["idle_cpu_percent"], 0)
        ),
        format!(
            "| wake-word false accepts per hour / detection rate (tests/it/wake_word_quality.rs) | {} / {} | ≤ 0.1 / ≥ 0.95 |",
            cell(&r["false_accepts_per_hour"], 2),
            cell(&r["wake_detection_rate"], 2)
        ),
        format!(
            "| questions cut off at a {} ms pause mid-sentence (src/voice_loop/paused_questions_tests.rs; with the fixed 600 ms hang-over: {}) | {} of {} | 0 |",
            r["cut_off_at_a_pause_mid_sentence"]["pause_ms"],
            r["cut_off_at_a_pause_mid_sentence"]["with_a_fixed_hang_over"],
            r["cut_off_at_a_pause_mid_sentence"]["cut_off"],
            r["cut_off_at_a_pause_mid_sentence"]["of"]
        ),
    ]
    .join("\n")
}
