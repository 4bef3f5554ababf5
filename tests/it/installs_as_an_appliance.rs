//! `hauski install` makes an appliance of a build: installed into a temp
//! prefix, with the checkout's `target/` hidden from it (a private mount
//! namespace lays an empty tmpfs over it), the installed `hauski` still
//! transcribes, speaks and serves; `hauski uninstall` removes it and keeps
//! the owner's config.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::server::{Server, get};

/// A home for a new owner: HOME, XDG dirs, and the models `hauski models
/// pull` would have put in its data dir (linked from the real ones).
struct Owner {
    home: PathBuf,
    prefix: PathBuf,
    /// Outside target/, which the installed binary must do without.
    _root: tempfile::TempDir,
}

impl Owner {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("tmp");
        let home = root.path().join("home");
        let models = home.join(".local/share/hauski/models");
        std::fs::create_dir_all(models.join("llm")).expect("mkdir");
        let shared = common::shared_models();
        for dir in ["whisper", "tts", "embed"] {
            std::os::unix::fs::symlink(shared.join(dir), models.join(dir)).expect("link");
        }
        common::require_gemma();
        let gemma = "llm/gemma-3-270m-q4_k_m.gguf";
        std::os::unix::fs::symlink(common::repo().join(".models").join(gemma), models.join(gemma))
            .expect("link");
        Self {
            home,
            prefix: root.path().join("prefix"),
            _root: root,
        }
    }

    /// `program` as this owner runs it: their HOME, from their home dir, with
    /// none of the test harness's paths into the build tree.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        self.own(&mut cmd);
        cmd
    }

    fn own(&self, cmd: &mut Command) {
        cmd.current_dir(&self.home)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("HAUSKI_MODELS")
            .env_remove("HAUSKI_CONFIG")
            .env_remove("HAUSKI_DATA")
            .env_remove("HAUSKI_ONNXRUNTIME");
    }

    /// The installed hauski with `target/` hidden.
    fn installed_without_build_tree(&self) -> Command {
        self.without_build_tree(&self.prefix.join("bin/hauski"))
    }

    /// `program` where `target/` is gone: `unshare` gives it a mount
    /// namespace of its own in which the build tree is an empty tmpfs.
    fn without_build_tree(&self, program: &Path) -> Command {
        let target = common::repo().join("target");
        let mut cmd = Command::new("unshare");
        cmd.args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs none "$1" || exit 97; shift; exec "$@""#)
            .arg("sh")
            .arg(&target)
            .arg(program);
        self.own(&mut cmd);
        cmd
    }
}

fn ok(out: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(97),
        "{what}: cannot hide target/ (unshare needs unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1): {stderr}"
    );
    assert!(out.status.success(), "{what} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_installed_hauski_runs_without_the_build_tree_and_uninstalls_cleanly() {
    let owner = Owner::new();
    let said = ok(
        owner
            .command(Path::new(env!("CARGO_BIN_EXE_hauski")))
            // As the README says: from the checkout, whose models.yml names
            // assets/ (the wake word) as a model root.
            .current_dir(common::repo())
            .arg("install")
            .arg("--prefix")
            .arg(&owner.prefix)
            .output()
            .expect("hauski install runs"),
        "hauski install",
    );
    let lib = owner.prefix.join("lib/hauski");
    for file in [
        "libllama.so.0",
        "libggml.so.0",
        "libonnxruntime.so",
        "models/wakeword/hey-hauski.onnx",
        "models/wakeword/melspectrogram.onnx",
        "models/wakeword/embedding_model.onnx",
    ] {
        assert!(
            lib.join(file).is_file(),
            "lib/hauski/{file} is missing; install said:\n{said}"
        );
    }
    let units = owner.prefix.join("share/systemd/user/hauski.service");
    let unit = std::fs::read_to_string(&units).expect("the service unit is installed");
    assert!(
        unit.contains(&format!(
            "ExecStart={} serve",
            owner.prefix.join("bin/hauski").display()
        )),
        "{unit}"
    );
    let config = owner.home.join(".config/hauski");
    assert!(
        config.join("profiles.yaml").is_file(),
        "install writes the owner's config"
    );
    // ... and hands the service the folders the models were in.
    let models_yml = std::fs::read_to_string(config.join("models.yml")).expect("models.yml");
    let shared = common::shared_models().canonicalize().expect("shared");
    assert!(models_yml.contains(&*shared.to_string_lossy()), "{models_yml}");

    // The binary's only library path is its own lib dir, and the loader finds
    // every library there or in the system, not in the build tree.
    let dynamic = ok(
        Command::new("readelf")
            .arg("-d")
            .arg(owner.prefix.join("bin/hauski"))
            .output()
            .expect("readelf (binutils) runs"),
        "readelf",
    );
    let paths: Vec<&str> = dynamic.lines().filter(|l| l.contains("PATH)")).collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].contains("[$ORIGIN/../lib/hauski]"), "{paths:?}");

    let resolved = ok(
        owner
            .without_build_tree(Path::new("ldd"))
            .arg(owner.prefix.join("bin/hauski"))
            .output()
            .expect("ldd runs"),
        "ldd on the installed binary",
    );
    let target = common::repo().join("target");
    assert!(
        !resolved.contains("not found") && !resolved.contains(&*target.to_string_lossy()),
        "{resolved}"
    );
    assert!(resolved.contains("/lib/hauski/libllama.so.0"), "{resolved}");

    // Transcribes.
    let jfk = common::audio("jfk.wav");
    let text = ok(
        owner
            .installed_without_build_tree()
            .arg("transcribe")
            .arg(&jfk)
            .output()
            .expect("runs"),
        "installed hauski transcribe",
    );
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );

    // Speaks, and what it says reads back.
    let wav = owner.home.join("spoken.wav");
    ok(
        owner
            .installed_without_build_tree()
            .args(["say", "The pasta timer is done.", "-o"])
            .arg(&wav)
            .output()
            .expect("runs"),
        "installed hauski say",
    );
    let heard = ok(
        owner
            .installed_without_build_tree()
            .arg("transcribe")
            .arg(&wav)
            .output()
            .expect("runs"),
        "installed hauski transcribe (its own speech)",
    );
    assert!(heard.to_lowercase().contains("timer is done"), "{heard}");

    // Serves.
    {
        let server = Server::start(owner.installed_without_build_tree(), &["--no-voice"]);
        let (status, body) = get(&server.url("/healthz"), None);
        assert_eq!(status, 200, "{body}\n{}", server.log());
        let (status, models) = get(&server.url("/v1/models"), None);
        assert_eq!(status, 200, "{models}");
        assert!(models.contains("gemma-3-270m"), "{models}");
    }

    // Uninstall: every installed file goes, the owner's config stays.
    let said = ok(
        owner
            .command(&owner.prefix.join("bin/hauski"))
            .arg("uninstall")
            .arg("--prefix")
            .arg(&owner.prefix)
            .output()
            .expect("runs"),
        "hauski uninstall",
    );
    assert!(!owner.prefix.join("bin/hauski").exists(), "{said}");
    assert!(!lib.exists(), "lib/hauski is removed: {said}");
    assert!(!units.exists(), "{said}");
    assert!(config.join("profiles.yaml").is_file(), "config is kept: {said}");
    assert!(said.contains("kept your config"), "{said}");
}
