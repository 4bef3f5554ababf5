//! Spoken profile switches, recognised before the LLM: "switch to the kitchen
//! profile", "Profil Küche", "use headphones". Names and synonyms come from
//! profiles.yaml; a request for a profile nobody knows is recognised too, so
//! it gets a clear "I don't know a profile called X".

use crate::config::ProfilesFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileIntent {
    /// The profile's name in profiles.yaml.
    Switch(String),
    /// A switch was asked for, to something not in profiles.yaml.
    Unknown(String),
}

/// Lower case, umlauts kept, punctuation gone, single spaces.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Phrases that open a switch request; what follows names the profile.
const OPENERS: &[&str] = &[
    "switch to the",
    "switch to",
    "change to the",
    "change to",
    "go to the",
    "use the",
    "use my",
    "use",
    "profil",
    "profile",
    "wechsel zu",
    "wechsle zu",
];

/// Words around a profile name that are not part of it.
const FILLER: &[&str] = &[
    "the", "profile", "profil", "please", "bitte", "mode", "modus", "now", "jetzt",
];

pub fn parse(text: &str, profiles: &ProfilesFile) -> Option<ProfileIntent> {
    let said = normalise(text);
    let said = said.strip_prefix("hey hauski ").unwrap_or(&said);
    let rest = OPENERS.iter().find_map(|opener| {
        said.strip_prefix(opener)
            .filter(|r| r.is_empty() || r.starts_with(' '))
    })?;
    // Only a short request is a command; "use the oven timer for the cake" is a question.
    let words: Vec<&str> = rest.split_whitespace().filter(|w| !FILLER.contains(w)).collect();
    if words.is_empty() || words.len() > 3 {
        return None;
    }
    let wanted = words.join(" ");
    for (name, profile) in &profiles.profiles {
        let names = std::iter::once(name.as_str()).chain(profile.synonyms.iter().map(String::as_str));
        if names.map(normalise).any(|n| n == wanted) {
            return Some(ProfileIntent::Switch(name.clone()));
        }
    }
    // "use …" is common in questions; only call an unknown profile what was
    // clearly asked for as one.
    let asked_for_profile =
        said.contains("profile") || said.contains("profil") || said.starts_with("switch to");
    asked_for_profile.then_some(ProfileIntent::Unknown(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> ProfilesFile {
        serde_yaml::from_str(include_str!("../../profiles.yaml")).expect("profiles.yaml")
    }

    #[test]
    fn english_and_german_requests_switch() {
        let p = profiles();
        let switch = |s: &str| parse(s, &p);
        assert_eq!(
            switch("Switch to the kitchen profile."),
            Some(ProfileIntent::Switch("kueche".into()))
        );
        assert_eq!(
            switch("Profil Küche"),
            Some(ProfileIntent::Switch("kueche".into()))
        );
        assert_eq!(
            switch("Use headphones."),
            Some(ProfileIntent::Switch("kopfhoerer".into()))
        );
        assert_eq!(
            switch("switch to night mode"),
            Some(ProfileIntent::Switch("nacht".into()))
        );
        assert_eq!(
            switch("Hey Hauski, switch to the living room."),
            Some(ProfileIntent::Switch("wohnzimmer".into()))
        );
    }

    #[test]
    fn unknown_profiles_are_named_and_questions_are_left_alone() {
        let p = profiles();
        assert_eq!(
            parse("Switch to the garage profile.", &p),
            Some(ProfileIntent::Unknown("garage".into()))
        );
        assert_eq!(parse("Use the oven timer for the cake tonight.", &p), None);
        assert_eq!(parse("Use butter.", &p), None);
        assert_eq!(parse("What is the capital of France?", &p), None);
    }
}
