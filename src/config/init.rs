//! `hauski config init`: the owner's config dir with every built-in default
//! written out, commented, so each file documents itself and changes nothing
//! until a line is uncommented (a file holds only what it changes).

use std::path::{Path, PathBuf};

use super::{ConfigError, FILES};

const HEADER: &str = "\
# HausKI's built-in defaults for this file, commented out. Uncomment (remove the
# leading '#') only what you change: this file is laid over the built-in one, so
# everything else keeps its default and new defaults arrive with upgrades.
# Mappings merge key by key; lists of entries with an `id` merge by id (a new id
# adds an entry); other lists replace the default's. Check with `hauski config check`.
";

/// What `init` did with one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Written(PathBuf),
    /// Present already: the owner's file is never overwritten.
    Kept(PathBuf),
}

/// The default config dir: `~/.config/hauski`.
pub fn user_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("hauski"))
}

/// Writes every config file that `dir` lacks.
pub fn init(dir: &Path) -> Result<Vec<Outcome>, ConfigError> {
    let mut outcomes = Vec::new();
    for (name, text) in FILES {
        let path = dir.join(name);
        if path.exists() {
            outcomes.push(Outcome::Kept(path));
            continue;
        }
        let write_err = |source| ConfigError::Read {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        std::fs::write(&path, commented(text)).map_err(write_err)?;
        outcomes.push(Outcome::Written(path));
    }
    Ok(outcomes)
}

/// `text` with every setting commented out and its comments kept.
fn commented(text: &str) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            out.push_str(line);
        } else {
            out.push('#');
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn an_initialised_dir_reads_as_the_defaults_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let outcomes = init(dir.path()).expect("init");
        assert!(outcomes.iter().all(|o| matches!(o, Outcome::Written(_))));
        assert!(Config::check(Some(dir.path())).expect("readable").is_empty());
        let config = Config::load(Some(dir.path())).expect("defaults");
        assert_eq!(config.profiles.active, "wohnzimmer");
        assert!(
            config.models.model_roots.is_empty(),
            "the checkout's roots stay in the checkout"
        );

        // Uncommenting one line changes that value only.
        let profiles = dir.path().join("profiles.yaml");
        let text = std::fs::read_to_string(&profiles).expect("read");
        std::fs::write(&profiles, text.replace("#active: wohnzimmer", "active: kueche")).expect("write");
        assert_eq!(
            Config::load(Some(dir.path())).expect("valid").profiles.active,
            "kueche"
        );

        let again = init(dir.path()).expect("init");
        assert!(again.iter().all(|o| matches!(o, Outcome::Kept(_))));
        assert!(
            std::fs::read_to_string(&profiles)
                .expect("read")
                .contains("active: kueche")
        );
    }
}
