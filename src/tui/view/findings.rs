//! `check`'s findings for the open sample.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::diagnose::Severity;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(s) = &app.sample else {
        f.render_widget(Paragraph::new("No sample open."), area);
        return;
    };
    let mut lines: Vec<Line> = Vec::new();
    if s.findings.is_empty() {
        lines.push(Line::styled("no findings", theme.ok()));
    }
    for fd in s.findings.iter().skip(app.findings_offset) {
        let st = match fd.severity {
            Severity::Error => theme.error(),
            Severity::Warning => theme.warning(),
            Severity::Info => theme.dim(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{}[{}] ", fd.severity.as_str(), fd.code), st),
            Span::raw(fd.message.clone()),
        ]));
        lines.push(Line::styled(format!("    {}", fd.location), theme.dim()));
        if !fd.hint.is_empty() {
            lines.push(Line::raw(format!("    hint: {}", fd.hint)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("positions: {}", s.positions_source),
        theme.dim(),
    ));
    if let Some(v) = &s.video {
        lines.push(Line::styled(format!("video: {}", v.display()), theme.dim()));
    } else if let Some(v) = &s.video_raw {
        lines.push(Line::styled(
            format!("video (not found here): {v}"),
            theme.warning(),
        ));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" findings: {} ", s.findings.len())),
        ),
        area,
    );
}
