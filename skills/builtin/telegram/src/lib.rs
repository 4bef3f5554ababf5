//! The Telegram adapter: a bot's new messages through the Bot API's
//! `getUpdates` long-poll. The offset (the next `update_id` wanted) lives
//! in the kv store, so after a restart Telegram sends only what was not
//! yet confirmed: nothing is read aloud twice and nothing is missed.
//!
//! Settings: `api` (default `https://api.telegram.org`). Secret: `token`,
//! the bot's token from BotFather.

use hauski_skill_abi::{Answer, export_skill, http, kv, notify, secret};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    match action {
        "telegram.poll" => poll(args),
        other => Err(format!("the Telegram adapter has no action {other}")),
    }
}

fn poll(args: &Value) -> Answer {
    let token = secret("token").ok_or(
        "no bot token: run `hauski secrets set telegram token` and paste the token BotFather gave the bot",
    )?;
    let api = args["settings"]["api"]
        .as_str()
        .unwrap_or("https://api.telegram.org")
        .trim_end_matches('/');
    let wait_s = args["wait_s"].as_u64().unwrap_or(25);
    let offset: Option<i64> = kv::get("offset").and_then(|b| String::from_utf8(b).ok()?.parse().ok());
    let mut url = format!("{api}/bot{token}/getUpdates?timeout={wait_s}&allowed_updates=%5B%22message%22%5D");
    if let Some(offset) = offset {
        url.push_str(&format!("&offset={offset}"));
    }
    let reply = http::get_json(&url, &[], wait_s + 10)?;
    if reply["ok"] != true {
        return Err(format!(
            "Telegram refused getUpdates: {}",
            reply["description"].as_str().unwrap_or("no reason given")
        ));
    }
    let updates = reply["result"]
        .as_array()
        .ok_or("Telegram's getUpdates answer has no result list")?;
    let mut next = offset;
    let mut read = 0;
    for update in updates {
        let id = update["update_id"]
            .as_i64()
            .ok_or("a Telegram update has no update_id")?;
        next = Some(next.map_or(id + 1, |n| n.max(id + 1)));
        let message = &update["message"];
        let Some(text) = message["text"].as_str() else {
            continue;
        };
        notify(&sender(&message["from"]), chat_title(&message["chat"]), text);
        read += 1;
    }
    if next != offset
        && let Some(next) = next
        && !kv::set("offset", next.to_string().as_bytes())
    {
        return Err("the offset could not be stored".into());
    }
    Ok((String::new(), json!({"messages": read, "offset": next})))
}

/// "Anna Berg", else the username, else "someone".
fn sender(from: &Value) -> String {
    let names: Vec<&str> = ["first_name", "last_name"]
        .iter()
        .filter_map(|k| from[k].as_str())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        from["username"].as_str().unwrap_or("someone").to_string()
    } else {
        names.join(" ")
    }
}

/// A group's title; none for a private chat.
fn chat_title(chat: &Value) -> Option<&str> {
    (chat["type"].as_str() != Some("private"))
        .then(|| chat["title"].as_str())
        .flatten()
}
