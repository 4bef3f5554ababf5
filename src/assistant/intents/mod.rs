//! Intents: a turn that asks HausKI to do something rather than to answer
//! ("switch to the kitchen profile", "remember that …", "never mind").
//! Recognised before the LLM, which would otherwise answer the words
//! themselves, and only where the door allows them (`Allow`): a spoken
//! "switch to the kitchen" switches the room's profile, the same words in an
//! OpenAI chat are a question like any other.

mod acknowledgement;
mod clock;
mod dismissal;
pub mod everyday;
mod profile;

use hauski_brain::memory::{Layer, MemoryIntent, MemoryStore, parse_intent};

use super::{Allow, Assistant};
use crate::config::ProfilesFile;
pub use clock::ClockQuestion;
pub use profile::ProfileIntent;

/// A transcript as the phrase lists compare it: lower case, typographic
/// apostrophes straightened and kept ("that's"), other punctuation gone,
/// single spaces.
pub(crate) fn spoken_words(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            '\u{2019}' => '\'',
            c if c.is_alphanumeric() || c == '\'' => c,
            _ => ' ',
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words the live loop's Whisper is told to expect (its initial prompt):
/// the profiles' spoken names, and the words of the everyday skills that
/// tiny Whisper mishears without the hint ("console the timer", "but oat
/// milk on the list"). Bare words: a command-shaped prompt made Whisper
/// echo it after the speech (ARCHITECTURE.md, "Spoken commands that
/// survive near-misses").
pub fn expected_words(profiles: &ProfilesFile) -> Vec<String> {
    let mut words = profiles.spoken_names();
    words.extend(SKILL_WORDS.iter().map(|w| w.to_string()));
    words
}

const SKILL_WORDS: &[&str] = &["timer", "reminder", "shopping list", "cancel"];

/// How long a "which one?" waits for its answer.
const CHOICE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Profiles HausKI asked the owner to choose between, and when: the next
/// turn may be the answer ("the kitchen").
#[derive(Debug, Default)]
pub struct PendingChoice(std::sync::Mutex<Option<(Vec<String>, std::time::Instant)>>);

impl PendingChoice {
    fn ask(&self, candidates: Vec<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((candidates, std::time::Instant::now()));
    }

    /// The candidates still waiting for an answer; asked once, then forgotten.
    fn take(&self) -> Option<Vec<String>> {
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        (taken.1.elapsed() < CHOICE_WAIT).then_some(taken.0)
    }
}

/// The acknowledgement of "never mind", "stop" and the like.
pub const DISMISSED: &str = "Okay.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "Never mind", "stop": acknowledge briefly, do nothing.
    Dismiss,
    Profile(ProfileIntent),
    Memory(MemoryIntent),
    /// "What time is it?": answered from the clock, never by the LLM.
    Clock(ClockQuestion),
    /// A timer, reminder or list action on the fast path.
    Skill(everyday::SkillCall),
    /// "Stop", "okay" while an alarm rings.
    Acknowledge,
}

/// What an intent did: the reply to speak or show, and for the log and
/// `--json`, what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub reply: String,
    pub change: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    #[error("memory is off in this daemon (its log says why at start)")]
    NoMemory,
    #[error(transparent)]
    Memory(#[from] hauski_brain::memory::MemoryError),
    #[error(transparent)]
    Profile(#[from] crate::profile_state::ProfileError),
    #[error("timers, reminders and lists are off in this daemon (its log says why at start)")]
    NoSkills,
    #[error(transparent)]
    Skills(#[from] hauski_skills::store::StoreError),
    #[error(transparent)]
    Everyday(#[from] super::everyday::EverydayError),
}

/// The intent in `text` (a whole transcript or question), if `allow` lets
/// the door act on one. Profiles are needed for profile switches only.
pub fn recognise(text: &str, allow: Allow, profiles: Option<&ProfilesFile>) -> Option<Intent> {
    if allow.intents {
        if dismissal::is_dismissal(text) {
            return Some(Intent::Dismiss);
        }
        if let Some(question) = clock::parse(text) {
            return Some(Intent::Clock(question));
        }
        if let Some(profile) = profiles.and_then(|p| profile::parse(text, p)) {
            return Some(Intent::Profile(profile));
        }
    }
    if allow.memory_writes {
        return parse_intent(text).map(Intent::Memory);
    }
    None
}

impl Assistant {
    /// The intent in `text`, as far as `allow` and this daemon (memory on
    /// or off) let a door act on it.
    pub fn recognise(&self, text: &str, allow: Allow) -> Option<Intent> {
        let allow = Allow {
            memory_writes: allow.memory_writes && self.memory.is_some(),
            ..allow
        };
        let profiles = self.profile.profiles();
        if allow.intents
            && let Some(everyday) = &self.everyday
        {
            if everyday.is_ringing() && acknowledgement::is_acknowledgement(text) {
                return Some(Intent::Acknowledge);
            }
            if let Some(call) = everyday.recognise(text) {
                return Some(Intent::Skill(call));
            }
        }
        if allow.intents
            && let Some(candidates) = self.pending_choice.take()
            && let Some(name) = profile::choose(text, &candidates, profiles)
        {
            return Some(Intent::Profile(ProfileIntent::Switch(name)));
        }
        recognise(text, allow, Some(profiles))
    }

    /// Carries out an intent; a profile switch is published on the bus.
    pub fn act(&self, intent: Intent) -> Result<Done, IntentError> {
        let _span = tracing::info_span!("intent").entered();
        match intent {
            Intent::Dismiss => Ok(Done {
                reply: DISMISSED.into(),
                change: None,
            }),
            Intent::Clock(question) => {
                let now = match &self.everyday {
                    Some(everyday) => everyday.now(),
                    None => jiff::ZonedDateTime::now(),
                };
                Ok(Done {
                    reply: clock::answer(question, &now),
                    change: None,
                })
            }
            Intent::Skill(call) => {
                let everyday = self.everyday.as_ref().ok_or(IntentError::NoSkills)?;
                let action = call.action();
                let reply = everyday.act(call, &self.profile.name())?;
                Ok(Done {
                    reply,
                    change: Some(action.to_string()),
                })
            }
            Intent::Acknowledge => {
                let everyday = self.everyday.as_ref().ok_or(IntentError::NoSkills)?;
                let count = everyday.acknowledge()?;
                tracing::info!(count, "alarms stopped");
                self.bus.publish(super::bus::Event::AlarmStopped { count });
                Ok(Done {
                    reply: DISMISSED.into(),
                    change: Some(format!(
                        "stopped {count} alarm{}",
                        if count == 1 { "" } else { "s" }
                    )),
                })
            }
            Intent::Profile(ProfileIntent::Switch(name)) => {
                let name = self.set_profile(&name)?;
                // "kueche" read aloud by an English voice is "cute": say its first synonym.
                let profiles = self.profile.profiles();
                let spoken = profiles.spoken_name(&name);
                Ok(Done {
                    reply: format!("Switched to the {spoken} profile."),
                    change: Some(format!("profile {name}")),
                })
            }
            Intent::Profile(ProfileIntent::Ambiguous(first, second)) => {
                let profiles = self.profile.profiles();
                let reply = format!(
                    "The {} or the {} profile?",
                    profiles.spoken_name(&first),
                    profiles.spoken_name(&second)
                );
                self.pending_choice.ask(vec![first, second]);
                Ok(Done { reply, change: None })
            }
            Intent::Profile(ProfileIntent::Unknown(name)) => {
                let known = self.profile.profiles().known_names();
                tracing::warn!(profile = %name, %known, "unknown profile asked for");
                Ok(Done {
                    reply: format!("I don't know a profile called {name}; I know {known}."),
                    change: None,
                })
            }
            Intent::Memory(intent) => {
                let memory = self.memory.as_ref().ok_or(IntentError::NoMemory)?;
                let memory = memory.lock().unwrap_or_else(|p| p.into_inner());
                Ok(act_on_memory(&memory, intent)?)
            }
        }
    }
}

/// Carries out "remember that …" / "forget …" (also for `converse`, which
/// has a memory store but no daemon).
pub fn act_on_memory(
    memory: &MemoryStore,
    intent: MemoryIntent,
) -> Result<Done, hauski_brain::memory::MemoryError> {
    let _span = tracing::info_span!("memory_intent").entered();
    Ok(match intent {
        MemoryIntent::Remember(text) => {
            let id = memory.remember(Layer::Working, &text)?;
            tracing::info!(id, "remembered");
            Done {
                reply: format!("Okay, I will remember that {text}."),
                change: Some(format!("remembered {id}")),
            }
        }
        MemoryIntent::Forget(about) => {
            let forgotten = memory.forget_about(&about)?;
            tracing::info!(count = forgotten.len(), "forgotten");
            if forgotten.is_empty() {
                Done {
                    reply: format!("I had nothing about {about} to forget."),
                    change: Some("forgot nothing".into()),
                }
            } else {
                let ids: Vec<String> = forgotten.iter().map(|e| e.id.to_string()).collect();
                Done {
                    reply: format!("Okay, I have forgotten about {about}."),
                    change: Some(format!("forgot {}", ids.join(", "))),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> ProfilesFile {
        let empty = tempfile::tempdir().expect("tempdir");
        crate::config::Config::load(Some(empty.path()))
            .expect("embedded defaults")
            .profiles
    }

    #[test]
    fn a_door_gets_only_the_intents_it_allows() {
        let profiles = profiles();
        let voice = Allow::ALL;
        let chat = Allow {
            memories: true,
            notes: true,
            ..Allow::NONE
        };
        let switch = "switch to the kitchen profile";
        assert_eq!(
            recognise(switch, voice, Some(&profiles)),
            Some(Intent::Profile(ProfileIntent::Switch("kueche".into())))
        );
        assert_eq!(recognise(switch, chat, Some(&profiles)), None);
        assert_eq!(
            recognise("never mind", voice, Some(&profiles)),
            Some(Intent::Dismiss)
        );
        assert_eq!(recognise("never mind", chat, Some(&profiles)), None);

        let remember = "remember that the plumber comes on Tuesday";
        assert!(matches!(
            recognise(remember, voice, Some(&profiles)),
            Some(Intent::Memory(MemoryIntent::Remember(_)))
        ));
        assert_eq!(recognise(remember, chat, Some(&profiles)), None);
        // `converse`: memory commands, no profile switches.
        let converse = Allow {
            memory_writes: true,
            ..Allow::NONE
        };
        assert!(recognise(remember, converse, None).is_some());
        assert_eq!(recognise(switch, converse, None), None);
        assert_eq!(
            recognise("what is the capital of France", voice, Some(&profiles)),
            None
        );
        assert_eq!(
            recognise("What time is it?", voice, Some(&profiles)),
            Some(Intent::Clock(ClockQuestion::Time))
        );
        assert_eq!(recognise("What time is it?", chat, Some(&profiles)), None);
    }
}
