//! `hauski audit verify`: checks the skills' audit log (its hash chain and
//! Ed25519 signatures) against the public half of the audit key;
//! `hauski audit tail`: its most recent entries, readable.

use anyhow::{Context, Result, bail};

use crate::cli::AuditAction;
use hauski::engines::App;
use hauski_skills::host::audit;

pub fn run(app: &App, action: AuditAction) -> Result<()> {
    match action {
        AuditAction::Verify { log } => {
            let log = log.unwrap_or_else(|| app.data_dir.join("audit.log"));
            let text = audit::read_log(&log)?.with_context(|| {
                format!(
                    "there is no audit log {}; it is written once `hauski serve` has loaded the skills",
                    log.display()
                )
            })?;
            let public_path = log.with_extension("pub");
            let public = std::fs::read_to_string(&public_path)
                .ok()
                .and_then(|hex_key| hex::decode(hex_key.trim()).ok())
                .with_context(|| {
                    format!(
                        "cannot read the audit key's public half {} (64 hex digits)",
                        public_path.display()
                    )
                })?;
            let verified = match audit::verify(&log, &text, &public) {
                Ok(verified) => verified,
                Err(broken) => bail!("{broken}"),
            };
            println!(
                "{}: {} lines; the chain and every signature hold",
                log.display(),
                verified.lines
            );
            if verified.torn(&text) {
                println!(
                    "its last line is torn (the daemon stopped while writing it); the daemon sets it aside in {} at its next start",
                    log.with_extension("torn").display()
                );
            }
            Ok(())
        }
        AuditAction::Tail { lines, log } => {
            let log = log.unwrap_or_else(|| app.data_dir.join("audit.log"));
            let text =
                audit::read_log(&log)?.with_context(|| format!("there is no audit log {}", log.display()))?;
            let all: Vec<&str> = text.lines().collect();
            for line in &all[all.len().saturating_sub(lines)..] {
                println!("{}", readable(line));
            }
            if !text.is_empty() && !text.ends_with('\n') {
                println!("(the last line is torn: the daemon stopped while writing it)");
            }
            Ok(())
        }
    }
}

/// `2026-12-02T10:00:00Z  telegram  egress allowed  GET https://api.telegram.org`.
fn readable(line: &str) -> String {
    // The entry is the JSON after the hash (and, in signed lines, the signature).
    let entry = line.find('{').map_or("", |at| &line[at..]);
    let Ok(entry) = serde_json::from_str::<serde_json::Value>(entry) else {
        return format!("(unreadable) {line}");
    };
    let at = entry["at_ms"]
        .as_i64()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(|| "?".to_string(), |t| t.to_string());
    let field = |name: &str| entry[name].as_str().unwrap_or_default().to_string();
    format!(
        "{at}  {:<10} {:<16} {}",
        field("skill"),
        field("decision"),
        field("detail")
    )
}
