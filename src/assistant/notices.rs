//! Messages read aloud: a notification from a messenger adapter, a skill,
//! NATS or `POST /notify` becomes words here. Several that arrive together
//! are said as one ("Three messages from the family group on Signal. The
//! last, from Anna: …"), so a busy group chat does not talk for a minute.

use serde::{Deserialize, Serialize};

use hauski_words::{capitalised, number};

use super::bus::Urgency;

/// One message to read aloud, as the bus carries it (`hauski.notification`)
/// and NATS's `hauski.cmd.notify` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Who wrote it ("Anna"), or the program that sent it ("Home Assistant").
    pub sender: String,
    pub text: String,
    #[serde(default)]
    pub urgency: Urgency,
    /// Where it came from ("signal", "telegram", "matrix"); none for a program's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The group chat or room it was written in ("the family group"); none for a direct message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The profile (room of the home) to speak it in; none for where answers play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Longest message read aloud, in characters (a few minutes of speech).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest sender, messenger or room name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

impl Notice {
    /// Why this notice cannot be read aloud, if it cannot: an empty or
    /// over-long text, an empty or over-long name.
    pub fn problem(&self) -> Option<String> {
        if self.text.trim().is_empty() {
            return Some("the text is empty".into());
        }
        if self.text.chars().count() > MAX_TEXT_CHARS {
            return Some(format!("the text is longer than {MAX_TEXT_CHARS} characters"));
        }
        if self.sender.trim().is_empty() {
            return Some("the sender is empty".into());
        }
        let names = [Some(&self.sender), self.source.as_ref(), self.room.as_ref()];
        names
            .into_iter()
            .flatten()
            .any(|name| name.chars().count() > MAX_NAME_CHARS)
            .then(|| format!("a sender, source or room has more than {MAX_NAME_CHARS} characters"))
    }

    /// A program's message ("Message from Home Assistant: …").
    pub fn from_program(sender: &str, text: &str, urgency: Urgency) -> Self {
        Self {
            sender: sender.into(),
            text: text.into(),
            urgency,
            source: None,
            room: None,
            profile: None,
        }
    }
}

/// What is said for `notices`, which arrived together: one sentence group
/// per conversation (same source, and same room or, outside rooms, same
/// sender), in the order each conversation first spoke, the urgent first.
pub fn spoken(notices: &[Notice]) -> Vec<String> {
    // A group chat is one conversation whoever writes; outside one, each sender is.
    let mut conversations = grouped(notices, |notice| {
        let who = match &notice.room {
            Some(room) => (true, room.clone()),
            None => (false, notice.sender.clone()),
        };
        (notice.source.clone(), who)
    });
    // Stable: among equals the order of arrival stays.
    conversations.sort_by_key(|(_, c)| std::cmp::Reverse(c.iter().map(|n| n.urgency).max()));
    conversations.iter().map(|(_, c)| conversation_words(c)).collect()
}

/// `items` in groups of equal `key`: each group in the order its items
/// came, the groups in the order their first item came.
pub fn grouped<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let item_key = key(&item);
        match groups.iter_mut().find(|(k, _)| *k == item_key) {
            Some((_, group)) => group.push(item),
            None => groups.push((item_key, vec![item])),
        }
    }
    groups
}

fn conversation_words(conversation: &[&Notice]) -> String {
    let Some(last) = conversation.last() else {
        return String::new();
    };
    let on = last
        .source
        .as_deref()
        .map(|source| format!(" on {}", source_name(source)))
        .unwrap_or_default();
    let text = sentence(&last.text);
    match (conversation.len(), &last.room) {
        (1, None) => format!("Message from {}{on}: {text}", last.sender),
        (1, Some(room)) => format!("Message from {} in {room}{on}: {text}", last.sender),
        (n, Some(room)) => format!(
            "{} messages from {room}{on}. The last, from {}: {text}",
            capitalised(&number(n)),
            last.sender
        ),
        (n, None) => format!(
            "{} messages from {}{on}. The last: {text}",
            capitalised(&number(n)),
            last.sender
        ),
    }
}

/// "Signal", "Telegram", "Matrix"; others as given.
fn source_name(source: &str) -> String {
    match source {
        "signal" => "Signal".into(),
        "telegram" => "Telegram".into(),
        "matrix" => "Matrix".into(),
        other => other.to_string(),
    }
}

/// The text with a full stop when it has none, so the voice ends it as a sentence.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?', '…']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(sender: &str, text: &str, source: Option<&str>, room: Option<&str>) -> Notice {
        Notice {
            source: source.map(str::to_string),
            room: room.map(str::to_string),
            ..Notice::from_program(sender, text, Urgency::Normal)
        }
    }

    #[test]
    fn one_message_names_its_sender_and_messenger() {
        assert_eq!(
            spoken(&[notice("Anna", "I'm on the train", Some("signal"), None)]),
            ["Message from Anna on Signal: I'm on the train."]
        );
        assert_eq!(
            spoken(&[notice(
                "Home Assistant",
                "The washing machine is done.",
                None,
                None
            )]),
            ["Message from Home Assistant: The washing machine is done."]
        );
        assert_eq!(
            spoken(&[notice(
                "Ben",
                "Dinner at 7?",
                Some("telegram"),
                Some("the family group")
            )]),
            ["Message from Ben in the family group on Telegram: Dinner at 7?"]
        );
    }

    #[test]
    fn a_busy_group_is_said_once_with_its_count_and_last_message() {
        let family = Some("the family group");
        let said = spoken(&[
            notice("Ben", "Who's cooking?", Some("signal"), family),
            notice("Anna", "I'm on the train", Some("signal"), None),
            notice("Carla", "Not me", Some("signal"), family),
            notice("Ben", "Pizza then", Some("signal"), family),
        ]);
        assert_eq!(
            said,
            [
                "Three messages from the family group on Signal. The last, from Ben: Pizza then.",
                "Message from Anna on Signal: I'm on the train.",
            ]
        );
    }

    #[test]
    fn the_same_name_on_two_messengers_is_two_conversations_and_urgent_goes_first() {
        let mut urgent = notice("Door", "Someone is at the door", None, None);
        urgent.urgency = Urgency::High;
        let said = spoken(&[
            notice("Anna", "Hi", Some("signal"), None),
            notice("Anna", "Hi again", Some("telegram"), None),
            notice("Anna", "Still there?", Some("telegram"), None),
            urgent,
        ]);
        assert_eq!(
            said,
            [
                "Message from Door: Someone is at the door.",
                "Message from Anna on Signal: Hi.",
                "Two messages from Anna on Telegram. The last: Still there?",
            ]
        );
    }
}
