//! Spoken times for reminders: "in 20 minutes", "on Thursday afternoon",
//! "tomorrow at 7", "at half past six", "tonight", in the owner's time zone.
//! What "afternoon" is and which "7" "at 7" means come from the policy.
//!
//! Hand-written because no crate on crates.io reads English time phrases
//! into jiff (chrono-english stops at chrono 0.4 and has no parts of day).

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, ZonedDateTime};

use crate::duration::parse_duration;
use crate::numbers::leading_number;
use crate::policy::SkillsPolicy;

/// The moment `words` (lower case, no punctuation) name, after `now`;
/// `None` when they are not a time phrase as a whole. May lie in the past
/// ("today at 7 am" said at noon): the caller says so.
pub fn parse_when(words: &[&str], now: &ZonedDateTime, policy: &SkillsPolicy) -> Option<ZonedDateTime> {
    let words = split_meridiems(words);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if let ["in", rest @ ..] = words.as_slice()
        && let Some(seconds) = parse_duration(rest)
    {
        let at = now
            .timestamp()
            .checked_add(SignedDuration::from_secs(seconds as i64))
            .ok()?;
        return Some(at.to_zoned_datetime(now.time_zone().clone()));
    }
    let phrase = Phrase::read(&words, policy)?;
    phrase.resolve(now, policy)
}

/// "7pm" and "7:30pm" (Whisper writes both) into the number and its meridiem.
fn split_meridiems(words: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    for word in words {
        match word.strip_suffix("pm").or_else(|| word.strip_suffix("am")) {
            Some(number) if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) => {
                out.push(number.to_string());
                out.push(word[number.len()..].to_string());
            }
            _ => out.push((*word).to_string()),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Day {
    Today,
    Tomorrow,
    AfterTomorrow,
    Weekday(Weekday),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// "7", "7 30", "half past 7", "7 pm".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    hour: u8,
    minute: u8,
    meridiem: Option<Meridiem>,
}

/// What a time phrase names, before it is placed after now.
#[derive(Debug, Default)]
struct Phrase<'a> {
    day: Option<Day>,
    clock: Option<Clock>,
    /// A part of the day the policy defines ("afternoon").
    part: Option<&'a str>,
}

impl<'a> Phrase<'a> {
    /// Reads a day, a clock time and a part of the day, in any order, each
    /// at most once; `None` if any word is left over.
    fn read(words: &[&'a str], policy: &SkillsPolicy) -> Option<Self> {
        let mut phrase = Phrase::default();
        let mut at = 0;
        while at < words.len() {
            let rest = &words[at..];
            if let Some((day, used)) = read_day(rest) {
                if phrase.day.replace(day).is_some() {
                    return None;
                }
                at += used;
            } else if let Some((day, part, used)) = read_part(rest, policy) {
                if phrase.part.replace(part).is_some() {
                    return None;
                }
                if let Some(day) = day
                    && phrase.day.replace(day).is_some()
                {
                    return None;
                }
                at += used;
            } else if let Some((clock, used)) = read_clock(rest) {
                if phrase.clock.replace(clock).is_some() {
                    return None;
                }
                at += used;
            } else {
                return None;
            }
        }
        (phrase.day.is_some() || phrase.clock.is_some() || phrase.part.is_some()).then_some(phrase)
    }

    fn resolve(&self, now: &ZonedDateTime, policy: &SkillsPolicy) -> Option<ZonedDateTime> {
        let tz = now.time_zone().clone();
        let part_time = self.part.and_then(|p| policy.part_of_day(p));
        // Which times of the day are meant, best first.
        let times: Vec<Time> = match (self.clock, part_time) {
            (Some(clock), part) => clock.candidates(part),
            (None, Some(part)) => vec![part],
            (None, None) => vec![policy.day_default],
        };
        let zoned = |date: Date, time: Time| date.to_datetime(time).to_zoned_datetime(tz.clone()).ok();
        let today = now.date();
        match self.day {
            Some(day) => {
                let date = day.date_after(today)?;
                // A named day: the first of the meant times inside waking hours.
                let time = times
                    .iter()
                    .copied()
                    .filter(|t| times.len() == 1 || policy.waking_hours.contains(*t))
                    .min()
                    .or_else(|| times.first().copied())?;
                zoned(date, time)
            }
            None => {
                // No day: the next of the meant times, preferring waking hours.
                let mut upcoming: Vec<ZonedDateTime> = [today, today.tomorrow().ok()?]
                    .into_iter()
                    .flat_map(|date| times.iter().map(move |t| (date, *t)))
                    .filter_map(|(date, time)| zoned(date, time))
                    .filter(|at| at.timestamp() > now.timestamp())
                    .collect();
                upcoming.sort_by_key(|at| at.timestamp());
                let waking = upcoming
                    .iter()
                    .find(|at| times.len() == 1 || policy.waking_hours.contains(at.time()));
                waking.or(upcoming.first()).cloned()
            }
        }
    }
}

impl Day {
    /// The date this day names, seen from `today`. A weekday is the next one
    /// after today ("on Thursday" said on a Thursday is a week ahead).
    fn date_after(self, today: Date) -> Option<Date> {
        match self {
            Day::Today => Some(today),
            Day::Tomorrow => today.tomorrow().ok(),
            Day::AfterTomorrow => today.tomorrow().ok()?.tomorrow().ok(),
            Day::Weekday(weekday) => {
                let mut date = today.tomorrow().ok()?;
                while date.weekday() != weekday {
                    date = date.tomorrow().ok()?;
                }
                Some(date)
            }
        }
    }
}

impl Clock {
    /// The times of day this clock reading may mean: one when it says am,
    /// pm or a 24-hour time, else both halves of the day (the part of the
    /// day, when one was said, picks the half).
    fn candidates(self, part: Option<Time>) -> Vec<Time> {
        let time = |hour: u8| Time::new(hour as i8, self.minute as i8, 0, 0).ok();
        let hour = self.hour % 12;
        let meridiem = self.meridiem.or_else(|| {
            let part_hour = part?.hour();
            Some(if part_hour >= 12 {
                Meridiem::Pm
            } else {
                Meridiem::Am
            })
        });
        match meridiem {
            Some(Meridiem::Am) if self.hour <= 12 => time(hour).into_iter().collect(),
            Some(Meridiem::Pm) if self.hour <= 12 => time(hour + 12).into_iter().collect(),
            _ if self.hour == 0 || self.hour > 12 => time(self.hour).into_iter().collect(),
            _ => [time(hour), time(hour + 12)].into_iter().flatten().collect(),
        }
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// "today", "tomorrow", "the day after tomorrow", "on Thursday", "next Friday".
fn read_day(words: &[&str]) -> Option<(Day, usize)> {
    match words {
        ["today", ..] => Some((Day::Today, 1)),
        ["tomorrow", ..] => Some((Day::Tomorrow, 1)),
        ["the", "day", "after", "tomorrow", ..] => Some((Day::AfterTomorrow, 4)),
        ["day", "after", "tomorrow", ..] => Some((Day::AfterTomorrow, 3)),
        [
            "on" | "this" | "next" | "coming",
            "this" | "next" | "coming",
            day,
            ..,
        ] => weekday(day).map(|w| (Day::Weekday(w), 3)),
        ["on" | "this" | "next" | "coming", day, ..] => weekday(day).map(|w| (Day::Weekday(w), 2)),
        [day, ..] => weekday(day).map(|w| (Day::Weekday(w), 1)),
        [] => None,
    }
}

/// "in the afternoon", "this evening", "tonight", "at noon", "Thursday
/// afternoon" (its "afternoon"): a part of the day the policy defines, and
/// the day when the words name one ("this evening", "tonight").
fn read_part<'a>(words: &[&'a str], policy: &SkillsPolicy) -> Option<(Option<Day>, &'a str, usize)> {
    let known = |word: &&str| policy.part_of_day(word).is_some();
    match words {
        ["tonight", ..] if policy.part_of_day("tonight").is_some() => Some((Some(Day::Today), words[0], 1)),
        ["this", part, ..] if known(part) => Some((Some(Day::Today), part, 2)),
        ["in" | "at", "the", part, ..] if known(part) => Some((None, part, 3)),
        ["at" | "in", part, ..] if known(part) => Some((None, part, 2)),
        [part, ..] if known(part) => Some((None, part, 1)),
        _ => None,
    }
}

/// "at 7", "7 30", "at half past six", "quarter to 8", "7 o'clock", "7 pm".
fn read_clock(words: &[&str]) -> Option<(Clock, usize)> {
    let (words, at) = match words {
        ["at", rest @ ..] => (rest, 1),
        _ => (words, 0),
    };
    let (hour, minute, mut used) = match words {
        ["half", "past", rest @ ..] => {
            let (hour, used) = leading_number(rest)?;
            (hour, 30, 2 + used)
        }
        ["quarter" | "a", ..] => return read_quarter(words).map(|(c, used)| (c, at + used)),
        _ => {
            let (hour, used) = leading_number(words)?;
            if matches!(words.first(), Some(&("a" | "an"))) {
                return None;
            }
            match words.get(used..).and_then(leading_number_or_oh) {
                Some((minute, more)) if minute < 60 => (hour, minute, used + more),
                _ => (hour, 0, used),
            }
        }
    };
    if hour > 23 {
        return None;
    }
    let rest = &words[used..];
    let meridiem = match rest {
        ["am", ..] | ["a", "m", ..] => Some((Meridiem::Am, if rest[0] == "am" { 1 } else { 2 })),
        ["pm", ..] | ["p", "m", ..] => Some((Meridiem::Pm, if rest[0] == "pm" { 1 } else { 2 })),
        ["o'clock" | "oclock", ..] => {
            used += 1;
            None
        }
        _ => None,
    };
    if let Some((_, more)) = meridiem {
        used += more;
    }
    // A bare number with no "at" and nothing after it is not a clock time.
    if at == 0 && used == 1 && meridiem.is_none() {
        return None;
    }
    Some((
        Clock {
            hour: hour as u8,
            minute: minute as u8,
            meridiem: meridiem.map(|(m, _)| m),
        },
        at + used,
    ))
}

/// The minutes after an hour: "30", "thirty", "oh five".
fn leading_number_or_oh(words: &[&str]) -> Option<(u32, usize)> {
    if let ["oh", rest @ ..] = words {
        return leading_number(rest)
            .filter(|(n, _)| *n < 10)
            .map(|(n, used)| (n, used + 1));
    }
    if matches!(words.first(), Some(&("a" | "an" | "one"))) {
        return None;
    }
    leading_number(words)
}

/// "quarter past 6", "a quarter to 8".
fn read_quarter(words: &[&str]) -> Option<(Clock, usize)> {
    let (words, skipped) = match words {
        ["a", rest @ ..] => (rest, 1),
        _ => (words, 0),
    };
    let (past, rest) = match words {
        ["quarter", "past", rest @ ..] => (true, rest),
        ["quarter", "to", rest @ ..] => (false, rest),
        _ => return None,
    };
    let (hour, used) = leading_number(rest)?;
    if !(1..=12).contains(&hour) {
        return None;
    }
    let (hour, minute) = match (past, hour) {
        (true, hour) => (hour, 15),
        (false, 1) => (12, 45),
        (false, hour) => (hour - 1, 45),
    };
    Some((
        Clock {
            hour: hour as u8,
            minute,
            meridiem: None,
        },
        skipped + 2 + used,
    ))
}

#[cfg(test)]
#[path = "when_tests.rs"]
mod tests;
