//! What every suite shares: where its JSON goes, the statistics, and the
//! README table rendered from the JSON (never typed by hand).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::BenchArgs;

/// Where a suite writes its JSON.
fn out_path(args: &BenchArgs, suite: &str) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| Path::new("target/bench").join(format!("{suite}.json")))
}

/// Writes a suite's JSON, refreshes its README table when asked, and prints
/// the table (or, with `--json`, the report).
pub fn publish(args: &BenchArgs, suite: &str, report: &Value, table: &str) -> Result<()> {
    let out = out_path(args, suite);
    write_report(&out, report)?;
    if let Some(readme) = &args.update_readme {
        update_readme(readme, suite, table)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{table}");
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// Writes a bench report as pretty JSON, creating its folder.
fn write_report(out: &Path, report: &Value) -> Result<()> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("cannot write {}", out.display()))
}

/// A README table cell: the number with `digits` decimals, or "–" when the
/// report has none.
pub fn cell(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map_or_else(|| "–".to_string(), |x| format!("{x:.digits$}"))
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 50.0)
}

/// The mean of `values` and its two-sided 95 % confidence interval
/// (Student's t; the quantile from the Cornish-Fisher expansion, within
/// 1 % of the table from 5 degrees of freedom up).
pub fn mean_ci95(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    if values.len() < 2 {
        let mean = values.first().copied().unwrap_or_default();
        return (mean, f64::NEG_INFINITY, f64::INFINITY);
    }
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let df = n - 1.0;
    let z: f64 = 1.959_964;
    let t =
        z + (z.powi(3) + z) / (4.0 * df) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df);
    let half = t * (variance / n).sqrt();
    (mean, mean - half, mean + half)
}

/// Nearest-rank percentile (`p` in 0–100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    hauski::stats::nearest_rank(sorted, p / 100.0)
}

/// Replaces the table between `<!-- bench:SUITE:begin -->` and `…:end -->`.
fn update_readme(readme: &Path, suite: &str, table: &str) -> Result<()> {
    let (begin, end) = (
        format!("<!-- bench:{suite}:begin -->"),
        format!("<!-- bench:{suite}:end -->"),
    );
    let text =
        std::fs::read_to_string(readme).with_context(|| format!("cannot read {}", readme.display()))?;
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        bail!(
            "{} has no {begin} … {end} markers for the bench table",
            readme.display()
        );
    };
    let updated = format!("{}{begin}\n{table}\n{}", &text[..a], &text[b..]);
    std::fs::write(readme, updated).with_context(|| format!("cannot write {}", readme.display()))
}

/// Word error rate of `heard` against `said`: word edits (Levenshtein) over
/// the words said, case and punctuation ignored.
pub fn word_error_rate(said: &str, heard: &str) -> f64 {
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .collect::<String>()
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (said, heard) = (words(said), words(heard));
    if said.is_empty() {
        return if heard.is_empty() { 0.0 } else { 1.0 };
    }
    let mut row: Vec<usize> = (0..=heard.len()).collect();
    for (i, s) in said.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in heard.iter().enumerate() {
            let substitution = diagonal + usize::from(s != h);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[heard.len()] as f64 / said.len() as f64
}

#[cfg(test)]
mod tests {
    use super::{mean_ci95, percentile, word_error_rate};

    #[test]
    fn the_interval_matches_students_t_tables() {
        // Differences 1..=10: mean 5.5, sd 3.03; t(0.975, 9) = 2.262 (tables).
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let (mean, low, high) = mean_ci95(&values);
        let half = 2.262 * (55.0f64 / 6.0 / 10.0).sqrt();
        assert!((mean - 5.5).abs() < 1e-12);
        assert!(
            (high - mean - half).abs() / half < 0.01,
            "{low} {high} against ±{half}"
        );
        assert!((mean - low - (high - mean)).abs() < 1e-12);
        // 30 values: t(0.975, 29) = 2.045.
        let values: Vec<f64> = (0..30).map(|i| f64::from(i % 7)).collect();
        let (mean, _, high) = mean_ci95(&values);
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 29.0).sqrt();
        let half = 2.045 * sd / 30f64.sqrt();
        assert!((high - mean - half).abs() / half < 0.005);
    }

    #[test]
    fn word_errors_count_edits_over_the_words_said() {
        assert_eq!(word_error_rate("Ask not what", "ask not, what!"), 0.0);
        assert_eq!(
            word_error_rate("ask not what your country", "ask what you country"),
            0.4
        );
        assert_eq!(word_error_rate("one two", ""), 1.0);
        assert_eq!(word_error_rate("one", "one two three"), 2.0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 5.0);
        assert_eq!(percentile(&v, 95.0), 10.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
