//! The `?` popup: every key.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keys::HELP;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2).min(HELP.len() as u16 + 3);
    let popup = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, popup);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what, wher)| {
            Line::from(vec![
                Span::styled(format!("{k:<20}"), theme.key()),
                Span::raw(format!("{what} ")),
                Span::styled(format!("[{wher}]"), theme.dim()),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (Esc or ? closes) "),
        ),
        popup,
    );
}
