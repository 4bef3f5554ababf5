//! Setting up a daemon for the messenger adapters as its owner would: a
//! routing policy that grants the loopback messengers to them, and their
//! credentials piped into `hauski secrets set`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A config dir like the repository's whose routing policy grants
/// 127.0.0.1 (the messengers here) to the three adapters and nothing else,
/// with `policies/memory.yaml` as `memory` makes it of the shipped one.
pub fn config_granting_loopback(dir: &Path, memory: impl Fn(String) -> String) -> PathBuf {
    let repo = crate::common::repo();
    std::fs::create_dir_all(dir.join("policies")).expect("config dir");
    for file in ["models.yml", "profiles.yaml", "policies/limits.yaml"] {
        std::fs::copy(repo.join(file), dir.join(file)).expect("copy config");
    }
    std::fs::write(
        dir.join("policies/routing.yaml"),
        "egress:\n  default: deny\n  allow:\n    - {host: 127.0.0.1, purpose: messages, skills: [telegram, matrix, signal]}\n",
    )
    .expect("routing");
    let shipped = std::fs::read_to_string(repo.join("policies/memory.yaml")).expect("memory policy");
    std::fs::write(dir.join("policies/memory.yaml"), memory(shipped)).expect("memory policy");
    dir.to_path_buf()
}

/// `hauski secrets set ADAPTER KEY` with `value` on stdin, as an owner pipes it.
pub fn set_secret(data: &Path, config: &Path, adapter: &str, key: &str, value: &str) {
    use std::io::Write;
    let mut child = crate::common::hauski_with_data(data)
        .env("HAUSKI_CONFIG", config)
        .args(["secrets", "set", adapter, key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hauski secrets set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{value}\n").as_bytes())
        .expect("write the secret");
    let out = child.wait_with_output().expect("it ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
