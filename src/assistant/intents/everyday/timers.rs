//! "Set a timer for ten minutes", "set a ten-minute pasta timer", "cancel
//! the pasta timer", "how much time is left?".

use hauski_skills::duration::leading_duration;

use super::{DETERMINERS, SkillCall, strip_any};

pub(super) fn parse(words: &[&str]) -> Option<SkillCall> {
    start(words).or_else(|| cancel(words)).or_else(|| list(words))
}

const START_VERBS: &[&[&str]] = &[
    &["set", "me"],
    &["set", "up"],
    &["set"],
    &["start"],
    &["make"],
    &["create"],
    &["put", "on"],
    &["give", "me"],
    &["add"],
    &["new"],
];

/// Words that name what the timer is for, after "timer".
const LABEL_MARKERS: &[&[&str]] = &[
    &["called"],
    &["named"],
    &["labelled"],
    &["labeled"],
    &["for", "the"],
    &["for", "my"],
    &["for"],
];

fn start(words: &[&str]) -> Option<SkillCall> {
    // "Time for 20 minutes": "timer for …" as Whisper often writes it.
    if let ["time", "for", rest @ ..] = words
        && let Some(seconds) = hauski_skills::duration::parse_duration(rest)
    {
        return Some(SkillCall::TimerStart {
            seconds,
            label: String::new(),
        });
    }
    let at = words.iter().position(|w| *w == "timer")?;
    let (verb_and_before, after) = (&words[..at], &words[at + 1..]);
    let (before, verb) = strip_any(verb_and_before, START_VERBS);
    let (before, article) = strip_any(before, &[&["a"], &["an"], &["the"], &["another"], &["one"]]);
    // "a ten minute pasta timer": the duration, then the label.
    let (mut seconds, used) = leading_duration(before).map_or((None, 0), |(s, used)| (Some(s), used));
    let mut label: Vec<&str> = before[used..].to_vec();
    // After "timer": "for 10 minutes", "10 minutes", "called pasta", "for the pasta".
    let mut rest = after;
    while !rest.is_empty() {
        let (unmarked, _) = strip_any(rest, &[&["for"], &["of"]]);
        if seconds.is_none()
            && let Some((s, used)) = leading_duration(unmarked)
        {
            seconds = Some(s);
            rest = &unmarked[used..];
            continue;
        }
        let (named, marked) = strip_any(rest, LABEL_MARKERS);
        if !marked || !label.is_empty() {
            return None;
        }
        // The label runs until a "for <duration>" or the end.
        let end = (0..named.len())
            .find(|&i| named[i] == "for" && leading_duration(&named[i + 1..]).is_some())
            .unwrap_or(named.len());
        label = named[..end].to_vec();
        if label.is_empty() {
            return None;
        }
        rest = &named[end..];
    }
    let seconds = seconds.filter(|s| *s > 0)?;
    // "Set a timer", "a ten-minute timer", "timer for 5 minutes"; not "what timer ...".
    if !(verb || article || used > 0 || verb_and_before.is_empty()) {
        return None;
    }
    Some(SkillCall::TimerStart {
        seconds,
        label: label.join(" "),
    })
}

const CANCEL_VERBS: &[&[&str]] = &[
    &["cancel"],
    &["stop"],
    &["delete"],
    &["remove"],
    &["clear"],
    &["end"],
    &["kill"],
    &["turn", "off"],
    &["switch", "off"],
    &["get", "rid", "of"],
];

fn cancel(words: &[&str]) -> Option<SkillCall> {
    let (rest, verb) = strip_any(words, CANCEL_VERBS);
    if !verb {
        return None;
    }
    let (rest, _) = strip_any(rest, DETERMINERS);
    let (name, noun) = match rest {
        [name @ .., "timer" | "timers"] => (name, true),
        _ => (rest, false),
    };
    if !noun {
        return None;
    }
    let all = words.contains(&"all") || rest.last() == Some(&"timers");
    Some(SkillCall::TimerCancel {
        label: (!all && !name.is_empty()).then(|| name.join(" ")),
    })
}

/// How questions about running timers start.
const LIST_STARTS: &[&[&str]] = &[
    &["how", "much", "time", "is", "left"],
    &["how", "much", "time", "is", "remaining"],
    &["how", "much", "time", "left"],
    &["how", "much", "longer"],
    &["how", "long", "is", "left"],
    &["how", "long", "left"],
    &["how", "long", "until"],
    &["how", "long", "till"],
    &["what", "timers"],
    &["which", "timers"],
    &["list"],
    &["show", "me"],
    &["show"],
    &["do", "i", "have", "any"],
    &["are", "there", "any"],
    &["any"],
    &["check"],
    &["how", "is"],
    &["what", "is", "left", "on"],
];

fn list(words: &[&str]) -> Option<SkillCall> {
    let (rest, asked) = strip_any(words, LIST_STARTS);
    if !asked {
        return None;
    }
    // What may follow: the timer named, and the words that ask after it.
    let fine = |w: &&str| {
        matches!(
            *w,
            "on" | "the"
                | "my"
                | "timer"
                | "timers"
                | "running"
                | "set"
                | "active"
                | "is"
                | "are"
                | "left"
                | "remaining"
                | "until"
                | "till"
                | "goes"
                | "off"
                | "done"
                | "for"
                | "it"
                | "there"
                | "of"
        )
    };
    let unknown = rest.iter().filter(|w| !fine(w)).count();
    let mentions_timer = words.iter().any(|w| *w == "timer" || *w == "timers");
    let bare_time_left = rest.is_empty() && words.first() == Some(&"how");
    ((mentions_timer && unknown <= 2) || bare_time_left).then_some(SkillCall::TimerList)
}
