//! How `hauski top` draws its state: a title with the process's figures,
//! rooms and what is being said on the left, every stage's latency
//! against its budget on the right, alarms underneath.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

use super::Top;

pub fn draw(frame: &mut Frame<'_>, top: &Top) {
    let [title, body, alarms] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(8), Constraint::Length(4)])
            .areas(frame.area());
    frame.render_widget(Paragraph::new(title_lines(top)), title);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
    let [rooms, live] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(left);
    draw_rooms(frame, top, rooms);
    draw_live(frame, top, live);
    draw_stages(frame, top, right);
    draw_alarms(frame, top, alarms);
}

fn title_lines(top: &Top) -> Vec<Line<'static>> {
    let figure = |value: Option<f64>, show: fn(f64) -> String| value.map_or_else(|| "–".to_string(), show);
    let mut first = vec![
        Span::styled("HausKI top ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(top.api.clone()),
    ];
    if let Some(trouble) = &top.trouble {
        first.push(Span::styled(format!("  {trouble}"), Style::new().fg(Color::Red)));
    }
    let second = format!(
        "CPU {}  RSS {}  LLM waiting {} busy {}  events {}{}  (q quits)",
        figure(top.cpu_percent, |p| format!("{p:.1} %")),
        figure(top.rss_bytes, |b| format!("{:.0} MB", b / 1e6)),
        figure(top.llm_waiting, |n| format!("{n:.0}")),
        figure(top.llm_busy, |n| format!("{n:.0}")),
        top.events_seen,
        if top.events_lost > 0 {
            format!(" ({} lost)", top.events_lost)
        } else {
            String::new()
        },
    );
    vec![Line::from(first), Line::from(second)]
}

fn draw_rooms(frame: &mut Frame<'_>, top: &Top, area: Rect) {
    let mut lines = vec![Line::from(format!(
        "main  profile {}",
        top.profile.as_deref().unwrap_or("(unchanged since top started)")
    ))];
    for (room, seen) in &top.rooms {
        let also = if seen.also_heard.is_empty() {
            String::new()
        } else {
            format!("  also heard: {}", seen.also_heard.join(", "))
        };
        lines.push(Line::from(format!(
            "{room}  {} turn{}  {:.1} dBFS{also}",
            seen.turns,
            if seen.turns == 1 { "" } else { "s" },
            seen.level_db
        )));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title("Rooms (satellites below main)");
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: true }), area);
}

fn draw_live(frame: &mut Frame<'_>, top: &Top, area: Rect) {
    let said = |label: &str, text: &Option<String>| {
        Line::from(vec![
            Span::styled(format!("{label:<9}"), Style::new().add_modifier(Modifier::DIM)),
            Span::raw(text.clone().unwrap_or_default()),
        ])
    };
    let lines = vec![
        said("hearing", &top.partial),
        said("question", &top.question),
        said("answer", &top.answer),
        said("speaking", &top.speaking_on),
    ];
    let block = Block::default().borders(Borders::ALL).title("Live");
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: true }), area);
}

fn draw_stages(frame: &mut Frame<'_>, top: &Top, area: Rect) {
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.0}"));
    let mut names: Vec<&String> = top.stages.keys().chain(top.budgets_ms.keys()).collect();
    names.sort();
    names.dedup();
    let rows = names.into_iter().map(|stage| {
        let figures = top.stages.get(stage);
        let budget = top.budgets_ms.get(stage).copied();
        let p95 = figures.and_then(|f| f.p95_ms);
        let (verdict, style) = match (p95, budget) {
            _ if top.alarms.contains_key(stage) => ("OVER", Style::new().fg(Color::Red)),
            (Some(p95), Some(budget)) if p95 > budget => ("near", Style::new().fg(Color::Yellow)),
            (Some(_), Some(_)) => ("ok", Style::new().fg(Color::Green)),
            _ => ("", Style::new()),
        };
        Row::new(vec![
            stage.clone(),
            ms(figures.and_then(|f| f.last_ms)),
            ms(p95).replace("inf", "∞"),
            ms(budget),
            format!("{:.0}", figures.map_or(0.0, |f| f.count)),
            verdict.to_string(),
        ])
        .style(style)
    });
    let header = Row::new(["stage", "last ms", "p95 ≤ ms", "budget", "n", ""])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(26),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(5),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title("Stages"));
    frame.render_widget(table, area);
}

fn draw_alarms(frame: &mut Frame<'_>, top: &Top, area: Rect) {
    let lines: Vec<Line<'_>> = if top.alarms.is_empty() {
        vec![Line::from("none")]
    } else {
        top.alarms
            .iter()
            .map(|(stage, alarm)| {
                let p95 = if alarm.p95_ms.is_nan() {
                    "over".to_string()
                } else {
                    format!("p95 {:.0} ms", alarm.p95_ms)
                };
                Line::styled(
                    format!("{stage}: {p95} against a budget of {:.0} ms", alarm.budget_ms),
                    Style::new().fg(Color::Red),
                )
            })
            .collect()
    };
    let block = Block::default().borders(Borders::ALL).title("Alarms");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The view as plain text, `width` × `height` cells: `hauski top --once`
/// prints it, and the tests read it.
pub fn to_text(top: &Top, width: u16, height: u16) -> Result<String, std::io::Error> {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))?;
    terminal.draw(|frame| draw(frame, top))?;
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .filter_map(|x| buffer.cell((x, y)).map(|c| c.symbol().to_string()))
            .collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    Ok(text)
}
