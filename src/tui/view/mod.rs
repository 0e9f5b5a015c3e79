//! Drawing: one function per pane, each a function of the app's state (plus the picture
//! cache, which only remembers encodings).

mod browser;
mod doctor;
mod energy;
mod findings;
pub mod grid;
mod help;
mod mosaics;
mod params;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, InputMode, Pane};
use super::images::ImageCache;
use super::theme::Theme;

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App, images: &mut ImageCache, theme: &Theme) {
    let area = f.area();
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(f, tabs, app, theme);
    // While a popup is up, pictures are not drawn: nothing of them can show through.
    let pictures = !app.help;
    match app.pane {
        Pane::Browser => browser::draw(f, body, app, theme),
        Pane::Doctor => match &app.doctor {
            Some(d) => doctor::draw(f, body, d, theme),
            None => f.render_widget(
                Paragraph::new(
                    "The doctor pane works on an eval asset root: open one (codecscope ASSETS_ROOT).",
                )
                .block(ratatui::widgets::Block::default().borders(ratatui::widgets::Borders::ALL)),
                body,
            ),
        },
        Pane::Mosaics => mosaics::draw(f, body, app, images, theme, pictures),
        Pane::Grid => grid::draw(f, body, app, images, theme, pictures),
        Pane::Energy => energy::draw(f, body, app, theme),
        Pane::Params => params::draw(f, body, app, theme),
        Pane::Findings => findings::draw(f, body, app, theme),
    }
    draw_status(f, status, app, theme);
    if app.help {
        help::draw(f, body, theme);
    }
}

fn draw_tabs(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.name());
        let style = if *p == app.pane {
            theme.tab_active()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(label, style));
    }
    if let Some(s) = &app.sample {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(s.title.clone(), theme.title()));
    } else if let Some(b) = &app.browser {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(b.kind.clone(), theme.title()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let mut spans: Vec<Span> = Vec::new();
    match app.input {
        InputMode::Search => spans.push(Span::styled(format!("/{}_", app.input_text), theme.key())),
        InputMode::Jump => spans.push(Span::styled(
            format!("frame t: {}_", app.input_text),
            theme.key(),
        )),
        InputMode::Knob => {
            let name = app.knob_names().get(app.knob).cloned().unwrap_or_default();
            spans.push(Span::styled(
                format!("{name} = {}_", app.input_text),
                theme.key(),
            ));
        }
        InputMode::Normal => {
            if app.progress.busy {
                let p = &app.progress;
                let pct = (p.done * 100)
                    .checked_div(p.total)
                    .map_or(String::new(), |x| format!(" {x}%"));
                spans.push(Span::styled(
                    format!("{} {}{pct}  ", app.spinner_char(), p.label),
                    theme.warning(),
                ));
            }
            if let Some(e) = &app.engine_error {
                spans.push(Span::styled(format!("engine: {e}  "), theme.error()));
            }
            if !app.message.is_empty() {
                spans.push(Span::raw(format!("{}  ", app.message)));
            }
            spans.push(Span::styled("? help  q quit", theme.dim()));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A line of `label: value` pairs.
pub(crate) fn kv(theme: &Theme, pairs: &[(&str, String)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(format!("{k} "), theme.dim()));
        spans.push(Span::styled(v.clone(), Style::new()));
    }
    Line::from(spans)
}

/// What to say where the video is needed.
pub(crate) fn video_needed(app: &App) -> Vec<String> {
    let raw = app
        .sample
        .as_ref()
        .and_then(|s| s.video_raw.clone())
        .unwrap_or_else(|| "(the data names none)".into());
    vec![
        "This pane needs the video.".to_string(),
        format!("The data names: {raw}"),
        "It was not found here. Point to it with --video PATH,".to_string(),
        "or rewrite a moved prefix with --remap FROM=TO.".to_string(),
    ]
}
