//! `hauski top` on recorded input: bus events as `/events` sends them and
//! a `/metrics` scrape, drawn on ratatui's test backend.

use super::feed::{Update, read_events};
use super::*;

/// Events of one satellite turn and an alarm, as the daemon streamed them.
const EVENTS: &str = "event: hauski.profile.changed\ndata: {\"profile\":\"kueche\"}\n\n\
event: hauski.room.turn\ndata: {\"room\":\"hall\",\"level_db\":-18.8,\"heard_in\":[\"hall\",\"kitchen\"]}\n\n\
event: hauski.asr.partial\ndata: {\"text\":\"what is the\"}\n\n\
:keep-alive\n\n\
event: hauski.budget\ndata: {\"stage\":\"asr\",\"p95_ms\":1710.4,\"budget_ms\":1500.0,\"raised\":true}\n\n\
event: hauski.turn.start\ndata: {\"door\":\"satellite\",\"question\":\"What is the capital of France?\"}\n\n\
event: hauski.lagged\ndata: {\"lost\":3}\n\n";

fn metrics(asr_count: u32, asr_sum: f64, cpu_s: f64) -> String {
    format!(
        "# HELP hauski_stage_duration_seconds Each stage's durations.\n\
# TYPE hauski_stage_duration_seconds histogram\n\
hauski_stage_duration_seconds_sum{{stage=\"asr\"}} {asr_sum}\n\
hauski_stage_duration_seconds_count{{stage=\"asr\"}} {asr_count}\n\
hauski_stage_duration_seconds_bucket{{le=\"0.256\",stage=\"asr\"}} 0\n\
hauski_stage_duration_seconds_bucket{{le=\"0.512\",stage=\"asr\"}} 1\n\
hauski_stage_duration_seconds_bucket{{le=\"1.024\",stage=\"asr\"}} {}\n\
hauski_stage_duration_seconds_bucket{{le=\"2.048\",stage=\"asr\"}} {asr_count}\n\
hauski_stage_duration_seconds_bucket{{le=\"+Inf\",stage=\"asr\"}} {asr_count}\n\
# TYPE hauski_llm_waiting gauge\nhauski_llm_waiting 2\n\
# TYPE hauski_llm_busy gauge\nhauski_llm_busy 1\n\
# TYPE hauski_process_cpu_seconds gauge\nhauski_process_cpu_seconds {cpu_s}\n\
# TYPE hauski_process_resident_bytes gauge\nhauski_process_resident_bytes 812000000\n\
# EOF\n",
        asr_count - 1
    )
}

fn recorded() -> Top {
    let mut top = Top::new(
        "http://127.0.0.1:8088",
        [("asr".to_string(), 1500.0), ("retrieval".to_string(), 60.0)],
    );
    let (to, from) = std::sync::mpsc::channel();
    let ended = read_events(EVENTS.as_bytes(), &to);
    assert_eq!(ended, "the daemon closed the event stream");
    drop(to);
    for update in from {
        if let Update::Event { subject, payload } = update {
            top.apply_event(&subject, &payload);
        }
    }
    top.apply_metrics(&metrics(20, 16.0, 10.0), 100.0);
    top.apply_metrics(&metrics(22, 19.2, 10.5), 102.0);
    top
}

#[test]
fn events_and_scrapes_become_the_state() {
    let top = recorded();
    assert_eq!(top.profile.as_deref(), Some("kueche"));
    assert_eq!(top.rooms["hall"].turns, 1);
    assert_eq!(top.rooms["hall"].also_heard, ["kitchen"]);
    assert_eq!(top.question.as_deref(), Some("What is the capital of France?"));
    assert_eq!(top.partial.as_deref(), Some("what is the"));
    assert_eq!(top.alarms["asr"].budget_ms, 1500.0);
    assert_eq!((top.events_seen, top.events_lost), (6, 3));
    let asr = &top.stages["asr"];
    // Two more durations took 3.2 s together: 1600 ms each.
    assert!((asr.last_ms.unwrap_or_default() - 1600.0).abs() < 1e-6, "{asr:?}");
    // 21 of 22 are under 1.024 s (95 % is 20.9): the p95 is at most 1024 ms.
    assert_eq!(asr.p95_ms, Some(1024.0));
    // 0.5 CPU seconds in 2 s.
    assert_eq!(top.cpu_percent, Some(25.0));
    assert_eq!((top.llm_waiting, top.llm_busy), (Some(2.0), Some(1.0)));
}

#[test]
fn the_view_shows_rooms_stages_against_budgets_and_alarms() {
    let text = view::to_text(&recorded(), 120, 24).unwrap_or_else(|e| panic!("{e}"));
    for expected in [
        "HausKI top http://127.0.0.1:8088",
        "CPU 25.0 %  RSS 812 MB  LLM waiting 2 busy 1  events 6 (3 lost)",
        "main  profile kueche",
        "hall  1 turn  -18.8 dBFS  also heard: kitchen",
        "hearing  what is the",
        "question What is the capital of France?",
        "asr: p95 1710 ms against a budget of 1500 ms",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    let asr_row = text.lines().find(|l| l.contains("│asr ")).unwrap_or_default();
    for cell in ["1600", "1024", "1500", "22", "OVER"] {
        assert!(asr_row.contains(cell), "{cell} not in {asr_row:?}\n{text}");
    }
    // A stage with a budget but no durations yet is listed, unjudged.
    let retrieval = text
        .lines()
        .find(|l| l.contains("│retrieval"))
        .unwrap_or_default();
    assert!(
        retrieval.contains("60") && !retrieval.contains("ok"),
        "{retrieval:?}"
    );
}

#[test]
fn a_cleared_alarm_leaves_and_a_metric_alarm_shows_before_its_event() {
    let mut top = recorded();
    let cleared = serde_json::json!({"stage": "asr", "p95_ms": 1300.0, "budget_ms": 1500.0, "raised": false});
    top.apply_event("hauski.budget", &cleared);
    assert!(top.alarms.is_empty());
    top.apply_metrics("hauski_budget_exceeded{stage=\"retrieval\"} 1\n", 103.0);
    assert_eq!(top.alarms["retrieval"].budget_ms, 60.0);
    top.apply_metrics("hauski_budget_exceeded{stage=\"retrieval\"} 0\n", 104.0);
    assert!(top.alarms.is_empty());
}
