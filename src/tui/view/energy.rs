//! Per-frame energy over the T sampled frames: motion, residual and fused, raw and as
//! normalised for selection, side by side; patches kept per frame; frame types.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};
use ratatui::Frame;

use super::video_needed;
use crate::tui::app::App;
use crate::tui::theme::Theme;

const LABEL: u16 = 14;

fn series(f: &mut Frame<'_>, area: Rect, label: &str, values: &[f64], theme: &Theme, style: Style) {
    let [l, r] = Layout::horizontal([Constraint::Length(LABEL), Constraint::Min(1)]).areas(area);
    let max = values.iter().cloned().fold(0.0, f64::max);
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(label.to_string(), theme.dim()),
            Line::styled(format!("max {}", short(max)), theme.dim()),
        ]),
        l,
    );
    let scale = if max > 0.0 { 1000.0 / max } else { 0.0 };
    let data: Vec<u64> = values
        .iter()
        .map(|v| (v * scale).round().max(0.0) as u64)
        .collect();
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .max(1000)
            .style(if theme.color { style } else { Style::new() }),
        r,
    );
}

fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

fn marker_line(t: usize, frames: usize, text: &str) -> Line<'static> {
    let mut s = " ".repeat(LABEL as usize);
    for i in 0..frames {
        s.push(if i == t { '^' } else { ' ' });
    }
    s.push_str(text);
    Line::raw(s)
}

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(s) = &app.sample else {
        f.render_widget(Paragraph::new("No sample open."), area);
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" energy · t {} ", app.t));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let kept: Vec<f64> = match &app.outcome {
        Some(o) => o
            .new
            .rows_per_frame()
            .into_iter()
            .map(|x| x as f64)
            .collect(),
        None => s.kept_per_frame().into_iter().map(|x| x as f64).collect(),
    };
    let Some(o) = &app.outcome else {
        let mut lines: Vec<Line> = video_needed(app).into_iter().map(Line::raw).collect();
        if s.video.is_some() {
            lines = vec![Line::styled(
                format!(
                    "{} analysing the video: {} {}/{}",
                    app.spinner_char(),
                    app.progress.label,
                    app.progress.done,
                    app.progress.total
                ),
                theme.warning(),
            )];
        }
        lines.push(Line::raw(""));
        let [txt, chart] = Layout::vertical([
            Constraint::Length(lines.len() as u16),
            Constraint::Length(2),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(lines), txt);
        series(
            f,
            chart,
            "kept / frame",
            &kept,
            theme,
            Style::new().fg(ratatui::style::Color::Cyan),
        );
        return;
    };
    let e = &o.new.energy;
    let col = |g: fn(&crate::select::FrameEnergy) -> f64| -> Vec<f64> { e.iter().map(g).collect() };
    let raw = [
        ("motion raw", col(|x| x.motion_raw_sum)),
        ("resid. raw", col(|x| x.residual_raw_sum)),
    ];
    let norm = [
        ("motion norm", col(|x| x.motion_norm_sum)),
        ("resid. norm", col(|x| x.residual_norm_sum)),
    ];
    let fused = col(|x| x.score_sum);
    let types: String = o.summary.frame_types.iter().map(|t| t.as_char()).collect();
    let frames = o.new.t;
    let wide = inner.width >= 2 * (LABEL + frames as u16) + 2;
    let chart_rows: u16 = if wide { 3 } else { 6 };
    // Charts grow on tall terminals; six lines are left for the notes.
    let chart_h = (inner.height.saturating_sub(2 + 6) / chart_rows).clamp(2, 8);
    let mut constraints = vec![Constraint::Length(1), Constraint::Length(1)];
    constraints.extend(std::iter::repeat_n(
        Constraint::Length(chart_h),
        chart_rows as usize,
    ));
    constraints.push(Constraint::Min(0));
    let rows = Layout::vertical(constraints).split(inner);
    let cm = ratatui::style::Color::Rgb(80, 170, 240);
    let cr = ratatui::style::Color::Rgb(240, 150, 60);
    let cf = ratatui::style::Color::Rgb(230, 90, 200);
    let ck = ratatui::style::Color::Rgb(120, 210, 120);
    let ft = o
        .summary
        .frame_types
        .get(app.t)
        .map_or('?', |t| t.as_char());
    let fid = o.summary.frame_ids.get(app.t).copied().unwrap_or(-1);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{:<w$}", "type", w = LABEL as usize), theme.dim()),
            Span::raw(types),
        ])),
        rows[0],
    );
    f.render_widget(
        Paragraph::new(marker_line(
            app.t,
            frames,
            &format!(" t={} frame {fid} {ft}", app.t),
        )),
        rows[1],
    );
    if wide {
        for (i, ((ln, lv), (nn, nv))) in raw.iter().zip(norm.iter()).enumerate() {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(rows[2 + i]);
            let c = if i == 0 { cm } else { cr };
            series(f, a, ln, lv, theme, Style::new().fg(c));
            series(f, b, nn, nv, theme, Style::new().fg(c));
        }
        let [a, b] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(rows[4]);
        series(f, a, "fused score", &fused, theme, Style::new().fg(cf));
        series(f, b, "kept / frame", &kept, theme, Style::new().fg(ck));
    } else {
        series(f, rows[2], raw[0].0, &raw[0].1, theme, Style::new().fg(cm));
        series(
            f,
            rows[3],
            norm[0].0,
            &norm[0].1,
            theme,
            Style::new().fg(cm),
        );
        series(f, rows[4], raw[1].0, &raw[1].1, theme, Style::new().fg(cr));
        series(
            f,
            rows[5],
            norm[1].0,
            &norm[1].1,
            theme,
            Style::new().fg(cr),
        );
        series(
            f,
            rows[6],
            "fused score",
            &fused,
            theme,
            Style::new().fg(cf),
        );
        series(
            f,
            rows[7],
            "kept / frame",
            &kept,
            theme,
            Style::new().fg(ck),
        );
    }
    let last = rows[rows.len() - 1];
    let t = app.t;
    let v = |x: &[f64]| x.get(t).copied().map_or("-".into(), short);
    let notes = vec![
        Line::from(vec![
            Span::styled("at t: ", theme.dim()),
            Span::raw(format!(
                "motion {} → {}  residual {} → {}  fused {}  kept {}",
                v(&raw[0].1), v(&norm[0].1), v(&raw[1].1), v(&norm[1].1), v(&fused), v(&kept)
            )),
        ]),
        Line::styled(
            "I frames carry no motion vectors: their motion energy is 0, so their patches score on residual alone.",
            theme.dim(),
        ),
        Line::styled(
            "Each frame is divided by its own 95th percentile before the global top-k: a quiet frame's small motion counts as much as a busy frame's.",
            theme.dim(),
        ),
        Line::styled(format!("residual source: {}", o.summary.residual_source.as_str()), theme.dim()),
    ];
    f.render_widget(
        Paragraph::new(notes).wrap(ratatui::widgets::Wrap { trim: true }),
        last,
    );
}
