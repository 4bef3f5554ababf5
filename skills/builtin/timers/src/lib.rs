//! The timers skill: "set a pasta timer for 10 minutes", "how much time is
//! left", "cancel the pasta timer", and the words a timer rings with. The
//! host keeps, schedules and rings the timers (`alarms` capability); this
//! skill decides which timer a request means and what HausKI says.

use hauski_skill_abi::{Answer, alarms, export_skill};
use hauski_words::{and_list, capitalised, duration, timer_name};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    match action {
        "timer.start" => start(args),
        "timer.cancel" => cancel(args["label"].as_str().filter(|l| !l.is_empty())),
        "timer.list" => list(),
        "timer.ring" => Ok((ring(args), Value::Null)),
        other => Err(format!("the timers skill has no action {other}")),
    }
}

fn label(args: &Value) -> &str {
    args["label"].as_str().unwrap_or_default()
}

fn start(args: &Value) -> Answer {
    let seconds = args["seconds"]
        .as_u64()
        .filter(|s| *s > 0)
        .ok_or("timer.start needs seconds, a whole number above 0")?;
    let label = label(args);
    let added = alarms::add(&json!({"kind": "timer", "label": label, "seconds": seconds}))?;
    if added["refused"] == "too_long" {
        let longest = added["max_s"].as_u64().unwrap_or_default();
        return Ok((
            format!(
                "That is longer than I keep a timer: at most {}.",
                duration(longest)
            ),
            added,
        ));
    }
    Ok((
        format!("Okay, a {}, starting now.", timer_name(label, Some(seconds))),
        added,
    ))
}

fn name_of(timer: &Value) -> String {
    timer_name(label(timer), timer["seconds"].as_u64())
}

fn cancel(label: Option<&str>) -> Answer {
    let timers = alarms::pending("timer")?;
    let chosen: Vec<&Value> = timers
        .iter()
        .filter(|t| label.is_none_or(|l| t["label"] == l))
        .collect();
    let ids: Vec<i64> = chosen.iter().filter_map(|t| t["id"].as_i64()).collect();
    let reply = match chosen.as_slice() {
        [] if timers.is_empty() => "No timer is running.".into(),
        [] => format!("I have no {} timer.", label.unwrap_or_default()),
        [one] => {
            alarms::cancel(&ids)?;
            format!("Okay, I cancelled the {}.", name_of(one))
        }
        many => {
            alarms::cancel(&ids)?;
            format!("Okay, I cancelled {} timers.", many.len())
        }
    };
    Ok((reply, json!({"cancelled": ids})))
}

fn list() -> Answer {
    let timers = alarms::pending("timer")?;
    if timers.is_empty() {
        return Ok(("No timer is running.".into(), json!({"timers": []})));
    }
    let left: Vec<String> = timers
        .iter()
        .map(|t| {
            let seconds = t["left_s"].as_u64().unwrap_or_default();
            // Whole minutes from two minutes up: "9 minutes", not "8 minutes and 47 seconds".
            let seconds = if seconds >= 120 {
                seconds.div_ceil(60) * 60
            } else {
                seconds
            };
            format!("the {} has {} left", name_of(t), duration(seconds))
        })
        .collect();
    Ok((
        capitalised(&format!("{}.", and_list(&left))),
        json!({"timers": timers}),
    ))
}

/// What a timer says when it rings; `late` when it ran out while HausKI was down.
fn ring(args: &Value) -> String {
    if args["late"] == true {
        format!("Your {} finished while I was away.", name_of(args))
    } else {
        format!("Your {} is done.", name_of(args))
    }
}
