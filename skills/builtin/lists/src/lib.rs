//! The lists skill: lists people keep by voice ("put oat milk on the shopping
//! list"), each stored under `list/<name>` in the skill's own kv store as a
//! JSON array, oldest item first. Its replies are what HausKI says.

use hauski_skill_abi::{Answer, export_skill, kv, log_info};
use hauski_words::{and_list, capitalised, count};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    let list = args["list"]
        .as_str()
        .filter(|l| !l.is_empty())
        .unwrap_or("shopping");
    let mut items = load(list)?;
    let mut changed = true;
    let reply = match action {
        "list.add" => {
            let wanted: Vec<String> = match &args["items"] {
                Value::Array(given) => given
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => args["item"].as_str().map(str::to_string).into_iter().collect(),
            };
            let (already, added): (Vec<String>, Vec<String>) =
                wanted.into_iter().partition(|item| items.contains(item));
            items.extend(added.iter().cloned());
            changed = !added.is_empty();
            save(list, &items)?;
            added_reply(list, &added, &already)
        }
        "list.read" => {
            changed = false;
            if items.is_empty() {
                format!("The {list} list is empty.")
            } else {
                format!("On the {list} list: {}.", and_list(&items))
            }
        }
        "list.remove" => {
            let item = args["item"].as_str().unwrap_or_default();
            let before = items.len();
            items.retain(|i| i != item);
            if items.len() == before {
                changed = false;
                format!("{} is not on the {list} list.", capitalised(item))
            } else {
                save(list, &items)?;
                format!("Okay, I took {item} off the {list} list.")
            }
        }
        "list.clear" => {
            let before = items.len();
            items.clear();
            kv::delete(&key(list));
            format!(
                "Okay, I cleared the {list} list; it had {}.",
                count(before, "item")
            )
        }
        other => return Err(format!("the lists skill has no action {other}")),
    };
    log_info(&format!("{action} on {list}: {} items", items.len()));
    Ok((reply, json!({"list": list, "items": items, "changed": changed})))
}

fn key(list: &str) -> String {
    format!("list/{list}")
}

fn load(list: &str) -> Result<Vec<String>, String> {
    match kv::get(&key(list)) {
        None => Ok(Vec::new()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("the {list} list is damaged: {e}")),
    }
}

fn save(list: &str, items: &[String]) -> Result<(), String> {
    let bytes = serde_json::to_vec(items).map_err(|e| e.to_string())?;
    if kv::set(&key(list), &bytes) {
        Ok(())
    } else {
        Err(format!("the {list} list could not be stored (too long?)"))
    }
}

fn added_reply(list: &str, added: &[String], already: &[String]) -> String {
    let mut reply = Vec::new();
    if !added.is_empty() {
        reply.push(format!("Okay, I added {} to the {list} list.", and_list(added)));
    }
    if !already.is_empty() {
        let verb = if already.len() == 1 { "is" } else { "are" };
        reply.push(format!(
            "{} {verb} on the {list} list already.",
            capitalised(&and_list(already))
        ));
    }
    reply.join(" ")
}
