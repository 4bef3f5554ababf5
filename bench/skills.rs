//! `hauski-bench skills`: request → action done for timers, reminders and
//! lists, on the fast path (phrasing → skill call → SQLite) and, side by
//! side, on the LLM tool path (the LLM picks the call under grammar, then
//! the same action), on the daemon's own core. Writes target/bench/skills.json.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use hauski::assistant::generation::Door;
use hauski::assistant::{Allow, Assistant};
use hauski::engines::App;
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{cell, percentile, publish};

/// Requests the fast path catches: one of each common action.
const FAST: &[&str] = &[
    "Set a timer for ten minutes.",
    "How much time is left?",
    "Cancel the timer.",
    "Remind me to call the dentist on Thursday afternoon.",
    "What reminders do I have?",
    "Cancel all reminders.",
    "Put oat milk on the shopping list.",
    "What's on the shopping list?",
    "Take oat milk off the shopping list.",
    "What time is it?",
];

/// Requests it does not catch, which go to the LLM with the skills as tools.
const BY_LLM: &[&str] = &[
    "Could you please count down a timer of four minutes for my tea?",
    "I would like a reminder about the parcel later today.",
    "Is there anything on my shopping list?",
];

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    let assistant = Assistant::load(app)?;
    if assistant.everyday.is_none() {
        bail!("the skills database did not open (see the log above)");
    }
    eprintln!(
        "bench skills: {} fast-path requests and {} by LLM, {} runs",
        FAST.len(),
        BY_LLM.len(),
        args.runs
    );
    let mut fast = Vec::new();
    for _ in 0..args.runs {
        for request in FAST {
            let started = Instant::now();
            let intent = assistant
                .recognise(request, Allow::ALL)
                .with_context(|| format!("{request:?} missed the fast path"))?;
            assistant.act(intent)?;
            fast.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let mut by_llm = Vec::new();
    let mut called = 0;
    if assistant.engines.llm.is_some() {
        for _ in 0..args.runs.div_ceil(2) {
            for request in BY_LLM {
                if assistant.recognise(request, Allow::ALL).is_some()
                    || !assistant.wants_skill_tools(request, Allow::ALL)
                {
                    bail!("{request:?} does not take the LLM tool path");
                }
                let started = Instant::now();
                let done = assistant.act_by_llm(request, Door::Voice)?;
                by_llm.push(started.elapsed().as_secs_f64() * 1000.0);
                called += usize::from(done.change.is_some());
            }
        }
    }
    fast.sort_by(f64::total_cmp);
    by_llm.sort_by(f64::total_cmp);
    eprintln!("bench skills: the messenger adapters on loopback");
    let adapters = crate::adapters::measure(app, args.runs)?;
    let figures =
        |ms: &[f64]| json!({"n": ms.len(), "p50": percentile(ms, 50.0), "p95": percentile(ms, 95.0)});
    let report = json!({
        "fast_path_ms": figures(&fast),
        "llm_tool_path_ms": figures(&by_llm),
        "llm_tool_path_acted": called,
        "adapters": adapters,
        "loaded": assistant.engines.loaded.iter().map(|(id, stage)| format!("{stage}: {id}")).collect::<Vec<_>>(),
    });
    publish(args, "skills", &report, &markdown_table(&report))
}

fn markdown_table(report: &Value) -> String {
    let row = |label: &str, key: &str| {
        let figures = &report[key];
        format!(
            "| {label} | {} | {} / {} |",
            figures["n"],
            cell(&figures["p50"], 2),
            cell(&figures["p95"], 2)
        )
    };
    [
        "| request → action done (ms) | requests | p50 / p95 |".to_string(),
        "|---|---|---|".to_string(),
        row(
            "fast path: phrasing → skill call in the WebAssembly sandbox (a fresh instance) → SQLite (FULL sync)",
            "fast_path_ms",
        ),
        row(
            "LLM tool path: gemma-3-270m picks the call under grammar, then the same action",
            "llm_tool_path_ms",
        ),
        String::new(),
        adapters_table(&report["adapters"]),
    ]
    .join("\n")
}

fn adapters_table(adapters: &Value) -> String {
    let arrival = &adapters["arrival_to_bus_ms"];
    [
        "| messenger adapters (Telegram, Matrix, Signal on loopback) | figure |".to_string(),
        "|---|---|".to_string(),
        format!(
            "| message arrival → its notification on the bus, p50 / p95 ({} messages) | {} / {} ms |",
            arrival["n"],
            cell(&arrival["p50"], 1),
            cell(&arrival["p95"], 1)
        ),
        format!(
            "| an adapter's module compiled at load (cold), p50 | {} ms |",
            cell(&adapters["adapter_compile_ms"], 1)
        ),
        format!(
            "| memory of {} idle adapters, each in its long-poll | {} MiB |",
            adapters["idle_adapters"],
            cell(&adapters["idle_adapters_rss_mib"], 1)
        ),
        format!(
            "| audit log appends per second, each synced | {} |",
            cell(&adapters["audit_appends_per_s"], 0)
        ),
    ]
    .join("\n")
}
