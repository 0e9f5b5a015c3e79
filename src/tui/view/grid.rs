//! The patch grid of frame t: selected cells coloured by the mosaic they went to, padding
//! distinct, an optional energy underlay, a diff view against disk, and reverse mode (a
//! mosaic's slots coloured by their source frame).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use ratatui::Frame;

use super::kv;
use crate::engine::CellSet;
use crate::tui::app::{App, DiffView, Underlay};
use crate::tui::images::{load_file, ImageCache, ImageKey};
use crate::tui::theme::Theme;

/// What one cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Empty,
    Padding,
    /// Selected, with the mosaic it went to.
    Selected(usize),
    Kept,
    Added,
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellPaint {
    pub kind: CellKind,
    /// Underlay value in [0, 1], when shown.
    pub heat: Option<f32>,
}

impl CellPaint {
    fn color(&self, theme: &Theme) -> Color {
        match (self.kind, self.heat) {
            (CellKind::Selected(i), _) => theme.mosaic(i),
            (CellKind::Kept, _) => Theme::KEPT,
            (CellKind::Added, _) => Theme::ADDED,
            (CellKind::Removed, _) => Theme::REMOVED,
            (CellKind::Padding, _) => Theme::PADDING,
            (CellKind::Empty, Some(h)) => theme.heat(h),
            (CellKind::Empty, None) => Theme::UNSELECTED,
        }
    }

    /// Whether the cell is marked (for glyph rendering without colour).
    fn marked(&self) -> bool {
        matches!(
            self.kind,
            CellKind::Selected(_) | CellKind::Kept | CellKind::Added
        )
    }

    fn glyph2(&self) -> &'static str {
        match self.kind {
            CellKind::Selected(_) | CellKind::Kept => "██",
            CellKind::Added => "++",
            CellKind::Removed => "--",
            CellKind::Padding => "··",
            CellKind::Empty => match self.heat {
                Some(h) if h > 0.66 => "▓▓",
                Some(h) if h > 0.33 => "▒▒",
                Some(h) if h > 0.05 => "░░",
                _ => "  ",
            },
        }
    }
}

/// A `hb x wb` grid of cells. Two columns and one row per cell when the area allows, else
/// half blocks (two cells per terminal row).
pub struct PatchGrid<'a> {
    pub hb: usize,
    pub wb: usize,
    pub cells: &'a [CellPaint],
    pub cursor: Option<(usize, usize)>,
    pub theme: Theme,
}

impl PatchGrid<'_> {
    /// The size it wants inside `area`: (width, height, full).
    pub fn size_in(hb: usize, wb: usize, area: Rect) -> (u16, u16, bool) {
        if area.width as usize >= 2 * wb && area.height as usize >= hb {
            ((2 * wb) as u16, hb as u16, true)
        } else {
            (wb as u16, hb.div_ceil(2) as u16, false)
        }
    }
}

impl Widget for PatchGrid<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (_, _, full) = PatchGrid::size_in(self.hb, self.wb, area);
        let color = self.theme.color;
        let at = |h: usize, w: usize| self.cells[h * self.wb + w];
        if full {
            for h in 0..self.hb.min(area.height as usize) {
                for w in 0..self.wb.min(area.width as usize / 2) {
                    let c = at(h, w);
                    let x = area.x + 2 * w as u16;
                    let y = area.y + h as u16;
                    let cursor = self.cursor == Some((h, w));
                    let (text, style) = if color {
                        let t = if cursor { "[]" } else { "  " };
                        let fg = if cursor { Color::White } else { Color::Reset };
                        (
                            t,
                            Style::new()
                                .bg(c.color(&self.theme))
                                .fg(fg)
                                .add_modifier(if cursor {
                                    Modifier::BOLD
                                } else {
                                    Modifier::empty()
                                }),
                        )
                    } else if cursor {
                        ("[]", Style::new().add_modifier(Modifier::REVERSED))
                    } else {
                        (c.glyph2(), Style::new())
                    };
                    buf.set_string(x, y, text, style);
                }
            }
        } else {
            for row in 0..self.hb.div_ceil(2).min(area.height as usize) {
                for w in 0..self.wb.min(area.width as usize) {
                    let (h0, h1) = (2 * row, 2 * row + 1);
                    let top = at(h0, w);
                    let bottom = (h1 < self.hb).then(|| at(h1, w));
                    let cursor = self
                        .cursor
                        .is_some_and(|(ch, cw)| cw == w && (ch == h0 || ch == h1));
                    let x = area.x + w as u16;
                    let y = area.y + row as u16;
                    let cell = &mut buf[(x, y)];
                    if color {
                        let mut tc = top.color(&self.theme);
                        let mut bc = bottom.map_or(Color::Reset, |b| b.color(&self.theme));
                        if cursor {
                            if self.cursor.map(|c| c.0) == Some(h0) {
                                tc = Color::White;
                            } else {
                                bc = Color::White;
                            }
                        }
                        cell.set_symbol("▀").set_fg(tc).set_bg(bc);
                    } else {
                        let sym = if cursor {
                            "◆"
                        } else {
                            match (top.marked(), bottom.is_some_and(|b| b.marked())) {
                                (true, true) => "█",
                                (true, false) => "▀",
                                (false, true) => "▄",
                                (false, false) => {
                                    if top.kind == CellKind::Padding {
                                        "·"
                                    } else {
                                        " "
                                    }
                                }
                            }
                        };
                        cell.set_symbol(sym);
                    }
                }
            }
        }
    }
}

/// Cells of frame `t` as the app shows them now.
pub fn frame_cells(app: &App, t: usize) -> Vec<CellPaint> {
    let Some(s) = &app.sample else {
        return Vec::new();
    };
    let (hb, wb) = (s.hb, s.wb);
    let n = hb * wb;
    let valid = s
        .valid
        .clone()
        .or_else(|| app.outcome.as_ref().map(|o| o.new.valid.clone()))
        .filter(|v| v.len() == n);
    let selected = s.frame_cells(t);
    let heat: Option<Vec<f32>> = app.outcome.as_ref().and_then(|o| {
        let all = match app.underlay {
            Underlay::None => return None,
            Underlay::Fused => &o.new.scores,
            Underlay::Motion => &o.motion_scores,
            Underlay::Residual => &o.residual_scores,
        };
        let fr = all.get(t * n..(t + 1) * n)?;
        let max = fr.iter().cloned().fold(0.0f32, f32::max);
        Some(
            fr.iter()
                .map(|v| if max > 0.0 { (v / max).max(0.0) } else { 0.0 })
                .collect(),
        )
    });
    let diff = app.outcome.as_ref().and_then(|o| {
        let frames = o.new.t.max(s.frames);
        let (a, b) = match app.diff_view {
            DiffView::Off => return None,
            DiffView::Effect => (&o.new.rows, o.disk.rows.clone()),
            DiffView::Agreement => (&o.disk.rows, s.disk_rows().unwrap_or_default()),
        };
        Some((
            CellSet::from_rows(a, frames, hb, wb),
            CellSet::from_rows(&b, frames, hb, wb),
        ))
    });
    (0..n)
        .map(|i| {
            let (h, w) = (i / wb, i % wb);
            let pad = valid.as_ref().is_some_and(|v| !v[i]);
            let kind = if let Some((new, disk)) = &diff {
                match (new.contains(t, h, w), disk.contains(t, h, w)) {
                    (true, true) => CellKind::Kept,
                    (true, false) => CellKind::Added,
                    (false, true) => CellKind::Removed,
                    _ if pad => CellKind::Padding,
                    _ => CellKind::Empty,
                }
            } else {
                match selected[i] {
                    Some(m) => CellKind::Selected(m),
                    None if pad => CellKind::Padding,
                    None => CellKind::Empty,
                }
            };
            CellPaint {
                kind,
                heat: heat.as_ref().map(|v| v[i]),
            }
        })
        .collect()
}

/// Reverse mode: image `m`'s cells coloured by source frame (heat = t / T).
fn mosaic_cells(app: &App, m: usize) -> Vec<CellPaint> {
    let Some(s) = &app.sample else {
        return Vec::new();
    };
    let frames = s.frames.max(1) as f32;
    (0..s.hb * s.wb)
        .map(|i| {
            let (r, c) = (i / s.wb, i % s.wb);
            match s.by_cell.get(&(m, r, c)) {
                Some(&row) => CellPaint {
                    kind: CellKind::Empty,
                    heat: Some(0.15 + 0.85 * s.positions[row][0] as f32 / frames),
                },
                None => CellPaint {
                    kind: CellKind::Padding,
                    heat: None,
                },
            }
        })
        .collect()
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
        f.render_widget(
            Paragraph::new("No sample open: choose one in the list (1) and press Enter."),
            area,
        );
        return;
    };
    let inner_guess = Rect::new(
        0,
        0,
        area.width.saturating_sub(2 + 30),
        area.height.saturating_sub(2),
    );
    let (gw, gh, _) = PatchGrid::size_in(s.hb, s.wb, inner_guess);
    let [left, right] =
        Layout::horizontal([Constraint::Length(gw + 2), Constraint::Min(20)]).areas(area);
    let left = Rect {
        height: (gh + 2).min(left.height),
        ..left
    };
    let (cells, cursor, title) = if app.reverse {
        let (m, r, c) = app.rev;
        (
            mosaic_cells(app, m),
            Some((r, c)),
            format!(" mosaic {m} slots (colour = source t) "),
        )
    } else {
        let frame_no = frame_number(app, app.t);
        (
            frame_cells(app, app.t),
            Some(app.cursor),
            format!(
                " t {}/{}{} ",
                app.t,
                app.frames().saturating_sub(1),
                frame_no
                    .map(|n| format!(" · frame {n}"))
                    .unwrap_or_default()
            ),
        )
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(left);
    f.render_widget(block, left);
    if cells.len() == s.hb * s.wb {
        f.render_widget(
            PatchGrid {
                hb: s.hb,
                wb: s.wb,
                cells: &cells,
                cursor,
                theme: *theme,
            },
            inner,
        );
    }
    // On tall, wide terminals the mosaic holding the cell is shown under the cell's facts.
    let info = info_lines(app, theme);
    let (info_area, picture_area) =
        if right.height >= 30 && right.width >= 40 && !s.images.is_empty() {
            let [a, b] = Layout::vertical([
                Constraint::Length(info.len() as u16 + 2),
                Constraint::Min(10),
            ])
            .areas(right);
            (a, Some(b))
        } else {
            (right, None)
        };
    f.render_widget(
        Paragraph::new(info).block(Block::default().borders(Borders::ALL).title(" cell ")),
        info_area,
    );
    if let Some(pa) = picture_area {
        let image = if app.reverse {
            Some(app.rev.0)
        } else {
            s.origin_of(app.t, app.cursor.0, app.cursor.1)
                .map(|(_, o)| o.image)
        };
        let block = Block::default().borders(Borders::ALL).title(match image {
            Some(m) => format!(" mosaic {m} "),
            None => " cell not selected ".into(),
        });
        let inner = block.inner(pa);
        f.render_widget(block, pa);
        if let (Some(m), true) = (image, pictures) {
            if let Some(p) = s.images.get(m) {
                let _ = images.draw(f, inner, &ImageKey::File(p.clone()), || load_file(p));
            }
        }
    }
}

fn frame_number(app: &App, t: usize) -> Option<i32> {
    app.sample
        .as_ref()
        .and_then(|s| s.frame_ids.as_ref())
        .and_then(|f| f.get(t).copied())
        .or_else(|| {
            app.outcome
                .as_ref()
                .and_then(|o| o.summary.frame_ids.get(t).copied())
        })
}

fn info_lines(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let Some(s) = &app.sample else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let (t, h, w) = if app.reverse {
        let (m, r, c) = app.rev;
        lines.push(kv(
            theme,
            &[("mosaic", m.to_string()), ("cell", format!("{r},{c}"))],
        ));
        match s.by_cell.get(&(m, r, c)) {
            Some(&i) => {
                let p = s.positions[i];
                lines.push(kv(
                    theme,
                    &[
                        ("slot", s.origins[i].slot.to_string()),
                        ("row", i.to_string()),
                    ],
                ));
                lines.push(Line::styled("← came from", theme.dim()));
                (p[0] as usize, p[1] as usize, p[2] as usize)
            }
            None => {
                lines.push(Line::raw("empty slot (black)"));
                return lines;
            }
        }
    } else {
        (app.t, app.cursor.0, app.cursor.1)
    };
    lines.push(kv(
        theme,
        &[
            ("t", t.to_string()),
            (
                "frame",
                frame_number(app, t).map_or("?".into(), |n| n.to_string()),
            ),
        ],
    ));
    lines.push(kv(theme, &[("h", h.to_string()), ("w", w.to_string())]));
    match s.origin_of(t, h, w) {
        Some((_, o)) => lines.push(kv(
            theme,
            &[
                ("mosaic", o.image.to_string()),
                ("slot", o.slot.to_string()),
            ],
        )),
        None => lines.push(kv(theme, &[("mosaic", "not selected".into())])),
    }
    let pad = s
        .valid
        .as_ref()
        .and_then(|v| v.get(h * s.wb + w).copied())
        .map(|v| !v);
    if pad == Some(true) {
        lines.push(Line::styled("padding cell", theme.warning()));
    }
    match &app.outcome {
        Some(o) => {
            let n = o.new.hb * o.new.wb;
            let i = t * n + h * o.new.wb + w;
            let g = |v: &Vec<f32>| v.get(i).map_or("-".into(), |x| format!("{x:.2}"));
            lines.push(kv(
                theme,
                &[
                    ("motion", g(&o.motion_scores)),
                    ("residual", g(&o.residual_scores)),
                ],
            ));
            lines.push(kv(theme, &[("fused", g(&o.new.scores))]));
            if let Some(ft) = o.summary.frame_types.get(t) {
                lines.push(kv(
                    theme,
                    &[
                        ("type", ft.as_char().to_string()),
                        (
                            "vectors",
                            o.summary
                                .vectors
                                .get(t)
                                .map_or("?".into(), |v| v.to_string()),
                        ),
                    ],
                ));
            }
        }
        None if s.video.is_some() => {
            lines.push(Line::styled("scores: analysing the video…", theme.dim()))
        }
        None => lines.push(Line::styled("scores need the video (--video)", theme.dim())),
    }
    let kept = s.kept_per_frame().get(t).copied().unwrap_or(0);
    lines.push(kv(theme, &[("kept in t", kept.to_string())]));
    lines.push(Line::raw(""));
    let mut legend = vec![Span::styled("mosaic ", theme.dim())];
    for i in 0..s.num_images.min(8) {
        let st = if theme.color {
            Style::new().fg(theme.mosaic(i))
        } else {
            Style::new()
        };
        legend.push(Span::styled(format!("{i}█"), st));
    }
    lines.push(Line::from(legend));
    lines.push(kv(
        theme,
        &[
            ("underlay", app.underlay.name().into()),
            (
                "view",
                match app.diff_view {
                    DiffView::Off => "selection".into(),
                    DiffView::Effect => "knob effect".into(),
                    DiffView::Agreement => "proxy vs files".into(),
                },
            ),
        ],
    ));
    if app.diff_view != DiffView::Off {
        lines.push(Line::styled("█ kept  + added  - removed", theme.dim()));
    }
    lines
}

/// Cells kept, added and removed in frame `t` as the diff view paints them.
pub fn counts(app: &App, t: usize) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for p in frame_cells(app, t) {
        match p.kind {
            CellKind::Kept => c.0 += 1,
            CellKind::Added => c.1 += 1,
            CellKind::Removed => c.2 += 1,
            _ => {}
        }
    }
    c
}
