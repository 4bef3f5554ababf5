//! The Matrix adapter: new text messages in the rooms the account has
//! joined, through the client-server API's `/sync` long-poll. The `since`
//! token lives in the kv store, so a restart resumes where it stopped. The
//! first sync only takes the token: a new adapter does not read out the
//! rooms' history.
//!
//! Settings: `homeserver` (`https://matrix.example.org`), `user_id` (the
//! account's own messages are not read). Secret: `access_token`.

use std::collections::HashMap;

use hauski_skill_abi::{Answer, export_skill, http, kv, notify, secret, url_encode};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    match action {
        "matrix.poll" => poll(args),
        other => Err(format!("the Matrix adapter has no action {other}")),
    }
}

fn poll(args: &Value) -> Answer {
    let settings = &args["settings"];
    let homeserver = settings["homeserver"]
        .as_str()
        .ok_or("no homeserver: run `hauski adapters enable matrix --set homeserver=https://…`")?
        .trim_end_matches('/');
    let token = secret("access_token").ok_or(
        "no access token: run `hauski secrets set matrix access_token` and paste the account's token",
    )?;
    let own = settings["user_id"].as_str().unwrap_or_default();
    let since = kv::get("since").and_then(|b| String::from_utf8(b).ok());
    let wait_ms = match since {
        Some(_) => args["wait_s"].as_u64().unwrap_or(25) * 1000,
        None => 0,
    };
    let mut url = format!("{homeserver}/_matrix/client/v3/sync?timeout={wait_ms}");
    if let Some(since) = &since {
        url.push_str(&format!("&since={}", url_encode(since)));
    }
    let authorization = format!("Bearer {token}");
    let reply = http::get_json(&url, &[("Authorization", &authorization)], wait_ms / 1000 + 10)?;
    let next = reply["next_batch"]
        .as_str()
        .ok_or("the homeserver's sync answer has no next_batch")?;
    let mut read = 0;
    if since.is_some()
        && let Some(rooms) = reply["rooms"]["join"].as_object()
    {
        for room in rooms.values() {
            read += read_room(room, own);
        }
    }
    if !kv::set("since", next.as_bytes()) {
        return Err("the sync token could not be stored".into());
    }
    Ok((String::new(), json!({"messages": read, "since": next})))
}

/// Hands over a joined room's new text messages; returns how many.
fn read_room(room: &Value, own: &str) -> usize {
    let events = |part: &str| room[part]["events"].as_array().cloned().unwrap_or_default();
    let state = events("state");
    let timeline = events("timeline");
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut title = None;
    for event in state.iter().chain(&timeline) {
        match event["type"].as_str() {
            Some("m.room.member") => {
                if let (Some(who), Some(name)) = (
                    event["state_key"].as_str(),
                    event["content"]["displayname"].as_str(),
                ) {
                    names.insert(who, name);
                }
            }
            Some("m.room.name") => title = event["content"]["name"].as_str(),
            _ => {}
        }
    }
    let mut read = 0;
    for event in &timeline {
        let content = &event["content"];
        let sender = event["sender"].as_str().unwrap_or_default();
        if event["type"] != "m.room.message" || content["msgtype"] != "m.text" || sender == own {
            continue;
        }
        let Some(text) = content["body"].as_str() else {
            continue;
        };
        let name = names
            .get(sender)
            .map_or_else(|| localpart(sender), |n| (*n).to_string());
        notify(&name, title, text);
        read += 1;
    }
    read
}

/// `@anna:example.org` → "anna".
fn localpart(user_id: &str) -> String {
    user_id
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or("someone")
        .to_string()
}
