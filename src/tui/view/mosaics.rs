//! The mosaics: all of them as a strip, or one large.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::images::{load_file, ImageCache, ImageKey};
use crate::tui::theme::Theme;

fn key_and_name(app: &App, i: usize) -> Option<(ImageKey, String)> {
    let s = app.sample.as_ref()?;
    let disk = !s.images.is_empty() && !app.show_whatif;
    if disk {
        let p = s.images.get(i)?;
        Some((
            ImageKey::File(p.clone()),
            p.file_name()?.to_string_lossy().into_owned(),
        ))
    } else {
        let o = app.outcome.as_ref()?;
        o.repacked.get(i)?;
        Some((
            ImageKey::WhatIf {
                generation: app.outcome_generation,
                index: i,
            },
            format!("re-selected {i}"),
        ))
    }
}

fn draw_one(
    f: &mut Frame<'_>,
    area: Rect,
    app: &App,
    images: &mut ImageCache,
    theme: &Theme,
    i: usize,
    pictures: bool,
) {
    let Some((key, name)) = key_and_name(app, i) else {
        return;
    };
    let selected = i == app.mosaic;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if selected { theme.key() } else { theme.dim() })
        .title(format!("{i} {name}"));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if !pictures || inner.width < 2 || inner.height < 1 {
        return;
    }
    let load = || match &key {
        ImageKey::File(p) => load_file(p),
        ImageKey::WhatIf { index, .. } => app
            .outcome
            .as_ref()
            .and_then(|o| o.repacked.get(*index).cloned())
            .map(image::DynamicImage::ImageRgb8)
            .ok_or_else(|| "no such image".to_string()),
    };
    if let Err(e) = images.draw(f, inner, &key, load) {
        f.render_widget(
            Paragraph::new(e)
                .wrap(Wrap { trim: true })
                .style(theme.dim()),
            inner,
        );
    }
}

pub fn draw(
    f: &mut Frame<'_>,
    area: Rect,
    app: &App,
    images: &mut ImageCache,
    theme: &Theme,
    pictures: bool,
) {
    let Some(s) = &app.sample else {
        f.render_widget(Paragraph::new("No sample open."), area);
        return;
    };
    let n = app.image_count();
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let source = if app.show_whatif || s.images.is_empty() {
        "re-selected by the engine (new parameters)"
    } else {
        "on disk"
    };
    f.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "{n} mosaics, {source} · {} · ←→ choose · z {} · w on-disk/re-selected",
                if app.mosaic_large {
                    "one large"
                } else {
                    "strip"
                },
                if app.mosaic_large { "strip" } else { "large" }
            ),
            theme.dim(),
        )),
        head,
    );
    if n == 0 {
        let msg = if s.video.is_some() {
            "No mosaics on disk; the engine's mosaics appear when the analysis is done."
        } else {
            "No mosaics here, and no video to make them from (--video)."
        };
        f.render_widget(Paragraph::new(msg), body);
        return;
    }
    let pictures = pictures && images.enabled();
    if app.mosaic_large {
        draw_one(f, body, app, images, theme, app.mosaic.min(n - 1), pictures);
        return;
    }
    // A strip: one row when each gets at least 16 columns, else two rows.
    let per_row = if body.width as usize / n >= 16 {
        n
    } else {
        n.div_ceil(2)
    };
    let rows = n.div_ceil(per_row);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(body);
    for (r, ra) in row_areas.iter().enumerate() {
        let cols =
            Layout::horizontal(vec![Constraint::Ratio(1, per_row as u32); per_row]).split(*ra);
        for (c, ca) in cols.iter().enumerate() {
            let i = r * per_row + c;
            if i < n {
                draw_one(f, *ca, app, images, theme, i, pictures);
            }
        }
    }
    if !pictures && !images.enabled() {
        // Names and sizes stand in for the pictures.
    }
}
