//! Stage budgets at run time: each stage's latest durations (the last 50)
//! kept as a rolling window; when its p95 goes over the stage's budget in
//! `policies/limits.yaml` (`stage_budgets_ms`), an alarm goes on the bus
//! (`hauski.budget`, raised) and `hauski_budget_exceeded{stage}` turns 1;
//! it clears only once the p95 is back under 90 % of the budget
//! (hysteresis, so a stage at its limit does not flap). Every duration also
//! lands in `hauski_stage_duration_seconds{stage}`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::bus::Event;

/// Durations a stage's p95 is taken over.
const WINDOW: usize = 50;
/// Durations needed before a p95 means anything.
const FEWEST: usize = 10;
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

/// The 95th percentile (nearest rank) of `values`.
fn p95(values: &VecDeque<f64>) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() as f64) * 0.95).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
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
