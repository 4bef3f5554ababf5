//! `hauski-bench check`: the figures the benches wrote under target/bench
//! held to the budgets in `policies/limits.yaml` (`budgets:`). Exits 1
//! naming every budget exceeded, and every budget whose figure is missing
//! (a bench that did not run cannot pass); `scripts/test.sh` runs it after
//! the benches, so CI fails when HausKI gets slower than its budgets.

use std::path::Path;

use anyhow::{Result, bail};
use hauski::config::policies::Budget;
use serde_json::Value;

/// One budget against its figure.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Within { value: f64 },
    Over { value: f64 },
    Missing { why: String },
}

/// The figure `budget` names (`FILE.json#/json/pointer`) in `dir`.
pub fn judge(budget: &Budget, dir: &Path) -> Verdict {
    let Some((file, pointer)) = budget.figure.split_once('#') else {
        return Verdict::Missing {
            why: format!("{:?} is not FILE.json#/pointer", budget.figure),
        };
    };
    let path = dir.join(file);
    let document: Value = match std::fs::read(&path).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(document)) => document,
        Ok(Err(e)) => {
            return Verdict::Missing {
                why: format!("{} is not JSON: {e}", path.display()),
            };
        }
        Err(e) => {
            return Verdict::Missing {
                why: format!("{}: {e} (did its bench run?)", path.display()),
            };
        }
    };
    match document.pointer(pointer).and_then(Value::as_f64) {
        Some(value) if value > budget.max => Verdict::Over { value },
        Some(value) => Verdict::Within { value },
        None => Verdict::Missing {
            why: format!("{} holds no number at {pointer}", path.display()),
        },
    }
}

pub fn run(budgets: &[Budget], dir: &Path) -> Result<()> {
    let mut failed = Vec::new();
    for budget in budgets {
        match judge(budget, dir) {
            Verdict::Within { value } => println!("ok    {:<40} {value:>10.2} ≤ {}", budget.name, budget.max),
            Verdict::Over { value } => {
                println!("OVER  {:<40} {value:>10.2} > {}", budget.name, budget.max);
                failed.push(format!(
                    "{}: {value:.2} is over its budget of {} ({})",
                    budget.name, budget.max, budget.figure
                ));
            }
            Verdict::Missing { why } => {
                println!("MISS  {:<40} {why}", budget.name);
                failed.push(format!("{}: not measured: {why}", budget.name));
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} budgets in policies/limits.yaml not met:\n{}",
            failed.len(),
            budgets.len(),
            failed.join("\n")
        );
    }
    println!("all {} budgets met", budgets.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(name: &str, figure: &str, max: f64) -> Budget {
        Budget {
            name: name.into(),
            figure: figure.into(),
            max,
        }
    }

    #[test]
    fn each_budget_is_within_over_or_missing() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("spine.json"),
            r#"{"llm": {"time_to_first_token_ms": 279.2}}"#,
        )
        .expect("write");
        let within = budget(
            "llm_first_token_ms",
            "spine.json#/llm/time_to_first_token_ms",
            400.0,
        );
        assert_eq!(judge(&within, dir.path()), Verdict::Within { value: 279.2 });
        let tiny = budget(
            "llm_first_token_ms",
            "spine.json#/llm/time_to_first_token_ms",
            1.0,
        );
        assert_eq!(judge(&tiny, dir.path()), Verdict::Over { value: 279.2 });
        assert!(matches!(
            judge(&budget("x", "voice.json#/p95", 1.0), dir.path()),
            Verdict::Missing { .. }
        ));
        let failed = run(&[within.clone(), tiny], dir.path()).expect_err("a tiny budget fails");
        assert!(
            failed
                .to_string()
                .contains("llm_first_token_ms: 279.20 is over its budget of 1"),
            "{failed}"
        );
        run(&[within], dir.path()).expect("the real budget passes");
    }
}
