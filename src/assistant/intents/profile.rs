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
    "the", "my", "our", "profile", "profil", "please", "bitte", "mode", "modus", "now", "jetzt",
];

/// The profile whose name or synonym `words` are.
fn find(words: &str, profiles: &ProfilesFile) -> Option<String> {
    profiles.profiles.iter().find_map(|(name, profile)| {
        let mut names = std::iter::once(name.as_str()).chain(profile.synonyms.iter().map(String::as_str));
        names.any(|n| normalise(n) == words).then(|| name.clone())
    })
}

pub fn parse(text: &str, profiles: &ProfilesFile) -> Option<ProfileIntent> {
    let said = normalise(text);
    let said = said.strip_prefix("hey hauski ").unwrap_or(&said);
    // A short request that ends in "<name> profile" is a switch, however its
    // first word came through ("which to the kitchen profile").
    let words: Vec<&str> = said.split_whitespace().collect();
    if words.len() <= 6 && matches!(words.last(), Some(&"profile" | &"profil")) {
        let before = &words[..words.len() - 1];
        for take in [2, 1] {
            if before.len() >= take
                && let Some(name) = find(&before[before.len() - take..].join(" "), profiles)
            {
                return Some(ProfileIntent::Switch(name));
            }
        }
    }
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
    if let Some(name) = find(&wanted, profiles) {
        return Some(ProfileIntent::Switch(name));
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
        serde_yaml::from_str(include_str!("../../../profiles.yaml")).expect("profiles.yaml")
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
            switch("Switch to my kitchen profile"),
            Some(ProfileIntent::Switch("kueche".into()))
        );
        assert_eq!(
            switch("which to the kitchen profile."),
            Some(ProfileIntent::Switch("kueche".into()))
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
