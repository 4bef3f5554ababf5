//! Structured output and tool calls on the real Gemma 3 270M, through the
//! official `openai` and `ollama` clients; every answer is checked against
//! its schema by the `jsonschema` package, not by HausKI's code.

use crate::common;

use crate::common::server::Server;
use crate::common::{hauski, require_gemma};
use serde_json::Value;

#[test]
fn answers_hold_to_their_schema_and_forced_tool_calls_validate() {
    require_gemma();
    let server = Server::start(hauski(), &[]);
    let r = common::python_json("structured_output.py", [&server.base], &server.log());

    // 20 seeds at temperature 1: 20 valid answers, and not one answer 20 times.
    let schema = &r["json_schema"];
    assert_eq!(schema["total"], 20, "{schema}");
    assert_eq!(schema["valid"], 20, "every answer validates: {schema}");
    assert!(
        schema["distinct"].as_u64() > Some(1),
        "the seeds matter: {schema}"
    );
    assert_eq!(schema["finish_reasons"], serde_json::json!(["stop"]), "{schema}");
    assert_eq!(r["json_object_is_object"], true, "{r}");

    let tools = &r["tools"];
    for case in ["named", "required"] {
        let call = &tools[case];
        assert_eq!(call["finish_reason"], "tool_calls", "{case}: {call}");
        assert_eq!(call["count"], 1, "{case}: {call}");
        assert_eq!(call["types"][0], "function", "{case}: {call}");
        assert!(
            call["ids"][0].as_str().is_some_and(|id| id.starts_with("call_")),
            "{case}: {call}"
        );
        assert_eq!(call["arguments_valid"][0], true, "{case}: {call}");
        assert_eq!(call["content"], Value::Null, "a call alone has no words: {call}");
    }
    assert_eq!(tools["named"]["names"][0], "get_weather", "{tools}");
    let required = tools["required"]["names"][0].as_str().unwrap_or_default();
    assert!(["get_weather", "start_timer"].contains(&required), "{tools}");
    assert_eq!(tools["streamed"]["name"], "get_weather", "{tools}");
    assert_eq!(tools["streamed"]["arguments_valid"], true, "{tools}");
    assert_eq!(tools["streamed"]["finish_reason"], "tool_calls", "{tools}");
    // The call and the tool's result, sent back, are understood: words come back.
    let follow_up = &tools["follow_up"];
    assert!(
        follow_up["content"]
            .as_str()
            .is_some_and(|c| !c.trim().is_empty()),
        "{follow_up}"
    );
    assert_eq!(
        follow_up["tool_calls"],
        Value::Null,
        "tool_choice none: {follow_up}"
    );

    let refusals = &r["refusals"];
    for (case, param) in [
        ("unknown_tool_choice", "tool_choice"),
        ("schema_missing", "response_format"),
        ("schema_not_convertible", "response_format"),
        ("format_type", "response_format"),
    ] {
        assert_eq!(refusals[case]["status"], 400, "{case}: {refusals}");
        assert_eq!(refusals[case]["param"], param, "{case}: {refusals}");
    }
    assert!(
        refusals["unknown_tool_choice"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("get_weather")),
        "names the tools there are: {refusals}"
    );

    let ollama = &r["ollama"];
    assert_eq!(ollama["format_schema_valid"], 3, "{ollama}");
    assert_eq!(ollama["format_json_is_object"], true, "{ollama}");
    let history = &ollama["tools_history"];
    assert_eq!(history["done"], true, "{history}");
    assert_eq!(history["answered"], true, "{history}");
    assert_eq!(history["calls_valid"], true, "{history}");
    assert_eq!(history["leaked_tag"], false, "{history}");
    assert_eq!(ollama["bad_format"]["status"], 400, "{ollama}");
    assert!(
        ollama["bad_format"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("format")),
        "{ollama}"
    );
    server.assert_alive();
}
