//! Every selection knob with its value, and what changing one does: the knob's effect (new
//! vs on-disk parameters, both from the engine's analysis) beside the residual proxy's
//! agreement with the files on disk.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

use super::{kv, video_needed};
use crate::engine::RowDiff;
use crate::tui::app::App;
use crate::tui::knobs;
use crate::tui::theme::Theme;

fn diff_lines(theme: &Theme, label: &str, what: &str, d: &RowDiff) -> Vec<Line<'static>> {
    vec![
        Line::from(vec![
            Span::styled(label.to_string(), theme.title()),
            Span::styled(format!(" · {what}"), theme.dim()),
        ]),
        Line::raw(format!(
            "  +{} −{}  recall {:.3}  Jaccard {:.3}",
            d.total_added(),
            d.total_removed(),
            d.recall(),
            d.jaccard()
        )),
    ]
}

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(s) = &app.sample else {
        f.render_widget(Paragraph::new("No sample open."), area);
        return;
    };
    let Some(p) = &app.params else {
        f.render_widget(
            Paragraph::new(
                "The files do not say which parameters made them (no stage 1 or offline meta).",
            )
            .block(Block::default().borders(Borders::ALL)),
            area,
        );
        return;
    };
    let disk = s.disk_params.as_ref();
    let changed = disk.map(|d| knobs::changed(d, p)).unwrap_or_default();
    let list_w = 34.min(area.width / 2);
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(20)]).areas(area);
    let height = left.height.saturating_sub(2) as usize;
    let items = knobs::list(p);
    let offset = if app.knob >= height {
        app.knob + 1 - height
    } else {
        0
    };
    let lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, (k, v))| {
            let mark = if changed.contains(k) { "*" } else { " " };
            let text = format!("{mark}{k:<22}{}", knobs::show(v));
            if i == app.knob {
                Line::styled(text, theme.selected())
            } else if changed.contains(k) {
                Line::styled(text, theme.warning())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    let kind = match p {
        crate::engine::Pipeline::Stage1(_) => "stage 1",
        crate::engine::Pipeline::Offline(_) => "offline",
    };
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {kind} knobs ")),
        ),
        left,
    );
    let block = Block::default().borders(Borders::ALL).title(" effect ");
    let inner = block.inner(right);
    f.render_widget(block, right);
    let mut lines: Vec<Line> = Vec::new();
    lines.push(kv(
        theme,
        &[
            ("residual", app.residual.as_str().to_string()),
            (
                "changed",
                if changed.is_empty() {
                    "none".into()
                } else {
                    changed.join(",")
                },
            ),
        ],
    ));
    if s.stage1_meta.is_some() {
        lines.push(Line::styled(
            "energy knobs: not in the meta, upstream defaults",
            theme.dim(),
        ));
    }
    if let crate::engine::Pipeline::Stage1(sp) = p {
        if sp.keep_first_full_frame && sp.padding_policy == crate::select::PaddingPolicy::Exclude {
            lines.push(Line::styled(
                "keep_first_full_frame + exclude: stage 1 drops padding rows, K shrinks, stage 2 fails",
                theme.warning(),
            ));
        }
    }
    if s.video.is_none() {
        lines.extend(video_needed(app).into_iter().map(Line::raw));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    if app.progress.busy {
        let pr = &app.progress;
        lines.push(Line::styled(
            format!(
                "{} {} {}/{}",
                app.spinner_char(),
                pr.label,
                pr.done,
                pr.total
            ),
            theme.warning(),
        ));
    }
    let Some(o) = &app.outcome else {
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    };
    lines.push(kv(
        theme,
        &[
            ("in use", o.summary.residual_source.as_str().to_string()),
            ("w_res used", format!("{}", o.new.w_res_used)),
            ("rows", o.new.rows.len().to_string()),
        ],
    ));
    lines.extend(diff_lines(
        theme,
        "Knob effect",
        "new vs on-disk params, same analysis",
        &o.effect,
    ));
    match &o.agreement {
        Some(a) => lines.extend(diff_lines(
            theme,
            "Proxy vs files",
            "engine at on-disk params vs disk",
            a,
        )),
        None => lines.push(Line::styled(
            "no selection on disk to compare with",
            theme.dim(),
        )),
    }
    if let Some(e) = &o.new.upstream_failure {
        lines.push(Line::styled(
            format!("upstream would fail: {e}"),
            theme.error(),
        ));
    }
    if let Some(e) = &o.pack_error {
        lines.push(Line::styled(format!("repacking: {e}"), theme.warning()));
    }
    for n in o.new.notes.iter().take(1) {
        lines.push(Line::styled(n.clone(), theme.dim()));
    }
    lines.push(Line::styled(
        format!(
            "decode {:.1}s{} · select {:.2}s · W: write",
            o.decode_seconds,
            if o.cached { " (cached)" } else { "" },
            o.select_seconds
        ),
        theme.dim(),
    ));
    // Rows the text takes once wrapped; the two per-frame charts get what is left.
    let width = inner.width.max(1) as usize;
    let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let text_h = (wrapped as u16).min(inner.height);
    let [txt, c1, c2] = Layout::vertical([
        Constraint::Length(text_h),
        Constraint::Length(2),
        Constraint::Length(2),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), txt);
    let spark = |f: &mut Frame<'_>, a: Rect, label: &str, v: &[usize], st: Style| {
        let [l, r] = Layout::horizontal([Constraint::Length(9), Constraint::Min(1)]).areas(a);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(label.to_string(), theme.dim()))),
            l,
        );
        let data: Vec<u64> = v.iter().map(|&x| x as u64).collect();
        f.render_widget(
            Sparkline::default()
                .data(&data)
                .style(if theme.color { st } else { Style::new() }),
            r,
        );
    };
    spark(
        f,
        c1,
        "effect +",
        &o.effect.added,
        Style::new().fg(Theme::ADDED),
    );
    spark(
        f,
        c2,
        "effect −",
        &o.effect.removed,
        Style::new().fg(Theme::REMOVED),
    );
}
