//! The Signal adapter: new messages through signal-cli's REST API
//! (signal-cli-rest-api's `GET /v1/receive/{number}`), as people run it
//! beside a home server. Receiving takes the messages off signal-cli's
//! queue, so each is handed over once.
//!
//! Settings: `api` (`http://127.0.0.1:8080`), `number` (the registered
//! account, `+4912345678`).

use hauski_skill_abi::{Answer, export_skill, http, notify, url_encode};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    match action {
        "signal.poll" => poll(args),
        other => Err(format!("the Signal adapter has no action {other}")),
    }
}

fn poll(args: &Value) -> Answer {
    let settings = &args["settings"];
    let api = settings["api"]
        .as_str()
        .ok_or("no signal-cli API: run `hauski adapters enable signal --set api=http://… --set number=+…`")?
        .trim_end_matches('/');
    let number = settings["number"]
        .as_str()
        .ok_or("no account number: run `hauski adapters enable signal --set number=+…`")?;
    let wait_s = args["wait_s"].as_u64().unwrap_or(25);
    let url = format!("{api}/v1/receive/{}?timeout={wait_s}", url_encode(number));
    let reply = http::get_json(&url, &[], wait_s + 10)?;
    let received = reply
        .as_array()
        .ok_or("signal-cli's receive answer is not a list of envelopes")?;
    let mut read = 0;
    for item in received {
        let envelope = &item["envelope"];
        let data = &envelope["dataMessage"];
        let Some(text) = data["message"].as_str().filter(|t| !t.is_empty()) else {
            continue;
        };
        let sender = ["sourceName", "sourceNumber", "source"]
            .iter()
            .find_map(|k| envelope[k].as_str().filter(|s| !s.is_empty()))
            .unwrap_or("someone");
        notify(sender, data["groupInfo"]["groupName"].as_str(), text);
        read += 1;
    }
    Ok((String::new(), json!({"messages": read})))
}
