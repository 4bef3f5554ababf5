//! Spoken profile switches, recognised before the LLM: "switch to the kitchen
//! profile", "Profil Küche", "use headphones". Names and synonyms come from
//! profiles.yaml; a request for a profile nobody knows is recognised too, so
//! it gets a clear "I don't know a profile called X".
//!
//! Whisper mishears a name now and then ("leaving room", "light profile"):
//! a name that is near one profile, and clearly nearer to it than to any
//! other, switches to it; near two, HausKI asks which one was meant.

use crate::config::ProfilesFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileIntent {
    /// The profile's name in profiles.yaml.
    Switch(String),
    /// A switch was asked for, to something not in profiles.yaml.
    Unknown(String),
    /// What was said is near two profiles (names in profiles.yaml): ask which.
    Ambiguous(String, String),
}

/// How alike a heard name must be to a profile's name or synonym
/// (normalised Damerau-Levenshtein, 0–1) to count as that profile: "light"
/// for "night" is 0.8, "leaving room" for "living room" 0.83, while
/// "garage" is at most 0.33 from any shipped name.
const NEAR_MISS: f64 = 0.7;

/// A runner-up this close to the best is a second candidate: ask back.
const TOO_CLOSE: f64 = 0.1;

/// How alike `heard` is to the profile's name or nearest synonym.
fn likeness(heard: &str, name: &str, profile: &crate::config::Profile) -> f64 {
    std::iter::once(name)
        .chain(profile.synonyms.iter().map(String::as_str))
        .map(|n| strsim::normalized_damerau_levenshtein(heard, &normalise(n)))
        .fold(0.0, f64::max)
}

/// The profile a misheard name stands for, or two when it could be either.
fn nearest(heard: &str, profiles: &ProfilesFile) -> Option<ProfileIntent> {
    let mut scored: Vec<(f64, &String)> = profiles
        .profiles
        .iter()
        .map(|(name, profile)| (likeness(heard, name, profile), name))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (best_score, best) = *scored.first()?;
    if best_score < NEAR_MISS {
        return None;
    }
    match scored.get(1) {
        Some(&(score, second)) if best_score - score < TOO_CLOSE => {
            Some(ProfileIntent::Ambiguous(best.clone(), second.clone()))
        }
        _ => Some(ProfileIntent::Switch(best.clone())),
    }
}

/// A reply to "which one?": the candidate `answer` names, as near as it is.
pub fn choose(answer: &str, candidates: &[String], profiles: &ProfilesFile) -> Option<String> {
    let said = normalise(answer);
    let words: Vec<&str> = said.split_whitespace().filter(|w| !FILLER.contains(w)).collect();
    // "The night one", "night", "living room": the whole answer or any word of it.
    let heard: Vec<String> = std::iter::once(words.join(" "))
        .chain(words.iter().map(|w| (*w).to_string()))
        .collect();
    candidates
        .iter()
        .filter_map(|name| {
            let profile = profiles.profiles.get(name)?;
            let score = heard
                .iter()
                .map(|h| likeness(h, name, profile))
                .fold(0.0, f64::max);
            Some((score, name))
        })
        .filter(|(score, _)| *score >= NEAR_MISS)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.clone())
}

/// Lower case, umlauts kept, punctuation gone (apostrophes too: "it's" is
/// "it s", so an opening Whisper mangled stays apart from the name), single spaces.
fn normalise(text: &str) -> String {
    super::spoken_words(&text.replace(['\'', '\u{2019}'], " "))
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

/// A name said whole inside a few more words: "use the headphones for this
/// profile", as Whisper heard "use the headphones profile".
fn find_within(words: &[&str], profiles: &ProfilesFile) -> Option<String> {
    [2, 1]
        .into_iter()
        .find_map(|span| words.windows(span).find_map(|w| find(&w.join(" "), profiles)))
}

pub fn parse(text: &str, profiles: &ProfilesFile) -> Option<ProfileIntent> {
    let said = normalise(text);
    let said = said.strip_prefix("hey hauski ").unwrap_or(&said);
    // A short request that ends in "<name> profile" is a switch, however its
    // first words came through ("which to the kitchen profile", "it's
    // switched to the garage profile").
    let words: Vec<&str> = said.split_whitespace().collect();
    if words.len() <= 8 && matches!(words.last(), Some(&"profile" | &"profil")) {
        let before = &words[..words.len() - 1];
        for take in [2, 1] {
            if before.len() >= take
                && let Some(name) = find(&before[before.len() - take..].join(" "), profiles)
            {
                return Some(ProfileIntent::Switch(name));
            }
        }
        let named: Vec<&str> = before.iter().copied().filter(|w| !FILLER.contains(w)).collect();
        // Up to three heard words for a two-word name ("live in room").
        for take in [3, 2, 1] {
            if named.len() >= take
                && let Some(near) = nearest(&named[named.len() - take..].join(" "), profiles)
            {
                return Some(near);
            }
        }
        // "… to the garage profile": a switch to a profile nobody knows.
        if let Some(to) = before.iter().rposition(|w| *w == "to") {
            let wanted: Vec<&str> = before[to + 1..]
                .iter()
                .copied()
                .filter(|w| !FILLER.contains(w))
                .collect();
            if (1..=3).contains(&wanted.len()) {
                return Some(ProfileIntent::Unknown(wanted.join(" ")));
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
    if !asked_for_profile {
        return None;
    }
    if let Some(name) = find_within(&words, profiles) {
        return Some(ProfileIntent::Switch(name));
    }
    Some(nearest(&wanted, profiles).unwrap_or(ProfileIntent::Unknown(wanted)))
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
        assert_eq!(
            parse("It's switched to the garage profile.", &p),
            Some(ProfileIntent::Unknown("garage".into()))
        );
        assert_eq!(
            parse("It's switched to the kitchen profile.", &p),
            Some(ProfileIntent::Switch("kueche".into()))
        );
        assert_eq!(parse("Use the oven timer for the cake tonight.", &p), None);
        assert_eq!(parse("Use butter.", &p), None);
        assert_eq!(parse("Use the light.", &p), None, "not asked for as a profile");
        assert_eq!(
            parse("Use the kitchen timer.", &p),
            None,
            "a name inside a question"
        );
        assert_eq!(parse("What is the capital of France?", &p), None);
    }

    #[test]
    fn near_misses_switch_and_a_tie_asks_back() {
        let p = profiles();
        for (heard, profile) in [
            ("Switch to the leaving room profile.", "wohnzimmer"),
            ("Which to live in room profile.", "wohnzimmer"),
            ("Switch to the Light profile.", "nacht"),
            ("switch to the kichen profile", "kueche"),
            ("Use the head phones profile.", "kopfhoerer"),
            ("Use the headphones for this profile.", "kopfhoerer"),
        ] {
            assert_eq!(
                parse(heard, &p),
                Some(ProfileIntent::Switch(profile.into())),
                "{heard}"
            );
        }
        // Far from every name: still unknown, named as heard.
        assert_eq!(
            parse("Switch to the location profile.", &p),
            Some(ProfileIntent::Unknown("location".into()))
        );
        let mut tied = p.clone();
        let night = tied.profiles["nacht"].clone();
        tied.profiles.insert(
            "licht".into(),
            crate::config::Profile {
                synonyms: vec!["light".into()],
                ..night
            },
        );
        assert!(matches!(
            parse("Switch to the fight profile.", &tied),
            Some(ProfileIntent::Ambiguous(..))
        ));
        let candidates = ["nacht".to_string(), "licht".to_string()];
        assert_eq!(choose("The night one.", &candidates, &tied), Some("nacht".into()));
        assert_eq!(choose("light", &candidates, &tied), Some("licht".into()));
        assert_eq!(choose("what's the weather", &candidates, &tied), None);
    }
}
