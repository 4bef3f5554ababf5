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
    init_with_roots(dir, &[])
}

/// As [`init`], with `roots` (absolute) set as `models.yml`'s model roots:
/// `hauski install` run from a checkout hands the installed daemon the
/// folders its models are in.
pub fn init_with_roots(dir: &Path, roots: &[PathBuf]) -> Result<Vec<Outcome>, ConfigError> {
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
        let mut content = commented(text);
        if name == "models.yml" && !roots.is_empty() {
            content.push_str(&roots_setting(roots));
        }
        std::fs::write(&path, content).map_err(write_err)?;
        outcomes.push(Outcome::Written(path));
    }
    Ok(outcomes)
}

/// A `model_roots:` line for `roots`, JSON-quoted (valid YAML for any path).
fn roots_setting(roots: &[PathBuf]) -> String {
    let quoted: Vec<String> = roots
        .iter()
        .map(|r| serde_json::Value::String(r.display().to_string()).to_string())
        .collect();
    format!(
        "\n# Set by `hauski install`: where the models were when it ran.\nmodel_roots: [{}]\n",
        quoted.join(", ")
    )
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

        let again = init_with_roots(dir.path(), &[PathBuf::from("/x")]).expect("init");
        assert!(again.iter().all(|o| matches!(o, Outcome::Kept(_))));
        assert!(
            std::fs::read_to_string(&profiles)
                .expect("read")
                .contains("active: kueche")
        );
    }

    #[test]
    fn roots_given_at_init_are_the_model_roots() {
        let dir = tempfile::tempdir().expect("tmp");
        let roots = [PathBuf::from("/srv/models"), PathBuf::from("/home/o/with space")];
        init_with_roots(dir.path(), &roots).expect("init");
        let config = Config::load(Some(dir.path())).expect("valid");
        assert_eq!(config.models.model_roots, roots);
    }
}
