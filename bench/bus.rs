//! `hauski-bench bus`: how many events a second the in-process `hauski.*`
//! bus carries to a subscriber that reads every one, and the time from
//! publish to receipt; then the same through the NATS bridge, a real
//! `nats-server` on loopback and a second NATS client, as another program
//! would listen. Writes target/bench/bus.json.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hauski::assistant::bus::{Bus, Event};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::BenchArgs;
use crate::report::{cell, percentile, publish};

/// Events per run: enough for a steady rate, seconds at most.
const EVENTS: usize = 200_000;
/// Events timed one by one for the latency figures.
const TIMED: usize = 2_000;
/// Most events published and not yet read: half the bus's capacity.
const IN_FLIGHT: usize = 128;

pub fn run(args: &BenchArgs, routing: &hauski::config::Routing) -> Result<()> {
    eprintln!(
        "bench bus: {EVENTS} events through one subscriber, {} runs",
        args.runs
    );
    let mut rates = Vec::new();
    for _ in 0..args.runs.max(3) {
        rates.push(throughput()?);
    }
    rates.sort_by(f64::total_cmp);
    let mut latencies = latency_us()?;
    latencies.sort_by(f64::total_cmp);
    let nats_server = args.reference_python.with_file_name("nats-server");
    let nats = crate::nats::measure(&nats_server, routing, TIMED, sample_event)?;
    let in_process = (percentile(&latencies, 50.0), percentile(&latencies, 95.0));
    let report = json!({
        "events_per_run": EVENTS,
        "runs": rates.len(),
        "events_per_s": {"p50": percentile(&rates, 50.0), "min": rates.first()},
        "publish_to_receive_us": {
            "n": latencies.len(),
            "p50": percentile(&latencies, 50.0),
            "p95": percentile(&latencies, 95.0),
        },
        "nats": {
            "events_per_s": nats.events_per_s,
            "publish_to_receive_us": {
                "n": nats.latencies_us.len(),
                "p50": percentile(&nats.latencies_us, 50.0),
                "p95": percentile(&nats.latencies_us, 95.0),
            },
            "added_us": {
                "p50": percentile(&nats.latencies_us, 50.0) - in_process.0,
                "p95": percentile(&nats.latencies_us, 95.0) - in_process.1,
            },
        },
    });
    publish(args, "bus", &report, &markdown_table(&report))
}

pub fn sample_event(i: usize) -> Event {
    Event::AsrPartial {
        text: format!("what is the capital of France {i}"),
    }
}

/// Events a second that reach a subscriber reading on a thread of its own,
/// as a door's would: the publisher stays within half the bus's capacity of
/// the reader, so nothing is lost and the figure is what the bus sustains.
fn throughput() -> Result<f64> {
    let bus = Bus::new();
    let mut receiver = bus.subscribe();
    let read = Arc::new(AtomicUsize::new(0));
    let counted = read.clone();
    let reader = std::thread::spawn(move || {
        let mut lost = 0u64;
        while counted.load(Ordering::Acquire) + (lost as usize) < EVENTS {
            match receiver.blocking_recv() {
                Ok(_) => {
                    counted.fetch_add(1, Ordering::AcqRel);
                }
                Err(RecvError::Lagged(n)) => lost += n,
                Err(RecvError::Closed) => break,
            }
        }
        lost
    });
    let started = Instant::now();
    for i in 0..EVENTS {
        while i >= read.load(Ordering::Acquire) + IN_FLIGHT {
            std::thread::yield_now();
        }
        bus.publish(sample_event(i));
    }
    let Ok(lost) = reader.join() else {
        bail!("the bus reader panicked");
    };
    if lost > 0 {
        bail!("the reader lost {lost} events with at most {IN_FLIGHT} in flight");
    }
    Ok(read.load(Ordering::Acquire) as f64 / started.elapsed().as_secs_f64())
}

/// Microseconds from publish to receipt, one event at a time.
fn latency_us() -> Result<Vec<f64>> {
    let bus = Bus::new();
    let mut receiver = bus.subscribe();
    let (stamps, stamped) = std::sync::mpsc::channel::<Instant>();
    let reader = std::thread::spawn(move || {
        let mut latencies = Vec::with_capacity(TIMED);
        while latencies.len() < TIMED {
            let Ok(sent) = stamped.recv() else { break };
            if receiver.blocking_recv().is_ok() {
                latencies.push(sent.elapsed().as_secs_f64() * 1e6);
            }
        }
        latencies
    });
    for i in 0..TIMED {
        let _ = stamps.send(Instant::now());
        bus.publish(sample_event(i));
        // One in flight at a time: the figure is a hand-over, not a queue.
        std::thread::sleep(Duration::from_micros(200));
    }
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the bus reader panicked"))
}

fn markdown_table(r: &Value) -> String {
    let nats = &r["nats"];
    [
        "| figure | in-process | over NATS (loopback) |".to_string(),
        "|---|---|---|".to_string(),
        format!(
            "| events per second to one subscriber (in-process: median of {} runs of {}) | {} | {} |",
            r["runs"],
            r["events_per_run"],
            cell(&r["events_per_s"]["p50"], 0),
            cell(&nats["events_per_s"], 0)
        ),
        format!(
            "| publish → received (µs), p50 / p95 over {} | {} / {} | {} / {} |",
            r["publish_to_receive_us"]["n"],
            cell(&r["publish_to_receive_us"]["p50"], 1),
            cell(&r["publish_to_receive_us"]["p95"], 1),
            cell(&nats["publish_to_receive_us"]["p50"], 1),
            cell(&nats["publish_to_receive_us"]["p95"], 1)
        ),
        format!(
            "| added by NATS per event (µs), p50 / p95 | – | {} / {} |",
            cell(&nats["added_us"]["p50"], 1),
            cell(&nats["added_us"]["p95"], 1)
        ),
    ]
    .join("\n")
}
