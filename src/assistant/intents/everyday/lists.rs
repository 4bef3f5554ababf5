//! "Put oat milk on the shopping list", "what's on the shopping list?",
//! "take eggs off the list", "we're out of coffee".

use super::{SkillCall, strip_any};

/// The list meant when none is named ("put eggs on the list").
pub const DEFAULT_LIST: &str = "shopping";

pub(super) fn parse(words: &[&str]) -> Option<SkillCall> {
    // "to-do list" arrives as "to do list", whose "to" is not the "to" of "add … to".
    let mut merged: Vec<&str> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        if *word == "do" && i > 0 && words[i - 1] == "to" && words.get(i + 1) == Some(&"list") {
            merged.pop();
            merged.push("todo");
        } else {
            merged.push(word);
        }
    }
    let words = merged.as_slice();
    add(words)
        .or_else(|| read(words))
        .or_else(|| remove(words))
        .or_else(|| clear(words))
}

/// The list's name as stored: "grocery" and "groceries" are the shopping list.
pub fn list_name(words: &[&str]) -> String {
    let (words, _) = strip_any(words, &[&["the"], &["my"], &["our"], &["a"]]);
    match words.join(" ").as_str() {
        "" | "grocery" | "groceries" | "shopping" => DEFAULT_LIST.to_string(),
        "to do" | "todo" | "to dos" | "todos" => "to-do".to_string(),
        name => name.to_string(),
    }
}

/// "the shopping list" at the end of `words`: the words before it and the list's name.
fn ends_with_list<'a, 'w>(words: &'a [&'w str], joiners: &[&str]) -> Option<(&'a [&'w str], String)> {
    let list_at = words.iter().rposition(|w| *w == "list")?;
    if list_at + 1 != words.len() {
        return None;
    }
    let join_at = words[..list_at].iter().rposition(|w| joiners.contains(w))?;
    Some((&words[..join_at], list_name(&words[join_at + 1..list_at])))
}

/// "oat milk and eggs" → ["oat milk", "eggs"]; a leading "some" dropped.
fn items(words: &[&str]) -> Vec<String> {
    words
        .split(|w| *w == "and")
        .map(|item| {
            let (item, _) = strip_any(item, &[&["some"], &["a"], &["an"], &["the"], &["more"]]);
            item.join(" ")
        })
        .filter(|item| !item.is_empty())
        .collect()
}

fn add(words: &[&str]) -> Option<SkillCall> {
    if let (rest, true) = strip_any(
        words,
        &[
            &["we", "are", "out", "of"],
            // As Whisper often writes "we're out of".
            &["we", "are", "out", "on"],
            &["we", "are", "out", "in"],
            &["we", "need", "more"],
            &["we", "need"],
            &["we", "ran", "out", "of"],
        ],
    ) {
        let items = items(rest);
        return (!items.is_empty()).then(|| SkillCall::ListAdd {
            list: DEFAULT_LIST.into(),
            items,
        });
    }
    let (rest, verb) = strip_any(words, &[&["put"], &["add"], &["write"], &["stick"], &["pop"]]);
    if !verb {
        return None;
    }
    let (what, list) = ends_with_list(rest, &["on", "to", "onto"])?;
    let items = items(what);
    (!items.is_empty()).then_some(SkillCall::ListAdd { list, items })
}

const READ_STARTS: &[&[&str]] = &[
    &["what", "is", "on"],
    &["what", "do", "we", "have", "on"],
    &["what", "do", "i", "have", "on"],
    &["what", "is", "in"],
    &["read", "me"],
    &["read", "out"],
    &["read"],
    &["tell", "me"],
    &["show", "me"],
    &["show"],
    &["list"],
];

fn read(words: &[&str]) -> Option<SkillCall> {
    if words == ["what", "do", "we", "need"] || words == ["what", "do", "i", "need", "to", "buy"] {
        return Some(SkillCall::ListRead {
            list: DEFAULT_LIST.into(),
        });
    }
    let (rest, asked) = strip_any(words, READ_STARTS);
    let [name @ .., "list"] = rest else {
        return None;
    };
    (asked && name.len() <= 3).then(|| SkillCall::ListRead {
        list: list_name(name),
    })
}

fn remove(words: &[&str]) -> Option<SkillCall> {
    let (rest, verb) = strip_any(
        words,
        &[
            &["remove"],
            &["delete"],
            &["take"],
            &["cross"],
            &["strike"],
            &["scratch"],
        ],
    );
    if !verb {
        return None;
    }
    let (what, list) = ends_with_list(rest, &["off", "from", "of"])?;
    let (what, _) = strip_any(what, &[&["the"], &["some"]]);
    let what = what.strip_suffix(&["off"]).unwrap_or(what);
    (!what.is_empty()).then(|| SkillCall::ListRemove {
        list,
        item: what.join(" "),
    })
}

fn clear(words: &[&str]) -> Option<SkillCall> {
    let (rest, verb) = strip_any(words, &[&["clear"], &["empty"], &["wipe"], &["clear", "out"]]);
    let [name @ .., "list"] = rest else {
        return None;
    };
    (verb && name.len() <= 3).then(|| SkillCall::ListClear {
        list: list_name(name),
    })
}
