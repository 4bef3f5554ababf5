//! `hauski top`: a terminal view of a running HausKI. What it shows is
//! kept here as plain state, changed only by the bus's events (`/events`)
//! and `/metrics` scrapes, so it is tested with recorded ones; `view.rs`
//! draws it (ratatui), `feed.rs` fetches both from the daemon.

pub mod feed;
pub mod view;

use std::collections::BTreeMap;

use serde_json::Value;

/// Figures of one stage, from `hauski_stage_duration_seconds`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageFigures {
    pub count: f64,
    pub sum_s: f64,
    /// The mean of the durations since the previous scrape, in ms.
    pub last_ms: Option<f64>,
    /// The histogram bucket that holds the 95th percentile (an upper bound), in ms.
    pub p95_ms: Option<f64>,
    /// Cumulative bucket counts by upper bound (seconds), from the scrape.
    buckets: Vec<(f64, f64)>,
}

/// A room a satellite answered in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Room {
    pub turns: u64,
    pub level_db: f32,
    /// Other rooms that heard its last wake word too.
    pub also_heard: Vec<String>,
}

/// A stage over its budget, as the daemon's guard reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub p95_ms: f64,
    pub budget_ms: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Top {
    /// Where the daemon is (for the title).
    pub api: String,
    pub budgets_ms: BTreeMap<String, f64>,
    pub profile: Option<String>,
    pub rooms: BTreeMap<String, Room>,
    /// The question being spoken, as the last partial transcript had it.
    pub partial: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    /// The sink HausKI is speaking on, while it speaks.
    pub speaking_on: Option<String>,
    pub alarms: BTreeMap<String, Alarm>,
    pub stages: BTreeMap<String, StageFigures>,
    pub llm_waiting: Option<f64>,
    pub llm_busy: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub rss_bytes: Option<f64>,
    /// (CPU seconds, wall seconds) at the previous scrape.
    cpu_before: Option<(f64, f64)>,
    pub events_seen: u64,
    pub events_lost: u64,
    /// Why the daemon cannot be reached, while it cannot.
    pub trouble: Option<String>,
}

impl Top {
    pub fn new(api: &str, budgets_ms: impl IntoIterator<Item = (String, f64)>) -> Self {
        Self {
            api: api.to_string(),
            budgets_ms: budgets_ms.into_iter().collect(),
            ..Self::default()
        }
    }

    /// One bus event (`subject` and its JSON payload, as `/events` sends it).
    pub fn apply_event(&mut self, subject: &str, payload: &Value) {
        self.events_seen += 1;
        let text = |field: &str| payload[field].as_str().map(str::to_string);
        match subject {
            "hauski.wake" => self.partial = Some(String::new()),
            "hauski.asr.partial" => self.partial = text("text"),
            "hauski.asr.final" => {
                self.partial = None;
                self.question = text("text");
            }
            "hauski.turn.start" => {
                self.question = text("question");
                self.answer = None;
            }
            "hauski.turn.end" => self.answer = text("answer"),
            "hauski.tts.start" => self.speaking_on = text("sink"),
            "hauski.tts.stop" => self.speaking_on = None,
            "hauski.profile.changed" => self.profile = text("profile"),
            "hauski.room.turn" => {
                let Some(room) = text("room") else { return };
                let also_heard = payload["heard_in"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|r| *r != room)
                    .map(str::to_string)
                    .collect();
                let seen = self.rooms.entry(room).or_default();
                seen.turns += 1;
                seen.level_db = payload["level_db"].as_f64().unwrap_or(f64::NAN) as f32;
                seen.also_heard = also_heard;
            }
            "hauski.budget" => {
                let Some(stage) = text("stage") else { return };
                if payload["raised"].as_bool() == Some(true) {
                    let alarm = Alarm {
                        p95_ms: payload["p95_ms"].as_f64().unwrap_or(f64::NAN),
                        budget_ms: payload["budget_ms"].as_f64().unwrap_or(f64::NAN),
                    };
                    self.alarms.insert(stage, alarm);
                } else {
                    self.alarms.remove(&stage);
                }
            }
            "hauski.lagged" => self.events_lost += payload["lost"].as_u64().unwrap_or(0),
            _ => {}
        }
    }

    /// One `/metrics` scrape taken at `wall_s` (seconds on any steady clock).
    pub fn apply_metrics(&mut self, text: &str, wall_s: f64) {
        let mut scraped: BTreeMap<String, StageFigures> = BTreeMap::new();
        let mut cpu_s = None;
        for sample in text.lines().filter_map(Sample::parse) {
            match sample.name {
                "hauski_stage_duration_seconds_bucket" => {
                    if let (Some(stage), Some(le)) = (sample.label("stage"), sample.label("le")) {
                        let bound = if le == "+Inf" {
                            f64::INFINITY
                        } else {
                            le.parse().unwrap_or(f64::NAN)
                        };
                        let figures = scraped.entry(stage.to_string()).or_default();
                        figures.buckets.push((bound, sample.value));
                    }
                }
                "hauski_stage_duration_seconds_sum" => {
                    if let Some(stage) = sample.label("stage") {
                        scraped.entry(stage.to_string()).or_default().sum_s = sample.value;
                    }
                }
                "hauski_stage_duration_seconds_count" => {
                    if let Some(stage) = sample.label("stage") {
                        scraped.entry(stage.to_string()).or_default().count = sample.value;
                    }
                }
                "hauski_llm_waiting" => self.llm_waiting = Some(sample.value),
                "hauski_llm_busy" => self.llm_busy = Some(sample.value),
                "hauski_process_cpu_seconds" => cpu_s = Some(sample.value),
                "hauski_process_resident_bytes" => self.rss_bytes = Some(sample.value),
                "hauski_budget_exceeded" => {
                    // Alarms raised before top started are on /metrics too.
                    if let Some(stage) = sample.label("stage") {
                        if sample.value >= 1.0 {
                            let budget_ms = self.budgets_ms.get(stage).copied().unwrap_or(f64::NAN);
                            self.alarms.entry(stage.to_string()).or_insert(Alarm {
                                p95_ms: f64::NAN,
                                budget_ms,
                            });
                        } else {
                            self.alarms.remove(stage);
                        }
                    }
                }
                _ => {}
            }
        }
        for (stage, mut figures) in scraped {
            let before = self.stages.get(&stage);
            let (count_before, sum_before) = before.map_or((0.0, 0.0), |b| (b.count, b.sum_s));
            figures.last_ms = if figures.count > count_before {
                Some((figures.sum_s - sum_before) / (figures.count - count_before) * 1000.0)
            } else {
                before.and_then(|b| b.last_ms)
            };
            figures.p95_ms = p95_bound(&figures.buckets, figures.count).map(|s| s * 1000.0);
            self.stages.insert(stage, figures);
        }
        if let Some(cpu_s) = cpu_s {
            if let Some((cpu_before, wall_before)) = self.cpu_before
                && wall_s > wall_before
            {
                self.cpu_percent = Some((cpu_s - cpu_before) / (wall_s - wall_before) * 100.0);
            }
            self.cpu_before = Some((cpu_s, wall_s));
        }
        self.trouble = None;
    }
}

/// The smallest bucket bound holding 95 % of `count`.
fn p95_bound(buckets: &[(f64, f64)], count: f64) -> Option<f64> {
    if count <= 0.0 {
        return None;
    }
    let mut sorted = buckets.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted
        .iter()
        .find(|(_, cumulative)| *cumulative >= 0.95 * count)
        .map(|(bound, _)| *bound)
}

/// One line of the OpenMetrics text: `name{labels} value`.
struct Sample<'a> {
    name: &'a str,
    labels: &'a str,
    value: f64,
}

impl<'a> Sample<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        if line.starts_with('#') {
            return None;
        }
        let (series, value) = line.rsplit_once(' ')?;
        let value = value.parse().ok()?;
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (series, ""),
        };
        Some(Self { name, labels, value })
    }

    fn label(&self, key: &str) -> Option<&'a str> {
        self.labels.split(',').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| v.trim_matches('"'))
        })
    }
}

#[cfg(test)]
mod tests;
