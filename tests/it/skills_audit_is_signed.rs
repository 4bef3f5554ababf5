//! The skills' audit log as its owner checks it: after `hauski serve` has
//! loaded the built-in skills, `hauski audit verify` finds every line
//! chained and signed; a line edited afterwards, even with its hash left
//! as it was, is named.

use crate::common::server::Server;
use crate::common::{fresh_dir, hauski_with_data, require_gemma, run_err, run_ok};

#[test]
fn the_audit_log_verifies_until_a_line_is_edited() {
    require_gemma();
    let data = fresh_dir("audit-data");
    let server = Server::start(hauski_with_data(&data), &[]);
    server.wait_for("the skills to load", || {
        std::fs::read_to_string(data.join("audit.log")).is_ok_and(|log| log.lines().count() >= 3)
    });
    drop(server);

    let verified = run_ok(hauski_with_data(&data).args(["audit", "verify"]));
    assert!(verified.contains("every signature hold"), "{verified}");
    let log = std::fs::read_to_string(data.join("audit.log")).expect("the audit log");
    for skill in ["lists", "timers", "reminders"] {
        assert!(log.contains(&format!("\"skill\":\"{skill}\"")), "{log}");
    }

    // The daemon's own start is there too: its config and models.
    assert!(
        log.contains("\"decision\":\"config loaded\"") && log.contains("\"decision\":\"model loaded\""),
        "{log}"
    );

    let edited_line = 1 + log
        .lines()
        .position(|l| l.contains("\"decision\":\"loaded\""))
        .expect("a skill's load");
    let edited = log.replacen("\"decision\":\"loaded\"", "\"decision\":\"refused\"", 1);
    std::fs::write(data.join("audit.log"), edited).expect("edit the log");
    let refused = run_err(hauski_with_data(&data).args(["audit", "verify"]));
    assert!(
        refused.contains(&format!("line {edited_line}:")) && refused.contains("hash does not match"),
        "{refused}"
    );
}
