//! A satellite daemon (`hauski serve --satellite`) for the tests: its own
//! private PipeWire, its log in a file, killed on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::pipewire::PipeWire;
use super::pipewire::child::Running;

pub struct Satellite {
    _child: Running,
    pub log_file: PathBuf,
}

impl Satellite {
    /// A satellite in `room` on `pw`, listening to `mic`, once it listens.
    pub fn start(pw: &PipeWire, data: &Path, bus: &str, room: &str) -> Self {
        let log_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "satellite-{}-{}.log",
            std::process::id(),
            super::unique()
        ));
        let log = std::fs::File::create(&log_file).expect("log file");
        let mut cmd = super::hauski_with_data(data);
        for (k, v) in pw.env() {
            cmd.env(k, v);
        }
        let child = cmd
            .env("RUST_LOG", "info")
            .args(["serve", "--satellite", "--bus", bus, "--room", room])
            .args(["--source", "mic", "--source-monitor"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("hauski serve --satellite starts");
        let satellite = Self {
            _child: Running::new(child),
            log_file,
        };
        satellite.wait_for("the satellite to listen", |log| {
            log.contains("satellite listening") && log.contains("capturing")
        });
        satellite
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Waits (bounded) until the log satisfies `condition`.
    pub fn wait_for(&self, what: &str, condition: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log();
            if condition(&log) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\nsatellite log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}
