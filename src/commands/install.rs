//! `hauski install` / `hauski uninstall`: the layout is the library's
//! (`hauski::install`); here the CLI finds the sources, initialises the
//! owner's config and asks systemd to run the units.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cli::{GlobalArgs, InstallArgs, InstallTarget};
use hauski::config::init::{self, Outcome};
use hauski::config::policies::host_after_scheme;
use hauski::config::{ModelKind, default_data_dir, shipped_root, user_data_root};
use hauski::engines::App;
use hauski::install::{self, ENABLED_UNITS, Layout, Scope, Sources};

fn layout(target: &InstallTarget) -> Result<Layout> {
    let scope = if target.system { Scope::System } else { Scope::User };
    Layout::new(scope, target.prefix.as_deref()).map_err(anyhow::Error::msg)
}

pub fn install(global: &GlobalArgs, app: &App, args: &InstallArgs) -> Result<()> {
    let mut layout = layout(&args.target)?;
    layout.destdir = args.destdir.clone();
    let sources = sources(app)?;
    println!(
        "==> installing {} into {}",
        sources.binary.display(),
        layout.prefix.display()
    );
    let installed = install::install(&sources, &layout)?;
    for library in &installed.libraries {
        println!("    {} (from {})", library.soname, library.file.display());
    }
    println!(
        "    {} files; the binary runs from {} and finds its libraries in {}",
        installed.files.len(),
        layout.binary().display(),
        layout.lib().display()
    );
    if args.no_enable || layout.destdir.is_some() {
        println!(
            "==> not enabled (--no-enable); units are in {}",
            layout.units.display()
        );
        return Ok(());
    }
    if layout.scope == Scope::User {
        init_config(global, app)?;
    } else {
        println!("==> each user may write their own config with `hauski config init`");
    }
    enable(&layout);
    if !path_has(&layout.bin()) {
        println!("note: {} is not on your PATH", layout.bin().display());
    }
    Ok(())
}

/// The running binary and what it needs beside it.
fn sources(app: &App) -> Result<Sources> {
    let binary = std::env::current_exe().context("cannot tell where this hauski binary is")?;
    let onnxruntime = hauski_onnxruntime::find()?;
    let mut shipped_models = Vec::new();
    for wake in app
        .config
        .models
        .models
        .iter()
        .filter(|m| matches!(m.kind, ModelKind::Wake | ModelKind::WakeFeatures))
    {
        let file = app.model_path(wake);
        if !file.is_file() {
            bail!(
                "the wake word {} ({}) is in none of the model roots ({}); run `hauski install` from the checkout, \
                 or fetch it first (scripts/fetch-wake-features.sh; a wake word of your own: scripts/train-wake.py)",
                wake.id,
                wake.path.display(),
                app.roots.describe()
            );
        }
        shipped_models.push((wake.path.clone(), file));
    }
    Ok(Sources {
        binary,
        onnxruntime,
        shipped_models,
        allowed_ips: bus_addresses(app)?,
    })
}

/// The addresses of bus.yaml's NATS server when it is off this box (and
/// routing.yaml allows it): the service's IP allow-list must let it through.
fn bus_addresses(app: &App) -> Result<Vec<IpAddr>> {
    let Some(url) = app.config.bus.nats_url.as_deref() else {
        return Ok(Vec::new());
    };
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let Some(host) = host_after_scheme(rest) else {
        return Ok(Vec::new());
    };
    if !app.config.routing.allows(&host) {
        return Ok(Vec::new());
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = (bare, 0)
        .to_socket_addrs()
        .with_context(|| format!("bus.yaml's nats_url {url}: cannot resolve {host}"))?
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback())
        .collect();
    Ok(addresses)
}

/// The owner's config, with the model roots this run used (absolute, and
/// without the user data dir and shipped models, which every HausKI searches).
fn init_config(global: &GlobalArgs, app: &App) -> Result<()> {
    let dir = global
        .config
        .clone()
        .or_else(init::user_dir)
        .context("no config directory ($XDG_CONFIG_HOME or $HOME)")?;
    let (data_root, shipped) = (user_data_root(), shipped_root());
    let roots: Vec<PathBuf> = app
        .roots
        .0
        .iter()
        .filter(|r| **r != data_root && Some(*r) != shipped.as_ref() && r.is_dir())
        .filter_map(|r| r.canonicalize().ok())
        .collect();
    let outcomes = init::init_with_roots(&dir, &roots)?;
    let written = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Written(_)))
        .count();
    println!(
        "==> config in {}: {written} default file(s) written, {} kept",
        dir.display(),
        outcomes.len() - written
    );
    Ok(())
}

/// `systemctl` for the scope: the user's own manager, or every user's.
fn systemctl(scope: Scope) -> Command {
    let mut cmd = Command::new("systemctl");
    cmd.arg(if scope == Scope::User {
        "--user"
    } else {
        "--global"
    });
    cmd
}

/// Enables (and for a user install, starts) the units; a machine without a
/// user manager (a container, a build box) gets the command to run later.
fn enable(layout: &Layout) {
    if !layout.units_are_seen_by_systemd() {
        println!(
            "==> systemd does not look in {}; link the units: systemctl --user link {}/*",
            layout.units.display(),
            layout.units.display()
        );
        return;
    }
    let mut steps = Vec::new();
    if layout.scope == Scope::User {
        steps.push(vec!["daemon-reload".to_string()]);
        let mut start = vec!["enable".to_string(), "--now".to_string()];
        start.extend(ENABLED_UNITS.iter().map(|u| u.to_string()));
        steps.push(start);
    } else {
        let mut start = vec!["enable".to_string()];
        start.extend(ENABLED_UNITS.iter().map(|u| u.to_string()));
        steps.push(start);
    }
    for step in steps {
        let mut cmd = systemctl(layout.scope);
        cmd.args(&step);
        match cmd.output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return println!(
                    "warning: {cmd:?} failed ({}); run it once a user session is up",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            Err(e) => return println!("warning: systemctl cannot run ({e}); enable the units by hand"),
        }
    }
    println!("==> enabled {}", ENABLED_UNITS.join(", "));
}

pub fn uninstall(global: &GlobalArgs, target: &InstallTarget, purge: bool) -> Result<()> {
    let layout = layout(target)?;
    if layout.units_are_seen_by_systemd() {
        let mut cmd = systemctl(layout.scope);
        cmd.arg("disable");
        if layout.scope == Scope::User {
            cmd.arg("--now");
        }
        // Best effort: units that were never enabled, or no user manager.
        let _ = cmd.args(ENABLED_UNITS).output();
    }
    let removed = install::uninstall(&layout)?;
    println!("removed {} files from {}", removed.len(), layout.prefix.display());
    let config = global.config.clone().or_else(init::user_dir);
    let data = Some(global.data.clone().unwrap_or_else(default_data_dir));
    for (what, dir) in [("config", config), ("data", data)] {
        let Some(dir) = dir.filter(|d| d.exists()) else {
            continue;
        };
        if purge {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot delete {}", dir.display()))?;
            println!("deleted your {what} in {}", dir.display());
        } else {
            println!("kept your {what} in {} (--purge deletes it)", dir.display());
        }
    }
    Ok(())
}

fn path_has(dir: &Path) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p: PathBuf| p == dir))
}
