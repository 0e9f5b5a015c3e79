//! `codecscope check` on the upstream fixture and on copies of it broken one way each.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use codecscope::formats::discover::{discover, Discovered};
use codecscope::formats::npy;
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;

const REMOTE: &str = "/workspace/OV-Encoder-Llava/examples/training_data_demo/output";

fn error_codes(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "finding")
        .map(|v| {
            format!(
                "{}:{}",
                v["data"]["severity"].as_str().unwrap(),
                v["data"]["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn fixture_jsonl_missing_then_clean_with_remap() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let (code, out, _) = common::run_in(&demo, &["check", "training_codec.jsonl", "--json"]);
    assert_eq!(code, 1);
    let codes = error_codes(&out);
    assert_eq!(
        codes,
        BTreeSet::from([
            "error:missing-image".to_string(),
            "error:missing-positions".to_string()
        ])
    );
    let remap = format!("--remap={REMOTE}={}", demo.display());
    let (code, out, err) = common::run_in(&demo, &["check", "training_codec.jsonl", &remap]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no findings"), "{out}");
}

/// A writable copy of the fixture's stage 2 sample and a JSONL pointing at it.
struct Broken {
    _dir: tempfile::TempDir,
    root: PathBuf,
    sample: PathBuf,
}

impl Broken {
    fn new(fx: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let src = fx.join("upstream-demo/stage2");
        common::copy_tree(&src, &root.join("stage2"));
        let sample = root.join("stage2/sample_XwB-dkS5BVM__ytb_XwB-dkS5BVM__58574aa9");
        let line = std::fs::read_to_string(fx.join("upstream-demo/training_codec.jsonl"))
            .unwrap()
            .replace(REMOTE, &root.display().to_string());
        std::fs::write(root.join("train.jsonl"), line).unwrap();
        Broken {
            _dir: dir,
            root,
            sample,
        }
    }

    fn positions(&self) -> PathBuf {
        self.sample.join("positions_thw.npy")
    }

    fn edit_jsonl(&self, f: impl FnOnce(String) -> String) {
        let p = self.root.join("train.jsonl");
        let s = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, f(s)).unwrap();
    }

    fn check(&self) -> (i32, BTreeSet<String>) {
        let (code, out, err) = common::run_in(&self.root, &["check", "train.jsonl", "--json"]);
        assert!(!err.contains("panicked"), "{err}");
        (code, error_codes(&out))
    }
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_break_gives_its_code() {
    let Some(fx) = common::fixtures() else { return };

    let b = Broken::new(&fx);
    assert_eq!(b.check(), (0, set(&[])), "the clean copy has no findings");

    let b = Broken::new(&fx);
    let bytes = std::fs::read(b.positions()).unwrap();
    std::fs::write(b.positions(), &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(b.check(), (1, set(&["error:positions-truncated"])));

    let b = Broken::new(&fx);
    let rows = npy::read_rows(&b.positions()).unwrap();
    let flat: Vec<i64> = rows.iter().flatten().map(|&v| v as i64).collect();
    let arr = Array2::from_shape_vec((rows.len(), 3), flat).unwrap();
    arr.write_npy(std::fs::File::create(b.positions()).unwrap())
        .unwrap();
    assert_eq!(b.check(), (0, set(&["warning:positions-dtype"])));

    let b = Broken::new(&fx);
    b.edit_jsonl(|s| s.replacen("<image>\\n", "", 1));
    assert_eq!(b.check(), (1, set(&["error:image-token-mismatch"])));

    let b = Broken::new(&fx);
    std::fs::remove_file(b.sample.join("ytb_XwB-dkS5BVM_003.jpg")).unwrap();
    assert_eq!(b.check(), (1, set(&["error:missing-image"])));

    let b = Broken::new(&fx);
    let mut rows = npy::read_rows(&b.positions()).unwrap();
    rows[5000] = rows[4999];
    npy::write_rows(&b.positions(), &rows).unwrap();
    assert_eq!(b.check(), (1, set(&["error:positions-duplicate-rows"])));

    let b = Broken::new(&fx);
    let mut rows = npy::read_rows(&b.positions()).unwrap();
    rows.swap(100, 3000);
    npy::write_rows(&b.positions(), &rows).unwrap();
    assert_eq!(b.check(), (1, set(&["error:positions-unsorted"])));

    let b = Broken::new(&fx);
    b.edit_jsonl(|s| format!("{{\"id\": \"broken\", oops\n{s}"));
    assert_eq!(b.check(), (1, set(&["error:malformed-record"])));

    // Seven images (and seven tokens): the sample is no longer a codec sample training
    // accepts, and its positions no longer match the images.
    let b = Broken::new(&fx);
    b.edit_jsonl(|s| {
        let s = s.replacen("<image>\\n", "", 1);
        let last = format!(", \"{}/ytb_XwB-dkS5BVM_007.jpg\"", b.sample.display());
        s.replacen(&last, "", 1)
    });
    assert_eq!(
        b.check(),
        (
            1,
            set(&["error:codec-image-count", "error:positions-row-count"])
        )
    );
}

#[test]
fn discover_names_every_fixture_path() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let stage1 = std::fs::read_dir(demo.join("stage1"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect::<Vec<_>>();
    let kind = |p: &Path| discover(p).what.kind_name();
    assert_eq!(kind(&demo.join("videos/ytb_XwB-dkS5BVM.mp4")), "video");
    assert_eq!(kind(&demo.join("videos")), "folder of videos");
    assert_eq!(
        kind(&demo.join("raw_video_samples.json")),
        "raw video dataset"
    );
    assert_eq!(kind(&demo.join("training_codec.jsonl")), "training JSONL");
    assert_eq!(kind(&demo.join("stage1")), "stage 1 output root");
    for p in &stage1 {
        let d = discover(p);
        assert_eq!(d.what.kind_name(), "stage 1 output", "{}", p.display());
        assert!(d.missing.is_empty());
    }
    let meta = stage1
        .iter()
        .find(|p| p.to_str().unwrap().ends_with(".meta.json"))
        .unwrap();
    let bare = PathBuf::from(meta.to_str().unwrap().strip_suffix(".meta.json").unwrap());
    assert_eq!(kind(&bare), "stage 1 output");
    let s2 = demo.join("stage2/sample_XwB-dkS5BVM__ytb_XwB-dkS5BVM__58574aa9");
    match discover(&s2).what {
        Discovered::Stage2Folder {
            images, positions, ..
        } => {
            assert_eq!(images.len(), 8);
            assert!(positions.is_some());
        }
        other => panic!("stage 2 folder discovered as {other:?}"),
    }
    let pre = fx.join("upstream-precompute");
    assert_eq!(
        kind(&pre.join("assets/ytb_XwB-dkS5BVM")),
        "eval asset folder"
    );
    assert!(matches!(
        discover(&pre.join("assets")).what,
        Discovered::AssetRoot {
            out_root: false,
            folders: 1,
            ..
        }
    ));
    assert!(matches!(
        discover(&pre).what,
        Discovered::AssetRoot {
            out_root: true,
            folders: 1,
            ..
        }
    ));
    assert_eq!(kind(&pre.join("input.jsonl")), "precompute input JSONL");
    assert_eq!(
        kind(&fx.join("upstream-motion-only/precompute_mid_bucket")),
        "eval asset folder"
    );
    assert_eq!(kind(&fx.join("does-not-exist")), "unknown");
}
