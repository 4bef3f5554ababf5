//! A private PipeWire for tests: its own `XDG_RUNTIME_DIR`, D-Bus session
//! bus, pipewire and wireplumber, and null sinks created by name. Everything
//! is torn down on drop. Readiness is waited for by polling the condition
//! (socket exists, node listed), never by a fixed sleep.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PipeWire {
    pub runtime: PathBuf,
    children: Vec<Child>,
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(cmd: &mut Command, what: &str) -> Child {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {what} ({e}): install pipewire, wireplumber and dbus (scripts/install-deps.sh)"
            )
        })
}

impl PipeWire {
    /// Starts the daemons under `runtime` (an empty folder) and creates `sinks`.
    pub fn start(runtime: &Path, sinks: &[&str]) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(runtime, std::fs::Permissions::from_mode(0o700));
        }
        let mut pw = Self {
            runtime: runtime.to_path_buf(),
            children: Vec::new(),
        };
        let bus = runtime.join("bus");
        let dbus = spawn(
            Command::new("dbus-daemon")
                .arg("--session")
                .arg(format!("--address=unix:path={}", bus.display()))
                .args(["--nofork", "--nopidfile"]),
            "dbus-daemon",
        );
        pw.children.push(dbus);
        wait_until("the D-Bus socket", || bus.exists());
        let daemon = spawn(pw.command("pipewire").as_mut(), "pipewire");
        pw.children.push(daemon);
        wait_until("the PipeWire socket", || runtime.join("pipewire-0").exists());
        let session = spawn(pw.command("wireplumber").as_mut(), "wireplumber");
        pw.children.push(session);
        wait_until("wireplumber's default metadata", || {
            pw.pw_cli(&["ls", "Metadata"]).contains("\"default\"")
        });
        for sink in sinks {
            pw.create_sink(sink);
        }
        pw
    }

    /// A command that talks to this PipeWire.
    pub fn command(&self, program: &str) -> Box<Command> {
        let mut cmd = Command::new(program);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        Box::new(cmd)
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("XDG_RUNTIME_DIR".into(), self.runtime.display().to_string()),
            ("PIPEWIRE_RUNTIME_DIR".into(), self.runtime.display().to_string()),
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={}", self.runtime.join("bus").display()),
            ),
            (
                "XDG_CONFIG_HOME".into(),
                self.runtime.join("config").display().to_string(),
            ),
            (
                "XDG_STATE_HOME".into(),
                self.runtime.join("state").display().to_string(),
            ),
            ("PIPEWIRE_REMOTE".into(), "pipewire-0".into()),
        ]
    }

    /// The daemon's socket, for in-process clients (`remote.name`).
    pub fn socket(&self) -> String {
        self.runtime.join("pipewire-0").display().to_string()
    }

    pub fn pw_cli(&self, args: &[&str]) -> String {
        let out = self.command("pw-cli").args(args).output().expect("pw-cli runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `pw-link -l`: every link as "node:port -> node:port" lines.
    pub fn links(&self) -> String {
        let out = self.command("pw-link").arg("-l").output().expect("pw-link runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.pw_cli(&["ls", "Node"])
            .contains(&format!("node.name = \"{name}\""))
    }

    /// A null sink (its monitor records what is played to it).
    pub fn create_sink(&self, name: &str) {
        self.pw_cli(&[
            "create-node",
            "adapter",
            &format!(
                "{{ factory.name=support.null-audio-sink node.name={name} media.class=Audio/Sink object.linger=true audio.position=[FL FR] }}"
            ),
        ]);
        wait_until(&format!("sink {name}"), || self.has_node(name));
    }

    /// Removes a node by name (a device unplugged).
    pub fn remove_node(&self, name: &str) {
        let listing = self.pw_cli(&["ls", "Node"]);
        // Blocks start with "\tid N, type PipeWire:Interface:Node".
        let mut id = None;
        for block in listing.split("\tid ").skip(1) {
            if block.contains(&format!("node.name = \"{name}\"")) {
                id = block.split(',').next().map(str::trim).map(str::to_string);
            }
        }
        let id = id.unwrap_or_else(|| panic!("no node {name} to remove"));
        self.pw_cli(&["destroy", &id]);
        wait_until(&format!("{name} to go"), || !self.has_node(name));
    }

    /// Records what reaches `sink` (its monitor) at 16 kHz mono until stopped.
    pub fn record(&self, sink: &str, file: &Path) -> Recording {
        let child = self
            .command("pw-record")
            .args([
                "--target",
                sink,
                "-P",
                "{ stream.capture.sink=true }",
                "--rate",
                "16000",
                "--channels",
                "1",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pw-record runs");
        let recording = Recording {
            child,
            file: file.to_path_buf(),
        };
        wait_until("pw-record to be linked", || self.links().contains("pw-record"));
        recording
    }

    /// Plays a WAV into `target` (a sink, e.g. the one the daemon listens to) and waits for the end.
    pub fn play(&self, target: &str, file: &Path) {
        let status = self
            .command("pw-play")
            .args(["--target", target])
            .arg(file)
            .status()
            .expect("pw-play runs");
        assert!(status.success(), "pw-play {} failed", file.display());
    }
}

impl Drop for PipeWire {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub struct Recording {
    child: Child,
    pub file: PathBuf,
}

impl Recording {
    /// Stops recording (SIGINT lets pw-record finish the WAV header); returns the file.
    pub fn stop(mut self) -> PathBuf {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.file.clone()
    }
}
