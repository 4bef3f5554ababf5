use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `models.yml`: every model HausKI can use, and which one each stage prefers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsFile {
    /// Model roots used when neither `--models` nor `HAUSKI_MODELS` is given;
    /// relative paths are relative to the config directory. The user data dir
    /// is always searched after them.
    #[serde(default)]
    pub model_roots: Vec<PathBuf>,
    pub models: Vec<ModelEntry>,
    pub defaults: Defaults,
}

/// One model file. Its checksum describes the file its `url` serves (or, for
/// an entry without a url, the file `source` names): `hauski models pull`
/// and `verify` hold the file to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub kind: ModelKind,
    /// Relative to a model root.
    pub path: PathBuf,
    /// SHA-256 of the file, hex; the checksum used when both are given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// SHA-1, hex, for files whose publisher gives no SHA-256 (whisper.cpp).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha1: String,
    pub quantisation: String,
    /// Where `hauski models pull` downloads it; empty when it is not downloaded.
    #[serde(default)]
    pub url: String,
    /// Where the file comes from when there is no url (a script, a package).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// One of the small test models in `../shared/models`, not what a home box
    /// downloads: kept so the tests and the demo run offline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_model: bool,
    /// The model clients name this file by, when it holds another entry's
    /// weights in another format (the embedder's ONNX graph is `minilm-l6-v2`
    /// to the API, as its safetensors are): the name stays whichever loads.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serves_as: String,
}

/// A checksum and the hash it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum<'a> {
    Sha256(&'a str),
    Sha1(&'a str),
}

impl Checksum<'_> {
    pub fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::Sha1(_) => "sha1",
        }
    }

    pub fn hex(&self) -> &str {
        match self {
            Checksum::Sha256(h) | Checksum::Sha1(h) => h,
        }
    }
}

impl ModelEntry {
    /// The id the API and the audit log give the loaded model.
    pub fn public_id(&self) -> &str {
        if self.serves_as.is_empty() {
            &self.id
        } else {
            &self.serves_as
        }
    }

    /// The entry's checksum: SHA-256 where given, else SHA-1 (validated at load).
    pub fn checksum(&self) -> Checksum<'_> {
        if self.sha256.is_empty() {
            Checksum::Sha1(&self.sha1)
        } else {
            Checksum::Sha256(&self.sha256)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Asr,
    Tts,
    TtsConfig,
    Llm,
    Embed,
    EmbedConfig,
    /// A wake word's classifier (ONNX, over the feature models' embeddings).
    Wake,
    /// openWakeWord's feature models (mel spectrogram, speech embedding).
    WakeFeatures,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub asr: Vec<String>,
    pub tts: Vec<String>,
    pub llm: Vec<String>,
    #[serde(default)]
    pub embed: Vec<String>,
}

impl ModelsFile {
    pub fn find(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn known_ids(&self) -> String {
        self.models
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks what serde cannot: unique ids, well-formed hashes, defaults that exist.
    pub fn validate(&self) -> Result<(), String> {
        for (i, m) in self.models.iter().enumerate() {
            if self.models[..i].iter().any(|o| o.id == m.id) {
                return Err(format!("model id {:?} appears twice", m.id));
            }
            let hex = |h: &str, len: usize| h.len() == len && h.chars().all(|c| c.is_ascii_hexdigit());
            match (m.sha256.is_empty(), m.sha1.is_empty()) {
                (true, true) => {
                    return Err(format!(
                        "model {:?} has no checksum: give its sha256 (or sha1)",
                        m.id
                    ));
                }
                (false, _) if !hex(&m.sha256, 64) => {
                    return Err(format!("model {:?}: sha256 must be 64 hex digits", m.id));
                }
                (_, false) if !hex(&m.sha1, 40) => {
                    return Err(format!("model {:?}: sha1 must be 40 hex digits", m.id));
                }
                _ => {}
            }
            if m.url.is_empty() && m.source.is_empty() {
                return Err(format!(
                    "model {:?} has neither a url nor a source: say where the file comes from",
                    m.id
                ));
            }
            if m.test_model && !m.url.is_empty() {
                return Err(format!(
                    "model {:?} is a test model: its file is not what a url serves, so it takes a source, not a url",
                    m.id
                ));
            }
            if !m.serves_as.is_empty()
                && !self
                    .models
                    .iter()
                    .any(|o| o.id == m.serves_as && o.kind == m.kind && o.serves_as.is_empty())
            {
                return Err(format!(
                    "model {:?} serves as {:?}, which is no other {:?} model in the list",
                    m.id, m.serves_as, m.kind
                ));
            }
            if m.path.is_absolute() || m.path.components().any(|c| c == std::path::Component::ParentDir) {
                return Err(format!(
                    "model {:?}: path must be relative to the model root, without '..'",
                    m.id
                ));
            }
        }
        let d = &self.defaults;
        for id in d.asr.iter().chain(&d.tts).chain(&d.llm).chain(&d.embed) {
            if self.find(id).is_none() {
                return Err(format!("defaults name {id:?}, which is not in the model list"));
            }
        }
        Ok(())
    }
}

/// Where model files live: one or more roots, searched in order.
#[derive(Debug, Clone)]
pub struct ModelRoots(pub Vec<PathBuf>);

impl ModelRoots {
    /// `spec` is a ':'-separated list (`HAUSKI_MODELS` / `--models`), followed
    /// by an installed HausKI's shipped models (they are part of the program). Without
    /// one, the roots named in models.yml (relative to `config_dir`) come
    /// first, then the user data dir, where `pull` writes, then an installed
    /// HausKI's shipped models.
    pub fn resolve(spec: Option<&str>, configured: &[PathBuf], config_dir: Option<&Path>) -> Self {
        let explicit: Vec<PathBuf> = spec
            .map(|s| {
                s.split(':')
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        if !explicit.is_empty() {
            return Self(explicit.into_iter().chain(shipped_root()).collect());
        }
        let mut roots: Vec<PathBuf> = configured
            .iter()
            .filter_map(|root| match (root.is_absolute(), config_dir) {
                (true, _) => Some(root.clone()),
                (false, Some(dir)) => Some(dir.join(root)),
                // Relative roots in the built-in models.yml have no directory to
                // be relative to.
                (false, None) => None,
            })
            .collect();
        roots.push(user_data_root());
        roots.extend(shipped_root());
        Self(roots)
    }

    /// The first root that holds `relative`, else where it would go in the first root.
    pub fn locate(&self, relative: &Path) -> PathBuf {
        self.0
            .iter()
            .map(|root| root.join(relative))
            .find(|p| p.is_file())
            .unwrap_or_else(|| self.primary().join(relative))
    }

    /// Where `pull` writes: the first root.
    pub fn primary(&self) -> &Path {
        &self.0[0]
    }

    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// What an installed HausKI ships beside its binary (the wake word): last,
/// so the owner's own files win.
pub fn shipped_root() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let root = exe
        .parent()?
        .join("../lib/hauski")
        .join(crate::install::layout::SHIPPED_MODELS);
    root.is_dir().then_some(root)
}

/// Where `pull` puts models when no root is named: always searched.
pub fn user_data_root() -> PathBuf {
    super::default_data_dir().join("models")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_roots_win() {
        let roots = ModelRoots::resolve(Some("/a:/b"), &[PathBuf::from("x")], Some(Path::new("/cfg")));
        assert_eq!(roots.0, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
    }

    #[test]
    fn configured_roots_are_relative_to_the_config_dir() {
        let roots = ModelRoots::resolve(None, &[PathBuf::from(".models")], Some(Path::new("/cfg")));
        assert_eq!(roots.0[0], PathBuf::from("/cfg/.models"));
        assert_eq!(roots.0.last(), Some(&user_data_root()));
    }

    #[test]
    fn built_in_config_uses_the_user_data_dir() {
        let roots = ModelRoots::resolve(None, &[PathBuf::from(".models")], None);
        assert_eq!(roots.0, vec![user_data_root()]);
    }
}

#[cfg(test)]
mod serves_as_tests {
    use super::*;

    fn shipped() -> ModelsFile {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("models.yml"))
            .expect("models.yml");
        serde_yaml::from_str(&text).expect("models.yml parses")
    }

    #[test]
    fn the_embedders_onnx_graph_is_named_as_its_safetensors() {
        let models = shipped();
        assert!(models.validate().is_ok());
        let onnx = models.find("minilm-l6-v2-onnx").expect("the ONNX entry");
        assert_eq!(onnx.public_id(), "minilm-l6-v2");
        let safetensors = models.find("minilm-l6-v2").expect("the safetensors entry");
        assert_eq!(safetensors.public_id(), "minilm-l6-v2");
    }

    #[test]
    fn serving_as_a_model_that_is_not_there_is_refused() {
        let mut models = shipped();
        let onnx = models
            .models
            .iter_mut()
            .find(|m| m.id == "minilm-l6-v2-onnx")
            .expect("the ONNX entry");
        onnx.serves_as = "minilm-l12".into();
        let err = models.validate().expect_err("refused");
        assert!(err.contains("serves as \"minilm-l12\""), "{err}");
    }
}
