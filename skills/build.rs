//! Builds the built-in skills and messenger adapters (`builtin/`, a workspace of its own) for
//! wasm32-unknown-unknown, so `hauski-skills` can embed them: they ship as
//! WebAssembly like any third-party skill, and run in the same sandbox.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let builtin = manifest_dir.join("builtin");
    println!("cargo:rerun-if-changed={}", builtin.display());
    // The words the skills share with the core.
    println!("cargo:rerun-if-changed={}", manifest_dir.join("words").display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("wasm");
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .arg("--manifest-path")
        .arg(builtin.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host, not for the wasm target.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo for the built-in skills: {e}"));
    if !status.success() {
        panic!(
            "the built-in skills (skills/builtin) did not build for wasm32-unknown-unknown; \
             if the target is missing, run `rustup target add wasm32-unknown-unknown` (scripts/install-deps.sh does)"
        );
    }
    for module in [
        "hauski_skill_lists.wasm",
        "hauski_skill_timers.wasm",
        "hauski_skill_reminders.wasm",
        "hauski_adapter_telegram.wasm",
        "hauski_adapter_matrix.wasm",
        "hauski_adapter_signal.wasm",
    ] {
        let built = target_dir.join("wasm32-unknown-unknown/release").join(module);
        std::fs::copy(&built, out_dir.join(module))
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
    }
}
