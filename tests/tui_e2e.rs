//! End to end: the built binary inside tmux (a private server per test), driven with
//! `send-keys`, read back with `capture-pane -p` until the screen settles.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn start(tag: &str, w: u16, h: u16, cwd: &Path, args: &[&str]) -> Tmux {
        let socket = format!("codecscope-test-{}-{tag}", std::process::id());
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let cmd = format!(
            "{} {}; echo EXIT=$?; sleep 600",
            env!("CARGO_BIN_EXE_codecscope"),
            quoted.join(" ")
        );
        let st = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(w.to_string())
            .arg("-y")
            .arg(h.to_string())
            .arg("-c")
            .arg(cwd)
            .arg(cmd)
            .env("TERM", "xterm-256color")
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(st.success());
        Tmux { socket }
    }

    fn capture(&self) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", k])
                .status()
                .unwrap();
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Polls until `pred` holds on a screen that stayed the same for two polls.
    fn wait(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        let mut last = String::new();
        loop {
            let s = self.capture();
            if pred(&s) && s == last {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            last = s;
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn stage2_dir(fx: &Path) -> PathBuf {
    std::fs::read_dir(fx.join("upstream-demo/stage2"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap()
}

/// Open, decode, step frames, help, edit a knob, re-select, quit. `args` empty: the demo.
fn session(tag: &str, w: u16, h: u16, args: &[&str], last_mosaic: &str, frame_of_t3: u32) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--images", "halfblocks"]);
    let cwd = tempfile::tempdir().unwrap();
    let tm = Tmux::start(tag, w, h, cwd.path(), &all);
    // Open: the mosaic strip with all eight names.
    tm.wait("the mosaics", 30, |s| {
        s.contains("2 Mosaics") && s.contains(last_mosaic)
    });
    // The background decode finishes while the UI stays live.
    tm.send(&["5"]);
    let s = tm.wait("the first selection", 120, |s| {
        s.contains("Knob effect") && s.contains("Proxy vs files")
    });
    assert!(s.contains("+0 −0  recall 1.000"), "{s}");
    // Step frames on the grid.
    tm.send(&["3", "l", "l", "Right"]);
    let s = tm.wait("frame t=3", 20, |s| s.contains(" t 3/63"));
    assert!(
        s.contains(&format!("frame {frame_of_t3}")),
        "video frame of t=3:\n{s}"
    );
    // Help, then close it.
    tm.send(&["?"]);
    tm.wait("the help", 20, |s| s.contains("Keys (Esc or ? closes)"));
    tm.send(&["Escape"]);
    tm.wait("help closed", 20, |s| !s.contains("Keys (Esc"));
    // Edit a knob and wait for re-selection.
    tm.send(&["5", "j", "j", "j", "j", "l"]);
    let s = tm.wait("the re-selection", 60, |s| {
        s.contains("*keep_frames_equiv") && s.contains("+1296 −0") && s.contains("re-selected")
    });
    assert!(s.contains("changed keep_frames_equiv"), "{s}");
    // Quit with a clean exit status.
    tm.send(&["q"]);
    let s = tm.wait("the exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
}

#[test]
fn fixture_in_tmux_at_80x24() {
    let Some(fx) = common::fixtures() else { return };
    if !Tmux::available() {
        eprintln!("NOTICE: tmux not found; skipping");
        return;
    }
    let dir = stage2_dir(&fx);
    session("small", 80, 24, &[&dir.to_string_lossy()], "7 ytb_XwB", 23);
}

#[test]
fn fixture_in_tmux_at_160x50() {
    let Some(fx) = common::fixtures() else { return };
    if !Tmux::available() {
        eprintln!("NOTICE: tmux not found; skipping");
        return;
    }
    let dir = stage2_dir(&fx);
    session("large", 160, 50, &[&dir.to_string_lossy()], "7 ytb_XwB", 23);
}

#[test]
fn asset_folder_without_video_in_tmux() {
    let Some(fx) = common::fixtures() else { return };
    if !Tmux::available() {
        return;
    }
    let dir = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    let tm = Tmux::start(
        "asset",
        80,
        24,
        Path::new("/"),
        &[&dir.to_string_lossy(), "--images", "none"],
    );
    tm.wait("the mosaics", 30, |s| s.contains("mosaic_007.jpg"));
    tm.send(&["4"]);
    tm.wait("the energy pane", 20, |s| {
        s.contains("needs the video") && s.contains("--remap")
    });
    tm.send(&["3", "l"]);
    tm.wait("the grid", 20, |s| s.contains(" t 1/63"));
    tm.send(&["Escape"]);
    let s = tm.wait("the exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
}

fn demo_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    d.is_dir().then_some(d)
}

#[test]
fn demo_opens_without_a_path_or_fails_clearly() {
    if !Tmux::available() {
        return;
    }
    match demo_dir() {
        Some(_) => {
            // 300 frames: t=3 is frame floor(3*299/63) = 14.
            session("demo-s", 80, 24, &[], "7 demo_pan_007", 14);
            session("demo-l", 160, 50, &[], "7 demo_pan_007", 14);
        }
        None => {
            eprintln!("NOTICE: assets/demo not made yet; checking the message instead");
            let tmp = tempfile::tempdir().unwrap();
            let tm = Tmux::start("nodemo", 80, 24, tmp.path(), &["--images", "none"]);
            let s = tm.wait("the exit", 20, |s| s.contains("EXIT="));
            assert!(s.contains("no demo found"), "{s}");
            assert!(s.contains("EXIT=2"), "{s}");
        }
    }
}

/// `--images auto` where nothing answers the picture protocol query (a detached tmux
/// session has no outer terminal): the inspector still opens in half-blocks, takes the
/// very first key and quits cleanly.
#[test]
fn auto_images_where_the_terminal_does_not_answer() {
    if !Tmux::available() {
        return;
    }
    if demo_dir().is_none() {
        eprintln!("NOTICE: assets/demo not made yet; skipping");
        return;
    }
    let cwd = tempfile::tempdir().unwrap();
    let tm = Tmux::start("auto", 160, 50, cwd.path(), &[]);
    tm.wait("the mosaics", 30, |s| {
        s.contains("2 Mosaics") && s.contains("demo_pan_007")
    });
    tm.send(&["3"]);
    tm.wait("the grid", 20, |s| s.contains(" t 0/63"));
    tm.send(&["q"]);
    let s = tm.wait("the exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
}
