//! `hauski audit verify`: checks the skills' audit log (its hash chain and
//! Ed25519 signatures) against the public half of the audit key.

use anyhow::{Context, Result, bail};

use crate::cli::AuditAction;
use hauski::engines::App;
use hauski_skills::host::audit;

pub fn run(app: &App, action: AuditAction) -> Result<()> {
    match action {
        AuditAction::Verify { log } => {
            let log = log.unwrap_or_else(|| app.data_dir.join("audit.log"));
            let text = std::fs::read_to_string(&log).with_context(|| {
                format!(
                    "cannot read the audit log {}; it is written once `hauski serve` has loaded the skills",
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
            if let Err(broken) = audit::verify(&log, &text, &public) {
                bail!("{broken}");
            }
            println!(
                "{}: {} lines; the chain and every signature hold",
                log.display(),
                text.lines().count()
            );
            Ok(())
        }
    }
}
