//! The editor plugins against a real daemon: `hauski serve` with the small
//! models and a token, and the plugins' own clients and logic (built by
//! `npm run build` in `plugins/`) driving it from node's test runner:
//! routes and fields checked against /openapi.json, a PR draft for a real
//! diff, a canvas suggestion, hints, and the commentary's threshold.

use std::process::Command;

use crate::common::server::Server;
use crate::common::{fresh_dir, hauski_with_data, repo, require_gemma};

const TOKEN: &str = "editor-plugins-token";

#[test]
fn the_editor_plugins_work_against_a_real_daemon() {
    require_gemma();
    let plugins = repo().join("plugins");
    assert!(
        plugins.join("out/test-integration").is_dir(),
        "the plugins are not built: run `npm ci` and `npm run build` in plugins/ (scripts/test.sh does)"
    );
    let server = Server::start(hauski_with_data(&fresh_dir("plugins-data")), &["--token", TOKEN]);
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1", "out/test-integration/"])
        .current_dir(&plugins)
        .env("HAUSKI_URL", &server.base)
        .env("HAUSKI_TOKEN", TOKEN)
        .output()
        .expect("node runs (scripts/install-deps.sh installs it)");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the plugins' integration tests failed:\n{report}\ndaemon log:\n{}",
        server.log()
    );
    assert!(
        report.contains("# fail 0") && report.contains("# pass 6"),
        "{report}"
    );
    // Exactly the two crossings the tests made: the burst's and the spoken one.
    let log = server.log();
    assert_eq!(log.matches("editor commentary").count(), 2, "{log}");
    assert!(
        log.contains("subject=hauski.notification") && log.contains("your editor"),
        "the spoken comment did not reach the bus:\n{log}"
    );
}
