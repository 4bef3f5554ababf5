//! A private PipeWire for tests and benchmarks: its own runtime dir, D-Bus
//! session bus, pipewire and wireplumber, and null sinks made by name (a null
//! sink's monitor records what is played to it; one can stand in for a
//! microphone). Everything stops when the lab is dropped. Readiness is
//! polled (the daemon answers, node listed), never assumed after a sleep.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::AudioError;

pub struct PipeWireLab {
    pub runtime: PathBuf,
    children: Vec<Child>,
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), AudioError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        if Instant::now() > deadline {
            return Err(AudioError::Device(format!("timed out waiting for {what}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

impl PipeWireLab {
    /// Starts the daemons under `runtime` (an empty folder) and creates `sinks`.
    pub fn start(runtime: &Path, sinks: &[&str]) -> Result<Self, AudioError> {
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(runtime, std::fs::Permissions::from_mode(0o700));
        }
        let mut lab = Self {
            runtime: runtime.to_path_buf(),
            children: Vec::new(),
        };
        let bus = runtime.join("bus");
        lab.spawn(
            Command::new("dbus-daemon")
                .arg("--session")
                .arg(format!("--address=unix:path={}", bus.display()))
                .args(["--nofork", "--nopidfile"]),
            "dbus-daemon",
        )?;
        wait_until("the D-Bus socket", || bus.exists())?;
        lab.start_pipewire(sinks)?;
        Ok(lab)
    }

    /// pipewire, then wireplumber, then the null sinks; ready when
    /// wireplumber has published its default metadata.
    fn start_pipewire(&mut self, sinks: &[&str]) -> Result<(), AudioError> {
        let mut pipewire = self.command("pipewire");
        self.spawn(&mut pipewire, "pipewire")?;
        // A killed daemon leaves its socket file behind: readiness is an
        // answer from the new one, not the file.
        wait_until("PipeWire to answer", || {
            self.pw_cli(&["info", "0"]).contains("PipeWire:Interface:Core")
        })?;
        let mut wireplumber = self.command("wireplumber");
        self.spawn(&mut wireplumber, "wireplumber")?;
        wait_until("wireplumber's default metadata", || {
            self.pw_cli(&["ls", "Metadata"]).contains("\"default\"")
        })?;
        for sink in sinks {
            self.create_sink(sink)?;
        }
        Ok(())
    }

    /// Kills pipewire and wireplumber (as a crash would) and starts them
    /// again with `sinks`: clients see their connection break.
    pub fn restart_pipewire(&mut self, sinks: &[&str]) -> Result<(), AudioError> {
        // children: dbus-daemon, pipewire, wireplumber.
        for mut child in self.children.drain(1..).rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.start_pipewire(sinks)
    }

    fn spawn(&mut self, cmd: &mut Command, what: &str) -> Result<(), AudioError> {
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(|e| {
            AudioError::Device(format!(
                "cannot start {what} ({e}); install pipewire, wireplumber and dbus (scripts/install-deps.sh)"
            ))
        })?;
        self.children.push(child);
        Ok(())
    }

    /// The environment a program needs to use this PipeWire.
    pub fn env(&self) -> Vec<(String, String)> {
        let dir = self.runtime.display().to_string();
        vec![
            ("XDG_RUNTIME_DIR".into(), dir.clone()),
            ("PIPEWIRE_RUNTIME_DIR".into(), dir),
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

    /// A command that talks to this PipeWire.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env());
        cmd
    }

    /// The daemon's socket, for in-process clients (`remote` in the live edges).
    pub fn socket(&self) -> String {
        self.runtime.join("pipewire-0").display().to_string()
    }

    pub fn pw_cli(&self, args: &[&str]) -> String {
        self.command("pw-cli")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.pw_cli(&["ls", "Node"])
            .contains(&format!("node.name = \"{name}\""))
    }

    /// A stereo null sink named `name`, kept after pw-cli exits.
    pub fn create_sink(&self, name: &str) -> Result<(), AudioError> {
        self.pw_cli(&[
            "create-node",
            "adapter",
            &format!(
                "{{ factory.name=support.null-audio-sink node.name={name} media.class=Audio/Sink object.linger=true audio.position=[FL FR] }}"
            ),
        ]);
        wait_until(&format!("sink {name}"), || self.has_node(name))
    }

    /// Makes `name` PipeWire's default sink (as a desktop's sound settings
    /// would), and waits until the session manager has applied it.
    pub fn set_default_sink(&self, name: &str) -> Result<(), AudioError> {
        let value = format!("{{ \"name\": \"{name}\" }}");
        self.command("pw-metadata")
            .args([
                "-n",
                "default",
                "0",
                "default.configured.audio.sink",
                &value,
                "Spa:String:JSON",
            ])
            .output()
            .map_err(|e| AudioError::Device(format!("pw-metadata: {e}")))?;
        wait_until(&format!("{name} to be the default sink"), || {
            self.command("pw-metadata")
                .args(["-n", "default", "0", "default.audio.sink"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("\"name\":\"{name}\"")))
                .unwrap_or(false)
        })
    }

    /// Removes a node by name, as unplugging a device would.
    pub fn remove_node(&self, name: &str) -> Result<(), AudioError> {
        let listing = self.pw_cli(&["ls", "Node"]);
        // Blocks start with "\tid N, type PipeWire:Interface:Node".
        let id = listing
            .split("\tid ")
            .skip(1)
            .find(|block| block.contains(&format!("node.name = \"{name}\"")))
            .and_then(|block| block.split(',').next())
            .map(|id| id.trim().to_string())
            .ok_or_else(|| AudioError::Device(format!("no node {name} to remove")))?;
        self.pw_cli(&["destroy", &id]);
        wait_until(&format!("{name} to go"), || !self.has_node(name))
    }
}

impl Drop for PipeWireLab {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
