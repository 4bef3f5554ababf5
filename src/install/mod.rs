//! `hauski install` / `hauski uninstall`: from a build to an appliance.
//!
//! The install copies the running binary (whatever profile built it), the
//! private shared libraries and the shipped models into
//! a [`Layout`], rewrites the binary's rpath so nothing points into the build
//! tree, and renders the systemd user units for that binary. Every file it
//! writes is listed in a manifest, so uninstalling removes exactly those and
//! never the owner's config or data.

mod bundle;
pub mod layout;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use bundle::{Library, private_libraries};
pub use layout::{INSTALLED_RPATH, Layout, Scope};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{what} not found: {fix}")]
    Missing { what: String, fix: String },
    #[error("{binary} needs {soname}, which the loader cannot find; rebuild (cargo build) and install again")]
    MissingLibrary { soname: String, binary: PathBuf },
    #[error("{tool} failed: {reason}")]
    Tool { tool: &'static str, reason: String },
    #[error("cannot write {path}: {source}; pick a --prefix you may write to (or --user)")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} is the installed binary itself; run `hauski install` from a build (target/debug or target/release)"
    )]
    OntoItself(PathBuf),
    #[error("nothing of HausKI is installed under {0} (no {1})")]
    NotInstalled(PathBuf, &'static str),
    #[error("the manifest {manifest} names {path}, outside the install; it was left alone")]
    Foreign { manifest: PathBuf, path: PathBuf },
}

/// What goes into an install, found by the caller (the CLI knows the config).
#[derive(Debug, Clone)]
pub struct Sources {
    /// The `hauski` binary to install (normally the running one).
    pub binary: PathBuf,
    pub onnxruntime: PathBuf,
    /// (path relative to a model root, file): what HausKI ships, the wake word
    /// and the feature models it reads.
    pub shipped_models: Vec<(PathBuf, PathBuf)>,
    /// Addresses the service may reach beyond loopback (see [`render_unit`]).
    pub allowed_ips: Vec<IpAddr>,
}

/// The systemd units, as shipped in `systemd/`; `%h/.local/bin/hauski` is
/// replaced by the installed binary.
pub const UNITS: [(&str, &str); 5] = [
    ("hauski.service", include_str!("../../systemd/hauski.service")),
    (
        "hauski-index.service",
        include_str!("../../systemd/hauski-index.service"),
    ),
    (
        "hauski-index.timer",
        include_str!("../../systemd/hauski-index.timer"),
    ),
    (
        "hauski-interactive.slice",
        include_str!("../../systemd/hauski-interactive.slice"),
    ),
    (
        "hauski-batch.slice",
        include_str!("../../systemd/hauski-batch.slice"),
    ),
];

/// The units `hauski install` enables (the slices come with them).
pub const ENABLED_UNITS: [&str; 2] = ["hauski.service", "hauski-index.timer"];

/// A unit's text with ExecStart pointing at `binary`, and the service's
/// IP allow-list (loopback) widened by `allowed_ips`: the addresses of a NATS
/// server off this box that bus.yaml names and routing.yaml allows.
pub fn render_unit(text: &str, binary: &Path, allowed_ips: &[IpAddr]) -> String {
    let text = text.replace("%h/.local/bin/hauski", &binary.display().to_string());
    if allowed_ips.is_empty() {
        return text;
    }
    let extra: Vec<String> = allowed_ips.iter().map(IpAddr::to_string).collect();
    text.replace(
        "IPAddressAllow=localhost",
        &format!("IPAddressAllow=localhost {}", extra.join(" ")),
    )
}

/// What an install wrote.
#[derive(Debug, Default)]
pub struct Installed {
    pub files: Vec<PathBuf>,
    pub libraries: Vec<Library>,
}

/// Lays `sources` out in `layout`; an existing install is replaced file by
/// file (each written beside its target, then renamed over it, so a running
/// daemon keeps its open binary).
pub fn install(sources: &Sources, layout: &Layout) -> Result<Installed, InstallError> {
    let _span = tracing::info_span!("install", prefix = %layout.prefix.display()).entered();
    if same_file(&sources.binary, &layout.binary()) {
        return Err(InstallError::OntoItself(layout.binary()));
    }
    let libraries = private_libraries(&sources.binary)?;
    let mut installed = Installed {
        libraries: libraries.clone(),
        ..Default::default()
    };
    let lib = layout.lib();

    let binary = layout.binary();
    put(layout, &sources.binary, &binary, &mut installed.files, |staged| {
        bundle::set_rpath(staged, INSTALLED_RPATH)
    })?;
    for library in &libraries {
        put(
            layout,
            &library.file,
            &lib.join(&library.soname),
            &mut installed.files,
            |_| Ok(()),
        )?;
    }
    put(
        layout,
        &sources.onnxruntime,
        &lib.join("libonnxruntime.so"),
        &mut installed.files,
        |_| Ok(()),
    )?;
    for (relative, file) in &sources.shipped_models {
        let target = lib.join(layout::SHIPPED_MODELS).join(relative);
        put(layout, file, &target, &mut installed.files, |_| Ok(()))?;
    }
    for (name, text) in UNITS {
        let target = layout.units.join(name);
        write(
            &layout.staged(&target),
            render_unit(text, &binary, &sources.allowed_ips).as_bytes(),
        )?;
        installed.files.push(target);
    }
    let manifest = layout.manifest();
    installed.files.push(manifest.clone());
    let listing: String = installed
        .files
        .iter()
        .map(|f| format!("{}\n", f.display()))
        .collect();
    write(&layout.staged(&manifest), listing.as_bytes())?;
    Ok(installed)
}

/// Removes every file the install's manifest lists, then the folders it
/// leaves empty. Config and data are never listed, so they stay.
pub fn uninstall(layout: &Layout) -> Result<Vec<PathBuf>, InstallError> {
    let manifest = layout.manifest();
    let listing = std::fs::read_to_string(&manifest)
        .map_err(|_| InstallError::NotInstalled(layout.prefix.clone(), layout::MANIFEST))?;
    let files: Vec<PathBuf> = listing
        .lines()
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect();
    if let Some(path) = files
        .iter()
        .find(|f| !f.starts_with(&layout.prefix) && !f.starts_with(&layout.units))
    {
        return Err(InstallError::Foreign {
            manifest,
            path: path.clone(),
        });
    }
    let mut removed = Vec::new();
    for file in &files {
        match std::fs::remove_file(file) {
            Ok(()) => removed.push(file.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(InstallError::Write {
                    path: file.clone(),
                    source,
                });
            }
        }
    }
    for file in &files {
        remove_empty_parents(file, &layout.prefix);
    }
    Ok(removed)
}

/// Copies `from` to `to` through a staged file that `prepare` may change.
/// (The file goes to `to` under the layout's destdir; `files` lists `to`.)
fn put(
    layout: &Layout,
    from: &Path,
    to: &Path,
    files: &mut Vec<PathBuf>,
    prepare: impl FnOnce(&Path) -> Result<(), InstallError>,
) -> Result<(), InstallError> {
    files.push(to.to_path_buf());
    let to = &layout.staged(to);
    let parent = to.parent().unwrap_or(Path::new("/"));
    mkdirs(parent)?;
    let staged = to.with_extension("hauski-new");
    std::fs::copy(from, &staged).map_err(|source| InstallError::Write {
        path: staged.clone(),
        source,
    })?;
    prepare(&staged)?;
    std::fs::rename(&staged, to).map_err(|source| InstallError::Write {
        path: to.to_path_buf(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    mkdirs(path.parent().unwrap_or(Path::new("/")))?;
    std::fs::write(path, bytes).map_err(|source| InstallError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn mkdirs(dir: &Path) -> Result<(), InstallError> {
    std::fs::create_dir_all(dir).map_err(|source| InstallError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// Removes `file`'s parent folders while they are empty, up to (not including) `stop`.
fn remove_empty_parents(file: &Path, stop: &Path) {
    for dir in file.ancestors().skip(1) {
        if dir == stop || !dir.starts_with(stop) || std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_unit_is_installed() {
        let shipped: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/systemd"))
            .expect("systemd/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        for name in &shipped {
            assert!(
                UNITS.iter().any(|(n, _)| n == name),
                "systemd/{name} is not installed"
            );
        }
        assert_eq!(shipped.len(), UNITS.len());
    }

    #[test]
    fn units_start_the_installed_binary() {
        for (name, text) in UNITS {
            let rendered = render_unit(text, Path::new("/opt/h/bin/hauski"), &[]);
            assert!(!rendered.contains("%h/.local/bin"), "{name}");
            if name.ends_with(".service") {
                assert!(rendered.contains("ExecStart=/opt/h/bin/hauski "), "{name}");
            }
        }
    }

    #[test]
    fn a_nats_server_off_the_box_is_let_through_the_service_firewall() {
        let (name, text) = UNITS[0];
        assert_eq!(name, "hauski.service");
        let ip: IpAddr = "192.168.1.20".parse().expect("ip");
        let rendered = render_unit(text, Path::new("/opt/h/bin/hauski"), &[ip]);
        assert!(
            rendered.contains("IPAddressAllow=localhost 192.168.1.20\n"),
            "{rendered}"
        );
        assert!(rendered.contains("IPAddressDeny=any\n"));
    }

    #[test]
    fn uninstall_refuses_a_manifest_that_names_other_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let layout = Layout::new(Scope::User, Some(dir.path())).expect("layout");
        std::fs::create_dir_all(layout.lib()).expect("mkdir");
        std::fs::write(layout.manifest(), "/etc/passwd\n").expect("write");
        let err = uninstall(&layout).expect_err("foreign path");
        assert!(err.to_string().contains("/etc/passwd"), "{err}");
    }
}
