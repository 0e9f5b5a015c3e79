//! `codecscope decode --md5` against the fixture's frame hash lists, in both modes.

mod common;

#[test]
fn md5_lists_match_upstream_and_stock() {
    let Some(fx) = common::fixtures() else { return };
    let d = fx.join("upstream-residual-decode");
    let clips = [
        ("cavlc_baseline", d.join("clips/cavlc_baseline.mp4")),
        (
            "cabac_high_bpyramid_weighted",
            d.join("clips/cabac_high_bpyramid_weighted.mp4"),
        ),
        (
            "slices_cqm_temporal_odd",
            d.join("clips/slices_cqm_temporal_odd.mp4"),
        ),
        (
            "ytb_XwB-dkS5BVM",
            fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4"),
        ),
    ];
    for (name, clip) in &clips {
        for (flag, list) in [
            (None, "stock"),
            (Some("--upstream-residual"), "upstream_residual"),
        ] {
            let mut args = vec!["decode", clip.to_str().unwrap(), "--md5"];
            args.extend(flag);
            let (code, out, err) = common::run_in(&d, &args);
            assert_eq!(code, 0, "{name} {list}: {err}");
            let expected =
                std::fs::read_to_string(d.join(format!("md5/{name}.{list}.txt"))).unwrap();
            assert_eq!(out.trim_end(), expected.trim_end(), "{name} {list}");
        }
    }
    let (code, _, err) = common::run_in(&d, &["decode", "clips/interlaced_mbaff.mp4", "--md5"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("does not support this stream: interlaced"),
        "{err}"
    );
}

#[test]
fn frames_and_planes_are_written() {
    let Some(fx) = common::fixtures() else { return };
    let d = fx.join("upstream-residual-decode");
    let out = tempfile::tempdir().unwrap();
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let (code, _, err) = common::run_in(
        &d,
        &[
            "decode",
            video.to_str().unwrap(),
            "--upstream-residual",
            "--frames",
            "0-23",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // The 24 raw residual-mode frames equal upstream's patched decoder output byte for byte.
    let truth = std::fs::read(d.join("ytb_XwB-dkS5BVM.first24.upstream_residual.yuv")).unwrap();
    let frame = 360 * 640 * 3 / 2;
    for i in 0..24 {
        let ours = std::fs::read(out.path().join(format!("frame_{i:06}.yuv"))).unwrap();
        assert!(
            ours == truth[i * frame..(i + 1) * frame],
            "frame {i} differs"
        );
    }
    assert!(!out.path().join("frame_000024.yuv").exists());
}
