//! The inspector at app level: synthetic key events, the engine run synchronously on the
//! fixture's video, and the numbers the parameter panel and the grid's diff view show.

mod common;

use std::path::{Path, PathBuf};

use codecscope::engine::Mode;
use codecscope::tui::app::{App, DiffView, InputMode, Pane};
use codecscope::tui::grid_counts;
use codecscope::tui::keys::action_for;
use codecscope::tui::sample::LoadOptions;
use codecscope::tui::source::{self, Opened};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn stage2_dir(root: &Path) -> PathBuf {
    std::fs::read_dir(root.join("stage2"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap()
}

fn key(app: &mut App, code: KeyCode) {
    let ev = KeyEvent::new(code, KeyModifiers::NONE);
    if let Some(a) = action_for(ev, app.input) {
        app.update(a);
    }
}

fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn open(path: &Path) -> App {
    let o = LoadOptions {
        num_images: 8,
        ..LoadOptions::default()
    };
    let opened = source::open(path, &o).unwrap();
    let mut app = App::new(o, Mode::Synchronous);
    match opened {
        Opened::One(s) => {
            assert!(
                s.video.is_some(),
                "the fixture's video is found beside stage 1"
            );
            app.set_sample(*s);
        }
        Opened::Many { .. } => panic!("one sample expected"),
    }
    app
}

#[test]
fn knob_edit_reselects_and_the_diff_counts_add_up() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = open(&stage2_dir(&fx.join("upstream-demo")));
    let o = app.outcome.clone().expect("synchronous engine answered");
    assert!(app.engine_error.is_none(), "{:?}", app.engine_error);
    // Same parameters, same analysis: no effect.
    assert!(o.effect.is_identical());
    assert_eq!(o.new.rows.len(), 10368);
    // The default residual is the project's own decoder in upstream's residual mode, so the
    // engine at the on-disk parameters agrees with upstream's files exactly.
    assert_eq!(o.summary.residual_source.as_str(), "exact");
    let a = o.agreement.as_ref().unwrap();
    assert_eq!(a.recall(), 1.0, "exact residual vs upstream's files");
    assert_eq!(o.summary.frame_ids.len(), 64);
    assert_eq!(o.repacked.len(), 8);

    // Params pane, down to keep_frames_equiv, one step up.
    keys(&mut app, "5");
    assert_eq!(app.pane, Pane::Params);
    keys(&mut app, "jjjj");
    assert_eq!(app.knob_names()[app.knob], "keep_frames_equiv");
    key(&mut app, KeyCode::Right);
    let o2 = app.outcome.clone().unwrap();
    assert!(!o2.cached || o2.decode_seconds == o.decode_seconds);
    assert_eq!(o2.new.rows.len(), 11664);
    assert_eq!(o2.effect.total_added(), 1296, "one frame's worth more");
    assert_eq!(
        o2.effect.total_removed(),
        0,
        "a larger top-k keeps every row"
    );
    assert!((o2.effect.recall() - 1.0).abs() < 1e-12);
    // The proxy's agreement does not move with the knob.
    assert_eq!(o2.agreement.as_ref().unwrap().common, a.common);

    // Grid diff view: per frame, the added cells are the effect's per-frame counts.
    keys(&mut app, "3d");
    assert_eq!(app.diff_view, DiffView::Effect);
    for t in 0..64 {
        let (kept, added, removed) = grid_counts(&app, t);
        assert_eq!(added, o2.effect.added[t], "t {t}");
        assert_eq!(removed, o2.effect.removed[t], "t {t}");
        assert!(kept <= 1296);
    }
    // Second press: the proxy's agreement with the files, per frame.
    keys(&mut app, "d");
    assert_eq!(app.diff_view, DiffView::Agreement);
    let agree = o2.agreement.as_ref().unwrap();
    for t in 0..64 {
        let (_, added, removed) = grid_counts(&app, t);
        assert_eq!(
            (added, removed),
            (agree.added[t], agree.removed[t]),
            "t {t}"
        );
    }

    // Type a value: w_res = 0 (motion only).
    keys(&mut app, "5");
    for _ in 0..20 {
        key(&mut app, KeyCode::Up);
    }
    let w_res = app.knob_names().iter().position(|k| k == "w_res").unwrap();
    for _ in 0..w_res {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.input, InputMode::Knob);
    keys(&mut app, "0");
    key(&mut app, KeyCode::Enter);
    let o3 = app.outcome.clone().unwrap();
    assert_eq!(o3.new.w_res_used, 0.0);
    assert!(
        o3.effect.total_removed() > 0,
        "motion only drops residual-driven rows"
    );

    // Back to the on-disk parameters: no effect again.
    keys(&mut app, "0");
    assert!(app.outcome.as_ref().unwrap().effect.is_identical());
}

#[test]
fn write_goes_beside_the_originals() {
    let Some(fx) = common::fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("upstream-demo");
    common::copy_tree(&fx.join("upstream-demo"), &root);
    let dir = stage2_dir(&root);
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let mut app = open(&dir);
    keys(&mut app, "5");
    let w_res = app.knob_names().iter().position(|k| k == "w_res").unwrap();
    for _ in 0..w_res {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Left); // w_res 0.75
    assert!(app.outcome.as_ref().unwrap().pack_error.is_none());
    keys(&mut app, "W");
    assert!(app.message.starts_with("wrote "), "{}", app.message);
    let written: Vec<PathBuf> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".whatif-"))
        .collect();
    assert_eq!(written.len(), 1);
    let w = &written[0];
    for i in 0..8 {
        assert!(w.join(format!("ytb_XwB-dkS5BVM_{i:03}.jpg")).is_file());
    }
    let rows = codecscope::formats::npy::read_rows(&w.join("visidx_thw.npy")).unwrap();
    assert_eq!(rows.len(), 8 * 1296);
    assert!(w.join("positions_thw.npy").is_file());
    assert!(w.join("whatif.json").is_file());
    let after: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(before.len(), after.len(), "originals untouched");
}

#[test]
fn residual_source_switch_decodes_again_and_is_recorded() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = open(&stage2_dir(&fx.join("upstream-demo")));
    // exact -> emulate: the stock-FFmpeg proxy agrees with upstream's files only in part
    // (SPEC 2.2: about 0.8-0.9).
    keys(&mut app, "5R");
    let o = app.outcome.clone().unwrap();
    assert_eq!(o.summary.residual_source.as_str(), "emulate");
    let recall = o.agreement.as_ref().unwrap().recall();
    assert!(recall > 0.8 && recall < 0.99, "emulator recall {recall}");
    // -> frame-diff -> none.
    keys(&mut app, "RR");
    let o = app.outcome.clone().unwrap();
    assert_eq!(o.summary.residual_source.as_str(), "none");
    assert_eq!(o.new.w_res_used, 0.0);
    assert!(!o.cached);
    // Energy pane shows the charts and says why I frames score zero motion.
    assert_eq!(o.summary.frame_types[0].as_char(), 'I');
    assert_eq!(o.new.energy[0].motion_raw_sum, 0.0);
}

#[test]
fn a_video_alone_shows_the_engines_selection() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = open(&fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4"));
    let o = app.outcome.clone().expect("engine answered");
    assert!(o.agreement.is_none(), "nothing on disk to agree with");
    assert_eq!(app.image_count(), 8, "the engine's mosaics stand in");
    let s = app.sample.as_ref().unwrap();
    assert_eq!(s.positions.len(), 10368);
    assert_eq!(
        s.kept_per_frame()[0],
        1296,
        "upstream's run script keeps t=0 whole"
    );
    assert_eq!(s.frame_ids.as_ref().map(Vec::len), Some(64));
    // Underlay: the fused heat of an unselected cell is in [0, 1].
    keys(&mut app, "3uu");
    let cells = codecscope::tui::view::grid::frame_cells(&app, 5);
    assert!(cells
        .iter()
        .all(|c| c.heat.is_some_and(|h| (0.0..=1.0).contains(&h))));
    assert!(cells.iter().any(|c| c.heat.is_some_and(|h| h > 0.5)));
}

#[test]
fn asset_folder_with_video_uses_the_offline_selection() {
    let Some(fx) = common::fixtures() else { return };
    let o = LoadOptions {
        num_images: 8,
        video: Some(fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4")),
        ..LoadOptions::default()
    };
    let dir = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    let mut app = App::new(o.clone(), Mode::Synchronous);
    match source::open(&dir, &o).unwrap() {
        Opened::One(s) => app.set_sample(*s),
        Opened::Many { .. } => panic!(),
    }
    let out = app.outcome.clone().expect("engine answered");
    assert!(app.engine_error.is_none(), "{:?}", app.engine_error);
    assert_eq!(out.new.rows.len(), 8 * 1296);
    let a = out.agreement.as_ref().unwrap();
    assert!(a.recall() > 0.8, "offline recall {}", a.recall());
    // The same request again is answered "unchanged" and keeps the result.
    app.request_selection();
    assert!(app.outcome.is_some());
    assert!(std::sync::Arc::ptr_eq(app.outcome.as_ref().unwrap(), &out));
    // topk_mode is an offline knob.
    keys(&mut app, "5");
    assert!(app.knob_names().contains(&"topk_mode".to_string()));
}
