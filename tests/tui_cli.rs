//! `show --print`, `env`, and the bare-path form, through the built binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codecscope::engine::Mode;
use codecscope::formats::npy;
use codecscope::tui::app::{Action, App};
use codecscope::tui::sample::LoadOptions;
use codecscope::tui::source;

fn stage2_dir(fx: &Path) -> PathBuf {
    std::fs::read_dir(fx.join("upstream-demo/stage2"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap()
}

#[test]
fn show_print_grid_matches_positions() {
    let Some(fx) = common::fixtures() else { return };
    let dir = stage2_dir(&fx);
    let rows = npy::read_rows(&dir.join("positions_thw.npy")).unwrap();
    for t in [1usize, 9, 50] {
        let (code, out, err) = common::run_in(
            Path::new("/"),
            &[
                "show",
                &dir.to_string_lossy(),
                "--print",
                "--no-images",
                "--grid",
                &t.to_string(),
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("8 mosaics, 10368 positions rows"), "{out}");
        assert!(out.contains(&format!("frame t={t}")), "{out}");
        let grid: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with(&format!("frame t={t}")))
            .skip(1)
            .take(36)
            .collect();
        assert_eq!(grid.len(), 36);
        for (h, line) in grid.iter().enumerate() {
            let chars: Vec<char> = line.chars().collect();
            assert_eq!(chars.len(), 72, "{line:?}");
            for w in 0..36 {
                let c = chars[2 * w];
                let i = rows
                    .iter()
                    .position(|r| *r == [t as i32, h as i32, w as i32]);
                match i {
                    Some(i) => assert_eq!(c, char::from_digit((i / 1296) as u32, 10).unwrap()),
                    None => assert!(c == ' ' || c == '.', "t {t} h {h} w {w}: {c}"),
                }
            }
        }
    }
}

#[test]
fn show_print_pictures_and_bad_frame() {
    let Some(fx) = common::fixtures() else { return };
    let dir = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    let (code, out, err) = common::run_in(
        Path::new("/"),
        &["show", &dir.to_string_lossy(), "--print", "--width", "12"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("mosaic 7:"), "{out}");
    // viuer printed something for each picture (half blocks or a protocol).
    assert!(out.len() > 8 * 12 * 4, "{}", out.len());
    let (code, _, err) = common::run_in(
        Path::new("/"),
        &[
            "show",
            &dir.to_string_lossy(),
            "--print",
            "--no-images",
            "--grid",
            "64",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("64 sampled frames"), "{err}");
}

#[test]
fn env_reports_terminal_protocol_and_ffmpeg() {
    let (code, out, err) = common::run_in(Path::new("/"), &["env"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("terminal: TERM="), "{out}");
    assert!(out.contains("colour: off (NO_COLOR)"), "{out}");
    assert!(
        out.contains("pictures: halfblocks (not a terminal"),
        "{out}"
    );
    assert!(out.contains("ffmpeg (linked): libavcodec"), "{out}");
    assert!(out.contains("motion vectors, H.264:"), "{out}");
    assert!(out.contains("motion vectors, HEVC:"), "{out}");
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok()
    {
        assert!(out.contains("motion vectors, H.264: yes"), "{out}");
    }
    let (code, out, _) =
        common::run_in(Path::new("/"), &["env", "--no-decode", "--images", "kitty"]);
    assert_eq!(code, 0);
    assert!(!out.contains("motion vectors"), "{out}");
}

#[test]
fn bare_path_form_is_open() {
    let tmp = tempfile::tempdir().unwrap();
    // `./check` is a path, not the subcommand.
    let (code, _, err) = common::run_in(tmp.path(), &["./check"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot open ./check"), "{err}");
    let (code, _, err) = common::run_in(tmp.path(), &["open", "nothing-here"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file or directory"), "{err}");
    let (code, out, _) = common::run_in(tmp.path(), &["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("open") && out.contains("show") && out.contains("env"),
        "{out}"
    );
}

#[test]
fn million_line_jsonl_first_screen_under_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..1_000_000u32 {
            writeln!(
                f,
                r#"{{"id": "s{i}", "video": "videos/v{}.mp4", "conversations": [{{"from": "human", "value": "<video>\nq"}}, {{"from": "gpt", "value": "a"}}]}}"#,
                i % 977
            )
            .unwrap();
        }
    }
    let t0 = Instant::now();
    let o = LoadOptions::default();
    let opened = source::open(&path, &o).unwrap();
    let mut app = App::new(o, Mode::Synchronous);
    app.open(opened);
    while app.browser.as_ref().unwrap().entries.len() < 40 {
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "first screen took over a second"
        );
        app.update(Action::Tick);
        std::thread::sleep(Duration::from_millis(5));
    }
    let first = t0.elapsed();
    assert!(first < Duration::from_secs(1), "{first:?}");
    let b = app.browser.as_ref().unwrap();
    assert_eq!(b.entries[0].label, "s0");
    assert!(!b.done, "still indexing in the background");
    // Moving and searching work while rows keep coming.
    app.update(Action::Down);
    assert_eq!(app.browser.as_ref().unwrap().selected, 1);
}
