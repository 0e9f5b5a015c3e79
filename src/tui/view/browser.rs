//! The sample list (datasets, stage 1 roots, asset roots).

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};
use ratatui::Frame;

use crate::diagnose::Severity;
use crate::tui::app::{App, Filter, SortKey};
use crate::tui::source::Entry;
use crate::tui::theme::Theme;

fn badge(e: &Entry, theme: &Theme) -> Span<'static> {
    match e.worst() {
        None => Span::styled("ok", theme.ok()),
        Some(Severity::Error) => Span::styled(format!("E{}", e.findings.len()), theme.error()),
        Some(Severity::Warning) => Span::styled(format!("W{}", e.findings.len()), theme.warning()),
        Some(Severity::Info) => Span::styled(format!("i{}", e.findings.len()), theme.dim()),
    }
}

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(b) = &app.browser else {
        let text = "A single sample is open: see the other panes (2 mosaics, 3 grid, ...).";
        f.render_widget(
            Paragraph::new(text).block(Block::default().borders(Borders::ALL)),
            area,
        );
        return;
    };
    let filter = match &b.filter {
        Filter::All => "all".to_string(),
        Filter::WithFindings => "with findings".to_string(),
        Filter::Code(c) => format!("code {c}"),
    };
    let sort = match b.sort {
        SortKey::Order => "order",
        SortKey::Name => "name",
        SortKey::Findings => "findings",
        SortKey::K => "K",
    };
    let state = if b.done { "" } else { " indexing…" };
    let title = {
        format!(
            " {} · {} rows ({} shown){state} · filter {filter} · sort {sort}{} ",
            b.kind,
            b.entries.len(),
            b.view.len(),
            if b.search.is_empty() {
                String::new()
            } else {
                format!(" · /{}", b.search)
            }
        )
    };
    let height = area.height.saturating_sub(3) as usize;
    let offset = if b.selected >= height {
        b.selected + 1 - height
    } else {
        0
    };
    let rows: Vec<Row> = b
        .view
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(vi, &i)| {
            let e = &b.entries[i];
            let first = e
                .findings
                .first()
                .map(|f| format!("{}: {}", f.code, f.message))
                .unwrap_or_default();
            let row = Row::new(vec![
                Line::from(badge(e, theme)),
                Line::raw(e.label.clone()),
                Line::raw(e.frames.map_or("-".into(), |x| x.to_string())),
                Line::raw(e.k.map_or("-".into(), |x| x.to_string())),
                Line::raw(if e.video.is_empty() {
                    first
                } else {
                    e.video.clone()
                }),
            ]);
            if vi == b.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Percentage(35),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["", "id", "T", "K", "video / folder"]).style(theme.title()))
    .block(Block::default().borders(Borders::ALL).title(title));
    f.render_widget(table, area);
}
