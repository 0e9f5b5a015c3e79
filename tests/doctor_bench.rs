//! Benchmark, not a test: a root of 100k asset folders, walked once, every video looked up.
//! `cargo test --test doctor_bench -- --ignored --nocapture` (the test profile is optimised)
//! (`DOCTOR_BENCH_N` folders, default 100000; `DOCTOR_BENCH_DIR` to keep the root).

use std::path::PathBuf;
use std::time::Instant;

use codecscope::diagnose::doctor::{run_doctor_with_index, DoctorConfig, VideoInput};
use codecscope::diagnose::eval_lookup::{lookup_with, AssetIndex, LookupOptions, LookupStatus};

#[test]
#[ignore]
fn bench_100k_folders() {
    let n: usize = std::env::var("DOCTOR_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let base = std::env::var("DOCTOR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let root = base.join("assets");
    let t0 = Instant::now();
    if !root.join(format!("k{:06}", n - 1)).is_dir() {
        std::fs::create_dir_all(&root).unwrap();
        let img = image::RgbImage::from_fn(576, 576, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 3])
        });
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Jpeg).unwrap();
        let jpg = buf.into_inner();
        let mut header =
            "{'descr': '<i4', 'fortran_order': False, 'shape': (10368, 3), }".to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend(std::iter::repeat_n(0u8, 10368 * 12));
        // Hard links keep the root small; a file takes at most 65000 links on ext4.
        let protos: Vec<(PathBuf, PathBuf)> = (0..n.div_ceil(7000))
            .map(|j| {
                let (pj, pn) = (
                    base.join(format!("proto{j}.jpg")),
                    base.join(format!("proto{j}.npy")),
                );
                std::fs::write(&pj, &jpg).unwrap();
                std::fs::write(&pn, &b).unwrap();
                (pj, pn)
            })
            .collect();
        for i in 0..n {
            let d = root.join(format!("k{i:06}"));
            std::fs::create_dir_all(&d).unwrap();
            let (proto, pos) = &protos[i / 7000];
            for m in 0..8 {
                std::fs::hard_link(proto, d.join(format!("mosaic_{m:03}.jpg"))).unwrap();
            }
            std::fs::hard_link(pos, d.join("positions_thw.npy")).unwrap();
            std::fs::write(
                d.join("meta.json"),
                format!(
                    r#"{{"version": "llava_codec_offline_precompute_v1", "video": "videos/v{i:06}.mp4", "key": "k{i:06}", "cfg": {{"seq_len_frames": 64, "num_images": 8}}}}"#
                ),
            )
            .unwrap();
        }
        eprintln!(
            "generated {n} folders in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
    let rs = root.to_string_lossy().into_owned();
    let t = Instant::now();
    let idx = AssetIndex::build(&rs);
    let walk = t.elapsed();
    assert_eq!(idx.metas.len(), n);
    eprintln!(
        "index: {} folders walked, {} meta.json, {} entries in {:.2} s",
        idx.dirs.len(),
        idx.metas.len(),
        idx.eval_entries(),
        walk.as_secs_f64()
    );
    // Every video by its stem (not root/<stem>: found through the index), format check only.
    let videos: Vec<String> = (0..n).map(|i| format!("videos/v{i:06}.mp4")).collect();
    let t = Instant::now();
    use rayon::prelude::*;
    let hits = videos
        .par_iter()
        .filter(|v| {
            lookup_with(&idx, &rs, v, 8, LookupOptions { decode: false }).status
                == LookupStatus::Hit
        })
        .count();
    eprintln!(
        "lookup of {n} videos (no decoding): {:.2} s, {hits} HIT",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(hits, n);
    // Full decoding, as evaluation opens every image, on a sample.
    let k = 500.min(n);
    let t = Instant::now();
    let hits = videos[..k]
        .par_iter()
        .filter(|v| {
            lookup_with(&idx, &rs, v, 8, LookupOptions::default()).status == LookupStatus::Hit
        })
        .count();
    let dt = t.elapsed().as_secs_f64();
    eprintln!(
        "lookup of {k} videos decoding 8 mosaics each: {dt:.2} s ({:.1} ms/video)",
        dt * 1000.0 / k as f64
    );
    assert_eq!(hits, k);
    // The whole doctor (root findings included) without decoding.
    let cfg = DoctorConfig {
        root: Some(rs.clone()),
        use_offline: true,
        num_images: 8,
        decode: false,
        expect: vec![],
        all_folders: false,
    };
    let inputs: Vec<VideoInput> = videos
        .iter()
        .map(|v| VideoInput {
            video: v.clone(),
            key: None,
        })
        .collect();
    let t = Instant::now();
    let rep = run_doctor_with_index(&cfg, &idx, &inputs, None, false);
    eprintln!(
        "doctor on {n} videos (root findings, per-video findings, no decoding): {:.2} s, {} HIT",
        t.elapsed().as_secs_f64(),
        rep.summary.hits
    );
}
