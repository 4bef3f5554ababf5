//! Where an installed HausKI's files go, for `--user` and `--system`.
//!
//! ```text
//! PREFIX/bin/hauski                       the daemon and CLI (rpath $ORIGIN/../lib/hauski)
//! PREFIX/lib/hauski/lib*.so*              llama.cpp, ggml, ONNX Runtime
//! PREFIX/lib/hauski/models/               what HausKI ships: the "hey hauski" wake word and its feature models
//! PREFIX/lib/hauski/install-manifest.txt  every file installed, for `hauski uninstall`
//! UNITS/hauski*.{service,timer,slice}     systemd user units
//! ```
//!
//! Units go where the user manager looks without configuration:
//! `$XDG_DATA_HOME/systemd/user` (`~/.local/share/systemd/user`) for a user
//! install, `PREFIX/lib/systemd/user` (`/usr/local/lib/systemd/user`) for a
//! system-wide one. The owner's config (`~/.config/hauski`) and data
//! (`~/.local/share/hauski`) are not part of the layout: uninstalling keeps them.

use std::path::{Path, PathBuf};

/// Who the install is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The current user, under `~/.local`; no root needed.
    User,
    /// Every user of the machine, under `/usr/local`; units for every user manager.
    System,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub scope: Scope,
    pub prefix: PathBuf,
    pub units: PathBuf,
    /// Packaging: files are written under this root (a .deb's tree), while
    /// unit files and the manifest name their final paths.
    pub destdir: Option<PathBuf>,
}

/// Inside `lib/hauski`: the shipped models root (see `config::ModelRoots`).
pub const SHIPPED_MODELS: &str = "models";
/// Inside `lib/hauski`: the list of installed files.
pub const MANIFEST: &str = "install-manifest.txt";

impl Layout {
    /// `prefix` overrides the scope's default (`~/.local`, `/usr/local`).
    pub fn new(scope: Scope, prefix: Option<&Path>) -> Result<Self, String> {
        let home = || dirs::home_dir().ok_or("no home directory ($HOME is unset); pass --prefix");
        let prefix = match (prefix, scope) {
            (Some(p), _) => absolute(p)?,
            (None, Scope::User) => home()?.join(".local"),
            (None, Scope::System) => PathBuf::from("/usr/local"),
        };
        let units = match scope {
            Scope::User if prefix_is_default_user(&prefix) => dirs::data_dir()
                .map(|d| d.join("systemd/user"))
                .ok_or("no data directory ($XDG_DATA_HOME or $HOME); pass --prefix")?,
            Scope::User => prefix.join("share/systemd/user"),
            Scope::System => prefix.join("lib/systemd/user"),
        };
        Ok(Self {
            scope,
            prefix,
            units,
            destdir: None,
        })
    }

    /// Where the file that will live at `path` is written now.
    pub fn staged(&self, path: &Path) -> PathBuf {
        match &self.destdir {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        }
    }

    pub fn bin(&self) -> PathBuf {
        self.prefix.join("bin")
    }

    pub fn binary(&self) -> PathBuf {
        self.bin().join("hauski")
    }

    /// The private library dir: shared libraries (ONNX Runtime), shipped models.
    pub fn lib(&self) -> PathBuf {
        self.prefix.join("lib/hauski")
    }

    pub fn manifest(&self) -> PathBuf {
        self.lib().join(MANIFEST)
    }

    /// Whether systemd's user managers read `units` without extra setup, so
    /// enabling them makes sense.
    pub fn units_are_seen_by_systemd(&self) -> bool {
        match self.scope {
            Scope::User => prefix_is_default_user(&self.prefix),
            Scope::System => self.prefix == Path::new("/usr/local") || self.prefix == Path::new("/usr"),
        }
    }
}

/// The rpath an installed binary carries: its libraries, wherever PREFIX is.
pub const INSTALLED_RPATH: &str = "$ORIGIN/../lib/hauski";

fn prefix_is_default_user(prefix: &Path) -> bool {
    dirs::home_dir().is_some_and(|h| h.join(".local") == prefix)
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("--prefix {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_prefix_holds_everything_but_user_data() {
        let layout = Layout::new(Scope::User, Some(Path::new("/opt/h"))).expect("layout");
        assert_eq!(layout.binary(), Path::new("/opt/h/bin/hauski"));
        assert_eq!(layout.lib(), Path::new("/opt/h/lib/hauski"));
        assert_eq!(layout.units, Path::new("/opt/h/share/systemd/user"));
        assert!(!layout.units_are_seen_by_systemd());
    }

    #[test]
    fn a_package_tree_is_written_under_destdir_but_names_final_paths() {
        let mut layout = Layout::new(Scope::System, Some(Path::new("/usr"))).expect("layout");
        layout.destdir = Some(PathBuf::from("/tmp/pkg"));
        assert_eq!(layout.binary(), Path::new("/usr/bin/hauski"));
        assert_eq!(
            layout.staged(&layout.binary()),
            Path::new("/tmp/pkg/usr/bin/hauski")
        );
        assert_eq!(layout.units, Path::new("/usr/lib/systemd/user"));
    }

    #[test]
    fn system_units_go_where_every_user_manager_looks() {
        let layout = Layout::new(Scope::System, None).expect("layout");
        assert_eq!(layout.units, Path::new("/usr/local/lib/systemd/user"));
        assert!(layout.units_are_seen_by_systemd());
    }
}
