use std::collections::BTreeMap;

use serde::Deserialize;

/// `profiles.yaml`: which sink answers go to and how they sound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesFile {
    pub active: String,
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub sink: String,
    pub volume: f32,
    pub voice: String,
    pub speaking_rate: f32,
    #[serde(default)]
    pub duck_others: bool,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

impl ProfilesFile {
    pub fn active_profile(&self) -> Option<&Profile> {
        self.profiles.get(&self.active)
    }
}
