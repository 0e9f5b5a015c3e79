//! Each pane rendered into ratatui's `TestBackend` on the upstream fixture, with assertions
//! on the text and the cells that matter. No video is used here (see `tui_app.rs`).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use codecscope::engine::Mode;
use codecscope::formats::npy;
use codecscope::tui::app::{Action, App, Pane};
use codecscope::tui::images::ImageCache;
use codecscope::tui::sample::{LoadOptions, SampleData};
use codecscope::tui::source::{self, Opened};
use codecscope::tui::theme::Theme;
use codecscope::tui::view;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use ratatui_image::picker::Picker;

const REMOTE: &str = "/workspace/OV-Encoder-Llava/examples/training_data_demo/output";

fn stage2_dir(fx: &Path) -> PathBuf {
    std::fs::read_dir(fx.join("upstream-demo/stage2"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap()
}

fn opts() -> LoadOptions {
    LoadOptions {
        num_images: 8,
        ..LoadOptions::default()
    }
}

/// Opens one sample without its video (so no engine runs).
fn sample_app(path: &Path) -> App {
    let mut s = match source::open(path, &opts()).unwrap() {
        Opened::One(s) => *s,
        Opened::Many { .. } => panic!("expected one sample"),
    };
    s.video = None;
    let mut app = App::new(opts(), Mode::Synchronous);
    app.set_sample(s);
    app
}

fn render(app: &App, w: u16, h: u16, theme: Theme, pictures: bool) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut cache = ImageCache::new(pictures.then(Picker::halfblocks));
    term.draw(|f| view::draw(f, app, &mut cache, &theme))
        .unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut s = String::new();
    for y in 0..a.height {
        for x in 0..a.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// The fixture's positions: (t,h,w) -> mosaic index.
fn fixture_cells(dir: &Path) -> HashMap<[i32; 3], usize> {
    let rows = npy::read_rows(&dir.join("positions_thw.npy")).unwrap();
    let chunk = rows.len() / 8;
    let mut m = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        m.entry(*r).or_insert(i / chunk);
    }
    m
}

/// Renders frames of the sample in `dir` at 160x50 without colour and checks every cell
/// against its positions file: selected cells "██", padding "··", others blank.
fn check_grid_glyphs(dir: &Path, ts: &[usize]) {
    let cells = fixture_cells(dir);
    let mut app = sample_app(dir);
    app.update(Action::Pane(2));
    assert_eq!(app.pane, Pane::Grid);
    app.cursor = (0, 0);
    let valid = app
        .sample
        .as_ref()
        .unwrap()
        .valid
        .clone()
        .expect("geometry known from stage 1");
    let frames = app.sample.as_ref().unwrap().frames;
    for &t in ts {
        app.t = t;
        let buf = render(&app, 160, 50, Theme::plain(), false);
        let screen = text(&buf);
        assert!(
            screen.contains(&format!(" t {t}/{}", frames - 1)),
            "{screen}"
        );
        let mut shown = 0;
        for h in 0..36u16 {
            for w in 0..36u16 {
                if (h, w) == (0, 0) {
                    continue; // the cursor
                }
                let (x, y) = (1 + 2 * w, 2 + h);
                let sym = buf[(x, y)].symbol().to_string() + buf[(x + 1, y)].symbol();
                let selected = cells.contains_key(&[t as i32, h as i32, w as i32]);
                assert_eq!(sym == "██", selected, "t {t} h {h} w {w}: {sym:?}");
                shown += selected as usize;
                if !selected {
                    let pad = !valid[h as usize * 36 + w as usize];
                    assert_eq!(sym == "··", pad, "t {t} h {h} w {w}: {sym:?}");
                }
            }
        }
        let expected = cells
            .keys()
            .filter(|r| r[0] == t as i32 && (r[1], r[2]) != (0, 0))
            .count();
        assert_eq!(shown, expected, "t {t}");
    }
}

#[test]
fn grid_shows_exactly_the_selected_cells_plain_glyphs() {
    let Some(fx) = common::fixtures() else { return };
    let dir = stage2_dir(&fx);
    // The portrait fixture: padding is columns outside 8..28.
    let app = sample_app(&dir);
    let valid = app.sample.as_ref().unwrap().valid.clone().unwrap();
    assert!((0..36).all(|w| valid[w] == (8..28).contains(&w)));
    check_grid_glyphs(&dir, &[0, 1, 2, 17, 40, 63]);
}

fn demo_stage2() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/stage2");
    let s = std::fs::read_dir(&d)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir());
    if s.is_none() {
        eprintln!("NOTICE: assets/demo not found; skipping demo checks");
    }
    s
}

#[test]
fn demo_grid_and_every_pane() {
    let Some(dir) = demo_stage2() else { return };
    // The landscape demo: padding is rows, not columns.
    check_grid_glyphs(&dir, &[0, 3, 31, 63]);
    let mut app = sample_app(&dir);
    let valid = app.sample.as_ref().unwrap().valid.clone().unwrap();
    assert!(!valid[0] && valid[12 * 36 + 5]);
    let want = [
        (1, "8 mosaics, on disk"),
        (2, " t 0/63"),
        (3, "needs the video"),
        (4, "stage 1 knobs"),
        (5, "findings: 0"),
        (6, "doctor pane works on an eval asset root"),
    ];
    for (pane, needle) in want {
        app.update(Action::Pane(pane));
        for (w, h) in [(80u16, 24u16), (160, 50)] {
            let screen = text(&render(&app, w, h, Theme { color: true }, true));
            assert!(screen.contains(needle), "pane {pane} at {w}x{h}:\n{screen}");
        }
    }
}

#[test]
fn grid_colours_cells_by_mosaic_in_half_blocks_at_80x24() {
    let Some(fx) = common::fixtures() else { return };
    let dir = stage2_dir(&fx);
    let cells = fixture_cells(&dir);
    let mut app = sample_app(&dir);
    app.update(Action::Pane(2));
    app.cursor = (35, 35);
    let theme = Theme { color: true };
    for t in [0usize, 5, 33] {
        app.t = t;
        let buf = render(&app, 80, 24, theme, false);
        for h in 0..34usize {
            for w in 0..36usize {
                let c = &buf[(1 + w as u16, 2 + (h / 2) as u16)];
                let got = if h % 2 == 0 { c.fg } else { c.bg };
                let want = match cells.get(&[t as i32, h as i32, w as i32]) {
                    Some(&m) => theme.mosaic(m),
                    None if !(8..28).contains(&w) => Theme::PADDING,
                    None => Theme::UNSELECTED,
                };
                assert_eq!(got, want, "t {t} h {h} w {w}");
            }
        }
    }
}

#[test]
fn stepping_frames_and_jumping() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&stage2_dir(&fx));
    app.update(Action::Pane(2));
    app.update(Action::Right);
    app.update(Action::Right);
    assert_eq!(app.t, 2);
    app.update(Action::Left);
    assert_eq!(app.t, 1);
    app.update(Action::StartJump);
    for c in "40".chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Enter);
    assert_eq!(app.t, 40);
    app.update(Action::End);
    assert_eq!(app.t, 63);
    // The cursor cell tells where it went; frame 63 is video frame 486.
    app.cursor = (20, 14);
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("frame 486"), "{screen}");
    assert!(screen.contains("h 20  w 14"), "{screen}");
}

#[test]
fn reverse_mode_names_the_source_of_a_slot() {
    let Some(fx) = common::fixtures() else { return };
    let dir = stage2_dir(&fx);
    let rows = npy::read_rows(&dir.join("positions_thw.npy")).unwrap();
    let mut app = sample_app(&dir);
    app.update(Action::Pane(2));
    app.update(Action::ToggleReverse);
    app.update(Action::NextImage);
    app.update(Action::NextImage);
    // Mosaic 2, slot 0 at cell (0,0): positions row 2*1296.
    app.rev = (2, 0, 0);
    let src = rows[2 * 1296];
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("mosaic 2 slots"), "{screen}");
    assert!(screen.contains(&format!("t {}", src[0])), "{screen}");
    assert!(
        screen.contains(&format!("h {}  w {}", src[1], src[2])),
        "{screen}"
    );
    app.update(Action::Enter);
    assert!(!app.reverse);
    assert_eq!(
        (app.t, app.cursor),
        (src[0] as usize, (src[1] as usize, src[2] as usize))
    );
}

#[test]
fn mosaics_strip_and_large_with_halfblocks() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&stage2_dir(&fx));
    assert_eq!(app.pane, Pane::Mosaics);
    let buf = render(&app, 80, 24, Theme { color: true }, true);
    let screen = text(&buf);
    for i in 0..8 {
        assert!(
            screen.contains(&format!("{i} ytb_XwB-dkS5BVM_")),
            "{screen}"
        );
    }
    // Half-block pictures: coloured cells inside the first frame.
    let painted = (2..10u16)
        .flat_map(|y| (1..19u16).map(move |x| (x, y)))
        .filter(|&(x, y)| matches!(buf[(x, y)].fg, Color::Rgb(..)))
        .count();
    assert!(painted > 20, "{screen}");
    app.update(Action::ToggleLarge);
    app.update(Action::Right);
    let screen = text(&render(&app, 80, 24, Theme::plain(), true));
    assert!(screen.contains("1 ytb_XwB-dkS5BVM_001.jpg"), "{screen}");
    assert!(!screen.contains("2 ytb_XwB"), "{screen}");
    // With pictures off, the names stay.
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("ytb_XwB-dkS5BVM_001.jpg"), "{screen}");
}

#[test]
fn energy_and_params_say_the_video_is_needed() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM"));
    app.update(Action::Pane(3));
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("needs the video"), "{screen}");
    assert!(screen.contains("--video"), "{screen}");
    assert!(screen.contains("--remap"), "{screen}");
    assert!(screen.contains("kept / frame"), "{screen}");
    app.update(Action::Pane(4));
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("offline knobs"), "{screen}");
    assert!(screen.contains("topk_mode"), "{screen}");
    assert!(screen.contains("--video"), "{screen}");
    // Grid still works: t=0 is whole (all of t=0 is kept offline).
    app.update(Action::Pane(2));
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("kept in t 1296"), "{screen}");
    assert!(screen.contains("frame 0"), "{screen}");
}

#[test]
fn help_lists_every_key_and_closes() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&stage2_dir(&fx));
    app.update(Action::ToggleHelp);
    let screen = text(&render(&app, 80, 24, Theme::plain(), true));
    for (k, _, _) in codecscope::tui::keys::HELP {
        assert!(screen.contains(k), "{k} missing:\n{screen}");
    }
    // No picture is drawn under the popup.
    assert!(!screen.contains('▀'), "{screen}");
    app.update(Action::Back);
    assert!(!app.help);
    app.update(Action::Back);
    assert!(app.quit, "Esc without a list quits");
}

#[test]
fn findings_pane_lists_check_findings() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&stage2_dir(&fx));
    app.update(Action::Pane(5));
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("findings: 0"), "{screen}");
    assert!(screen.contains("no findings"), "{screen}");
    assert!(screen.contains("positions_thw.npy"), "{screen}");
}

fn browser_app(path: &Path, o: LoadOptions) -> App {
    let opened = source::open(path, &o).unwrap();
    let mut app = App::new(o, Mode::Synchronous);
    app.open(opened);
    let t0 = std::time::Instant::now();
    while !app.browser.as_ref().unwrap().done && t0.elapsed().as_secs() < 20 {
        app.update(Action::Tick);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    app.update(Action::Tick);
    app
}

#[test]
fn browser_on_jsonl_with_and_without_remap() {
    let Some(fx) = common::fixtures() else { return };
    let jsonl = fx.join("upstream-demo/training_codec.jsonl");
    let mut app = browser_app(&jsonl, opts());
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("training JSONL · 1 rows"), "{screen}");
    assert!(screen.contains("E9"), "{screen}");
    assert!(screen.contains("XwB-dkS5BVM"), "{screen}");
    // Filter by code, then search that misses.
    app.update(Action::CycleFilter);
    app.update(Action::CycleFilter);
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("filter code missing-image"), "{screen}");
    app.update(Action::StartSearch);
    for c in "nothing".chars() {
        app.update(Action::Char(c));
    }
    assert_eq!(app.browser.as_ref().unwrap().view.len(), 0);
    app.update(Action::Back);
    assert_eq!(app.browser.as_ref().unwrap().view.len(), 1);

    let mut o = opts();
    o.remaps = vec![format!("{REMOTE}={}", fx.join("upstream-demo").display())
        .parse()
        .unwrap()];
    let mut app = browser_app(&jsonl, o);
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("ok"), "{screen}");
    assert!(screen.contains("10368"), "{screen}");
    app.update(Action::Enter);
    let s: &SampleData = app.sample.as_ref().unwrap();
    assert_eq!(s.images.len(), 8);
    assert_eq!(s.positions.len(), 10368);
    assert_eq!(app.pane, Pane::Mosaics);
}

#[test]
fn browser_on_stage1_root_and_asset_root() {
    let Some(fx) = common::fixtures() else { return };
    let app = browser_app(&fx.join("upstream-demo/stage1"), opts());
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("stage 1 output root · 1 rows"), "{screen}");
    assert!(screen.contains("64"), "{screen}");
    assert!(screen.contains("10368"), "{screen}");
    let mut app = browser_app(&fx.join("upstream-precompute/assets"), opts());
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    assert!(screen.contains("eval asset root · 1 rows"), "{screen}");
    assert!(screen.contains("ytb_XwB-dkS5BVM"), "{screen}");
    // The doctor pane: evaluation's lookup for the video the meta names.
    let t0 = std::time::Instant::now();
    while !app.doctor.as_ref().unwrap().done && t0.elapsed().as_secs() < 20 {
        app.update(Action::Tick);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    app.update(Action::Pane(6));
    let screen = text(&render(&app, 120, 24, Theme::plain(), false));
    assert!(screen.contains("1 videos: 1 HIT"), "{screen}");
    assert!(screen.contains("HIT"), "{screen}");
    assert!(screen.contains("videos/ytb_XwB-dkS5BVM.mp4"), "{screen}");
    assert!(screen.contains("8 images from"), "{screen}");
    app.update(Action::Enter);
    assert!(app.message.contains("folder eval uses"), "{}", app.message);
    assert_eq!(app.sample.as_ref().unwrap().kind, "eval asset folder");
}

#[test]
fn stage1_output_alone_is_packed_as_stage2_would() {
    let Some(fx) = common::fixtures() else { return };
    let stage1 = std::fs::read_dir(fx.join("upstream-demo/stage1"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".meta.json"))
        .unwrap();
    let app = sample_app(&stage1);
    let s = app.sample.as_ref().unwrap();
    let disk = npy::read_rows(&stage2_dir(&fx).join("positions_thw.npy")).unwrap();
    assert_eq!(
        s.positions, disk,
        "stage 1 rows packed like stage 2's positions"
    );
    assert_eq!(s.frame_ids.as_ref().map(Vec::len), Some(64));
}

#[test]
fn no_color_theme_uses_no_colours() {
    let Some(fx) = common::fixtures() else { return };
    let mut app = sample_app(&stage2_dir(&fx));
    for pane in 0..7 {
        app.update(Action::Pane(pane));
        let buf = render(&app, 80, 24, Theme::plain(), false);
        for c in buf.content.iter() {
            assert!(
                matches!(c.fg, Color::Reset) && matches!(c.bg, Color::Reset),
                "pane {pane}: {c:?}"
            );
        }
    }
}

#[test]
fn mouse_clicks_on_tabs_and_wheel_steps_frames() {
    let Some(fx) = common::fixtures() else { return };
    use codecscope::tui::app::MouseKind;
    let mut app = sample_app(&stage2_dir(&fx));
    let screen = text(&render(&app, 80, 24, Theme::plain(), false));
    let first = screen.lines().next().unwrap();
    for (i, name) in [
        "List", "Mosaics", "Grid", "Energy", "Params", "Findings", "Doctor",
    ]
    .iter()
    .enumerate()
    {
        let label = format!("{} {name}", i + 1);
        let x = first.chars().collect::<String>().find(&label).unwrap();
        let col = first[..x].chars().count() as u16;
        assert_eq!(
            app.mouse_action(MouseKind::Click, col, 0),
            Some(Action::Pane(i)),
            "{name}"
        );
    }
    app.update(app.mouse_action(MouseKind::Click, 21, 0).unwrap());
    assert_eq!(app.pane, Pane::Grid);
    app.update(app.mouse_action(MouseKind::WheelDown, 10, 10).unwrap());
    app.update(app.mouse_action(MouseKind::WheelDown, 10, 10).unwrap());
    assert_eq!(app.t, 2);
}

#[test]
fn doctor_says_miss_and_why() {
    let Some(fx) = common::fixtures() else { return };
    // A root whose folder name no longer matches the video's stem, and whose meta is gone:
    // evaluation finds nothing.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("assets");
    common::copy_tree(&fx.join("upstream-precompute/assets"), &root);
    let other = tmp.path().join("assets2");
    common::copy_tree(&fx.join("upstream-precompute/assets"), &other);
    std::fs::rename(other.join("ytb_XwB-dkS5BVM"), root.join("renamed")).unwrap();
    std::fs::remove_file(root.join("renamed/meta.json")).unwrap();
    std::fs::remove_dir_all(root.join("ytb_XwB-dkS5BVM")).unwrap();
    std::fs::create_dir_all(root.join("x")).unwrap();
    // A meta naming a video whose folder is gone.
    std::fs::write(
        root.join("x/meta.json"),
        r#"{"video": "videos/gone.mp4", "key": "gone"}"#,
    )
    .unwrap();
    let mut app = browser_app(&root, opts());
    let t0 = std::time::Instant::now();
    while !app.doctor.as_ref().unwrap().done && t0.elapsed().as_secs() < 20 {
        app.update(Action::Tick);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    app.update(Action::Pane(6));
    let d = app.doctor.as_ref().unwrap();
    assert_eq!(d.rows.len(), 1, "{:?}", d.rows);
    let screen = text(&render(&app, 120, 24, Theme::plain(), false));
    assert!(screen.contains("MISS"), "{screen}");
    assert!(screen.contains("videos/gone.mp4"), "{screen}");
}
