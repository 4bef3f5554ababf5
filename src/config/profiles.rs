use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `profiles.yaml`: which sink answers go to and how they sound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesFile {
    pub active: String,
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// PipeWire sink node the answers play to.
    pub sink: String,
    /// Output gain, 0.0 to 1.0, applied to synthesised speech.
    pub volume: f32,
    /// A `tts` model id from models.yml.
    pub voice: String,
    /// 1.0 is the voice's own pace.
    pub speaking_rate: f32,
    /// How lively the voice is, 0.0 to 1.0: 1.0 is the voice as trained, lower
    /// is steadier and easier to understand across a room.
    #[serde(default = "default_variation")]
    pub variation: f32,
    /// Lower other streams while HausKI speaks.
    #[serde(default)]
    pub duck_others: bool,
    /// Other names a speaker may use for this profile ("kitchen", "Küche").
    #[serde(default)]
    pub synonyms: Vec<String>,
}

fn default_variation() -> f32 {
    0.4
}

impl ProfilesFile {
    pub fn active_profile(&self) -> Option<&Profile> {
        self.profiles.get(&self.active)
    }

    /// How each profile is said aloud: its first synonym ("kitchen" for
    /// `kueche`), else its name. Replies use it, and live speech recognition
    /// is biased towards it.
    pub fn spoken_names(&self) -> Vec<String> {
        self.profiles
            .iter()
            .map(|(name, p)| p.synonyms.first().unwrap_or(name).clone())
            .collect()
    }

    /// The spoken name of the profile `name`.
    pub fn spoken_name<'p>(&'p self, name: &'p str) -> &'p str {
        self.profiles
            .get(name)
            .and_then(|p| p.synonyms.first())
            .map_or(name, String::as_str)
    }

    pub fn known_names(&self) -> String {
        self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// Checks what serde cannot: the active profile exists and values are in
    /// range. Voices are checked when one is loaded, against the models in use.
    pub fn validate(&self) -> Result<(), String> {
        if !self.profiles.contains_key(&self.active) {
            return Err(format!(
                "active profile {:?} is not defined; known profiles: {}",
                self.active,
                self.known_names()
            ));
        }
        for (name, p) in &self.profiles {
            if p.sink.trim().is_empty() {
                return Err(format!("profile {name:?} names no sink"));
            }
            if !(0.0..=1.0).contains(&p.volume) {
                return Err(format!(
                    "profile {name:?}: volume {} must be between 0.0 and 1.0",
                    p.volume
                ));
            }
            if !(0.0..=1.0).contains(&p.variation) {
                return Err(format!(
                    "profile {name:?}: variation {} must be between 0.0 and 1.0",
                    p.variation
                ));
            }
            if !(0.25..=4.0).contains(&p.speaking_rate) {
                return Err(format!(
                    "profile {name:?}: speaking_rate {} must be between 0.25 and 4.0",
                    p.speaking_rate
                ));
            }
            if p.synonyms.iter().any(|s| s.trim().is_empty()) {
                return Err(format!("profile {name:?} has an empty synonym"));
            }
        }
        Ok(())
    }
}
