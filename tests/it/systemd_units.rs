//! The systemd units in `systemd/`, rendered as `hauski install` renders them
//! (ExecStart pointing at a real binary), checked by systemd's own
//! `systemd-analyze verify`, and held to their hardening: the offline
//! security exposure of each service stays low.

use crate::common;

use std::path::Path;
use std::process::Command;

fn rendered_units() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let hauski = env!("CARGO_BIN_EXE_hauski");
    for entry in std::fs::read_dir(common::repo().join("systemd")).expect("systemd/") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("unit");
        let name = path.file_name().expect("name");
        std::fs::write(
            dir.path().join(name),
            text.replace("%h/.local/bin/hauski", hauski),
        )
        .expect("write");
    }
    dir
}

fn units(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[test]
fn systemd_accepts_every_unit() {
    let dir = rendered_units();
    let names = units(dir.path());
    for wanted in [
        "hauski.service",
        "hauski-index.service",
        "hauski-index.timer",
        "hauski-interactive.slice",
        "hauski-batch.slice",
    ] {
        assert!(names.iter().any(|n| n == wanted), "systemd/{wanted} is missing");
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(&names)
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze runs (apt install systemd)");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn the_services_are_locked_down() {
    let dir = rendered_units();
    for (service, most) in [("hauski.service", 2.5), ("hauski-index.service", 2.0)] {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager", service])
            .current_dir(dir.path())
            .output()
            .expect("systemd-analyze runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let exposure = text
            .lines()
            .find_map(|l| l.split("Overall exposure level for ").nth(1))
            .and_then(|rest| rest.split(':').nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no exposure level for {service}: {text}"));
        assert!(
            exposure <= most,
            "{service}: exposure {exposure} > {most}\n{text}"
        );
    }
}
