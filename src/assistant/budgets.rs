//! Stage budgets at run time: each stage's latest durations (the last 50)
//! kept as a rolling window; when its p95 goes over the stage's budget in
//! `policies/limits.yaml` (`stage_budgets_ms`), an alarm goes on the bus
//! (`hauski.budget`, raised) and `hauski_budget_exceeded{stage}` turns 1;
//! it clears only once the p95 is back under 90 % of the budget
//! (hysteresis, so a stage at its limit does not flap). Every duration also
//! lands in `hauski_stage_duration_seconds{stage}`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::bus::{Bus, Event};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::metrics::{Metrics, StageLabels};

/// Durations a stage's p95 is taken over.
const WINDOW: usize = 50;
/// Durations needed before a p95 means anything.
const FEWEST: usize = 10;
/// Prompt tokens to evaluate (past the cache) in a "short prompt".
const SHORT_PROMPT_TOKENS: usize = 256;
/// An alarm clears below this share of the budget.
const CLEAR_BELOW: f64 = 0.9;

#[derive(Debug, Default)]
struct Stage {
    recent: VecDeque<f64>,
    alarmed: bool,
}

/// Rolling p95s against their budgets.
#[derive(Debug, Default)]
pub struct BudgetGuard {
    budgets_ms: HashMap<String, f64>,
    stages: Mutex<HashMap<String, Stage>>,
}

impl BudgetGuard {
    pub fn new(budgets_ms: HashMap<String, f64>) -> Self {
        Self {
            budgets_ms,
            stages: Mutex::default(),
        }
    }

    /// Takes one duration of `stage`; the alarm it raises or clears, if any.
    pub fn observe(&self, stage: &str, ms: f64) -> Option<Event> {
        let budget_ms = *self.budgets_ms.get(stage)?;
        let mut stages = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        let kept = stages.entry(stage.to_string()).or_default();
        kept.recent.push_back(ms);
        if kept.recent.len() > WINDOW {
            kept.recent.pop_front();
        }
        if kept.recent.len() < FEWEST {
            return None;
        }
        let p95_ms = p95(&kept.recent);
        let raise = !kept.alarmed && p95_ms > budget_ms;
        let clear = kept.alarmed && p95_ms < CLEAR_BELOW * budget_ms;
        if !(raise || clear) {
            return None;
        }
        kept.alarmed = raise;
        Some(Event::BudgetAlarm {
            stage: stage.to_string(),
            p95_ms,
            budget_ms,
            raised: raise,
        })
    }
}

/// Where every stage's durations go: the histogram, the guard, and its
/// alarms onto the bus and the gauge. Made before the engines, so the LLM
/// workers report into it too.
pub struct Stages {
    guard: BudgetGuard,
    durations: Family<StageLabels, Histogram, fn() -> Histogram>,
    exceeded: Family<StageLabels, Gauge>,
    tokens_per_second: Histogram,
    bus: Bus,
}

impl Stages {
    pub fn new(guard: BudgetGuard, metrics: &Metrics, bus: Bus) -> Self {
        Self {
            guard,
            durations: metrics.stage_duration.clone(),
            exceeded: metrics.budget_exceeded.clone(),
            tokens_per_second: metrics.llm_tokens_per_second.clone(),
            bus,
        }
    }

    /// One duration of `stage`: into its histogram, and against its budget
    /// (an alarm raised or cleared goes on the bus and into the gauge).
    pub fn observe(&self, stage: &str, ms: f64) {
        let labels = StageLabels { stage: stage.into() };
        self.durations.get_or_create(&labels).observe(ms / 1000.0);
        let Some(alarm) = self.guard.observe(stage, ms) else {
            return;
        };
        if let Event::BudgetAlarm {
            raised,
            p95_ms,
            budget_ms,
            ..
        } = &alarm
        {
            tracing::warn!(stage, p95_ms, budget_ms, raised, "stage budget");
            self.exceeded.get_or_create(&labels).set(i64::from(*raised));
        }
        self.bus.publish(alarm);
    }

    /// A finished generation: its first token (when it had one) and its pace.
    pub fn observe_generation(&self, stats: &hauski_brain::GenerationStats) {
        if stats.completion_tokens == 0 {
            return;
        }
        let first_token_ms = stats.time_to_first_token.as_secs_f64() * 1000.0;
        self.observe("llm_first_token", first_token_ms);
        // The design's budget is for a short prompt: a spoken question after
        // the cached system prompt, not an editor's whole file.
        if stats.prompt_tokens_evaluated <= SHORT_PROMPT_TOKENS {
            self.observe("llm_first_token_short", first_token_ms);
        }
        let generating = stats
            .generation
            .saturating_sub(stats.time_to_first_token)
            .as_secs_f64();
        if stats.completion_tokens > 1 && generating > 0.0 {
            let per_second = (stats.completion_tokens - 1) as f64 / generating;
            self.tokens_per_second.observe(per_second);
        }
    }
}

/// The 95th percentile (nearest rank) of `values`.
fn p95(values: &VecDeque<f64>) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    crate::stats::nearest_rank(&sorted, 0.95)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_stage_raises_its_alarm_once_and_clears_it_below_the_mark() {
        let guard = BudgetGuard::new(HashMap::from([("asr".to_string(), 100.0)]));
        let mut alarms = Vec::new();
        // Fast, then slow (a p95 past 100), then fast again until the slow ones leave the window.
        let durations = std::iter::repeat_n(40.0, 20)
            .chain(std::iter::repeat_n(300.0, 10))
            .chain(std::iter::repeat_n(40.0, 60));
        for (i, ms) in durations.enumerate() {
            if let Some(Event::BudgetAlarm { raised, p95_ms, .. }) = guard.observe("asr", ms) {
                alarms.push((i, raised, p95_ms));
            }
        }
        let raised: Vec<(usize, bool)> = alarms.iter().map(|(i, r, _)| (*i, *r)).collect();
        // Raised when the 2nd slow one makes the p95 slow (22 values: rank 21),
        // cleared once only 2 slow ones are left in the window of 50 (rank 48 is fast).
        assert_eq!(raised, [(21, true), (77, false)]);
        assert!(alarms[0].2 > 100.0 && alarms[1].2 < 90.0);
        // Stages without a budget are not watched.
        assert_eq!(guard.observe("tts", 1e9), None);
    }
}
