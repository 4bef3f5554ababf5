//! The installed appliance as systemd runs it: `hauski install` into a temp
//! prefix, then the installed `hauski serve` started again and again with a
//! `NOTIFY_SOCKET` the bench listens on, exactly as systemd's `Type=notify`
//! does. Figures: service start → `READY=1`, and the idle memory (RSS) of the
//! daemon (wake words run in it) and of any child it started while the voice
//! loop listens to a private PipeWire's silence.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hauski::engines::App;
use hauski_audio::live::lab::PipeWireLab;
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::procfs::{child_pids, rss_mib};
use crate::report::{cell, percentile, publish};

/// Silence the daemon listens to before its memory is read.
const SETTLE: Duration = Duration::from_secs(10);

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    let work = tempfile::tempdir()?;
    let prefix = work.path().join("prefix");
    install(&prefix, work.path())?;
    let lab = PipeWireLab::start(work.path(), &["mic", "living"])?;
    lab.set_default_sink("living")?;

    let runs = args.runs.clamp(1, 10);
    let (mut ready_ms, mut rss) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let data = work.path().join(format!("data-{run}"));
        std::fs::create_dir_all(&data)?;
        let started = Started::start(&prefix, &lab, &data, work.path())?;
        eprintln!(
            "bench service: run {} READY after {:.0} ms",
            run + 1,
            started.ready_ms
        );
        ready_ms.push(started.ready_ms);
        // Memory once, on the last run: the same daemon every time.
        if run + 1 == runs {
            rss = started.idle_rss()?;
        }
    }
    ready_ms.sort_by(f64::total_cmp);
    let daemon_mib = rss.iter().find(|(n, _)| n == "hauski").map_or(0.0, |r| r.1);
    // A fold from +0: `sum` of no floats is −0, which the table printed as "-0".
    let children_mib = rss
        .iter()
        .filter(|(n, _)| n != "hauski")
        .fold(0.0, |total, r| total + r.1);
    let report = json!({
        "machine": {"threads": app.threads},
        "runs": runs,
        "start_to_ready_ms": {
            "first": ready_ms.first(),
            "p50": percentile(&ready_ms, 50.0),
            "max": ready_ms.last(),
            "all": ready_ms,
        },
        "idle_rss_mib": {
            "daemon": daemon_mib,
            "children": children_mib,
            "total": daemon_mib + children_mib,
            "processes": rss.iter().map(|(n, m)| json!({"process": n, "rss_mib": m})).collect::<Vec<_>>(),
        },
        "settled_s": SETTLE.as_secs(),
        "binary": prefix.join("bin/hauski").display().to_string(),
    });
    publish(args, "service", &report, &markdown_table(&report))
}

/// `hauski install --prefix PREFIX` from the checkout, as the README says.
fn install(prefix: &Path, home: &Path) -> Result<()> {
    let out = Command::new(crate::hauski_exe()?)
        .args(["install", "--no-enable", "--prefix"])
        .arg(prefix)
        .env("HOME", home)
        .output()
        .context("hauski install")?;
    ensure!(
        out.status.success(),
        "hauski install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// One start of the installed daemon, running until dropped.
struct Started {
    child: Child,
    ready_ms: f64,
    log: PathBuf,
}

impl Started {
    fn start(prefix: &Path, lab: &PipeWireLab, data: &Path, work: &Path) -> Result<Self> {
        let socket_path = data.join("notify.sock");
        let socket = UnixDatagram::bind(&socket_path)?;
        socket.set_read_timeout(Some(Duration::from_secs(180)))?;
        let log = data.join("serve.log");
        let begun = Instant::now();
        let mut child = Command::new(prefix.join("bin/hauski"))
            .envs(lab.env())
            .env_remove("LD_LIBRARY_PATH")
            .env("HOME", work)
            .env("HAUSKI_DATA", data)
            .env("HAUSKI_MODELS", model_roots()?)
            .current_dir(work)
            .env("NOTIFY_SOCKET", &socket_path)
            .env("RUST_LOG", "info,llama-cpp-2=warn")
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--source",
                "mic",
                "--source-monitor",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("the installed hauski")?;
        let mut buf = [0u8; 4096];
        let ready_ms = loop {
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = child.kill();
                    bail!(
                        "no READY=1 from the installed hauski ({e}); its log: {}",
                        log.display()
                    );
                }
            };
            let message = String::from_utf8_lossy(&buf[..n]);
            if message.lines().any(|l| l == "READY=1") {
                break begun.elapsed().as_secs_f64() * 1000.0;
            }
        };
        Ok(Self { child, ready_ms, log })
    }

    /// RSS of the daemon and any children it started after
    /// [`SETTLE`] of listening to silence, in MiB.
    fn idle_rss(&self) -> Result<Vec<(String, f64)>> {
        let log = || std::fs::read_to_string(&self.log).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !log().contains("capturing") {
            ensure!(
                Instant::now() < deadline,
                "the voice loop did not start; see {}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(SETTLE);
        let pid = self.child.id();
        let rss = |pid: u32| rss_mib(pid).with_context(|| format!("no VmRSS for process {pid}"));
        let mut found = vec![("hauski".to_string(), rss(pid)?)];
        for child in child_pids(pid) {
            let name = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            found.push((name.trim().to_string(), rss(child)?));
        }
        Ok(found)
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The checkout's Gemma and the shared models, as absolute paths: the
/// installed daemon runs from a folder of its own, as under systemd.
fn model_roots() -> Result<String> {
    let roots: Vec<String> = [".models", "../shared/models"]
        .iter()
        .map(|r| std::path::absolute(r).map(|p| p.display().to_string()))
        .collect::<std::io::Result<_>>()?;
    Ok(roots.join(":"))
}

fn markdown_table(r: &Value) -> String {
    let s = &r["start_to_ready_ms"];
    let m = &r["idle_rss_mib"];
    [
        "| figure | value |".to_string(),
        "|---|---|".to_string(),
        format!(
            "| service start → READY=1 (ms): first / p50 / max over {} starts | {} / {} / {} |",
            r["runs"],
            cell(&s["first"], 0),
            cell(&s["p50"], 0),
            cell(&s["max"], 0)
        ),
        format!(
            "| idle memory after {} s listening (RSS, MiB): daemon (wake words in it) + children = total | {} + {} = {} |",
            r["settled_s"],
            cell(&m["daemon"], 0),
            cell(&m["children"], 0),
            cell(&m["total"], 0)
        ),
    ]
    .join("\n")
}
