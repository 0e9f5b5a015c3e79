//! The doctor pane: per video of an asset root, HIT or MISS as evaluation would find it, and
//! why; Enter opens the folder evaluation would use.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Row, Table};
use ratatui::Frame;

use crate::diagnose::eval_lookup::LookupStatus;
use crate::tui::app::Doctor;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame<'_>, area: Rect, d: &Doctor, theme: &Theme) {
    let hits = d
        .rows
        .iter()
        .filter(|r| r.status == LookupStatus::Hit)
        .count();
    let title = format!(
        " doctor · root {} · {} videos: {hits} HIT, {} not{} · Enter opens eval's folder ",
        d.root.display(),
        d.rows.len(),
        d.rows.len() - hits,
        if d.done { "" } else { " · looking up…" }
    );
    let height = area.height.saturating_sub(3) as usize;
    let offset = if d.selected >= height {
        d.selected + 1 - height
    } else {
        0
    };
    let rows: Vec<Row> = d
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let (badge, style) = match r.status {
                LookupStatus::Hit => ("HIT", theme.ok()),
                LookupStatus::Miss => ("MISS", theme.error()),
                LookupStatus::SilentMiss => ("MISS*", theme.error()),
                LookupStatus::Off => ("OFF", theme.warning()),
            };
            let why = match (&r.chosen, r.status) {
                (Some(c), LookupStatus::Hit) => format!("{} images from {}", r.images, c.display()),
                _ => format!(
                    "{}{}",
                    r.reason
                        .as_deref()
                        .map(|x| format!("{x}: "))
                        .unwrap_or_default(),
                    r.message
                ),
            };
            let row = Row::new(vec![
                Line::styled(badge, style),
                Line::raw(r.video.clone()),
                Line::raw(why),
            ]);
            if i == d.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Percentage(35),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["", "video", "why"]).style(theme.title()))
    .block(Block::default().borders(Borders::ALL).title(title));
    f.render_widget(table, area);
}
