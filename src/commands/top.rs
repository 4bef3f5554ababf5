//! `hauski top`: the live terminal view of a running daemon (ratatui), or
//! one view as text with `--once`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::cli::DaemonArgs;
use hauski::engines::App;
use hauski::top::feed::{self, DaemonApi, Update};
use hauski::top::{Top, view};

/// How often the view is redrawn while nothing happens.
const REDRAW: Duration = Duration::from_millis(250);

pub fn run(app: &App, once: bool, args: &DaemonArgs) -> Result<()> {
    let daemon = DaemonApi {
        api: args.api.clone(),
        token: args.token.clone().filter(|t| !t.is_empty()),
    };
    let budgets = app.config.limits.stage_budgets_ms.clone();
    let mut top = Top::new(&daemon.api, budgets);
    if once {
        let text = feed::metrics_once(&daemon).map_err(|e| anyhow!(e))?;
        top.apply_metrics(&text, 0.0);
        print!("{}", view::to_text(&top, 120, 30)?);
        return Ok(());
    }
    let updates = feed::start(&daemon).context("cannot start reading the daemon")?;
    let mut terminal = ratatui::try_init().context("cannot take over the terminal")?;
    let started = Instant::now();
    let shown = (|| -> Result<()> {
        loop {
            for update in updates.try_iter() {
                match update {
                    Update::Event { subject, payload } => top.apply_event(&subject, &payload),
                    Update::Metrics(text) => top.apply_metrics(&text, started.elapsed().as_secs_f64()),
                    Update::Trouble(reason) => top.trouble = Some(reason),
                }
            }
            terminal.draw(|frame| view::draw(frame, &top))?;
            if event::poll(REDRAW)?
                && let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
                && (matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
                    || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)))
            {
                return Ok(());
            }
        }
    })();
    ratatui::try_restore().context("cannot give the terminal back")?;
    shown
}
