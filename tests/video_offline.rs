//! The offline precompute's frame mapping (SPEC 2.1) on the fixture and generated videos.

mod video_support;
use video_support as common;

use codecscope::analysis::ResidualSource;
use codecscope::video::{
    analyze, analyze_offline, analyze_with, peak_with_squares, read_frames_mapped, AnalyzeOptions,
    OfflineOptions, WindowPick,
};
use ndarray::{Array1, Array4};
use ndarray_npy::read_npy;

#[test]
fn fixture_offline_ids_and_grids() {
    let (Some(video), Some(ids), Some(grid)) = (
        common::fixture(common::FIXTURE_VIDEO),
        common::fixture("upstream-precompute/assets/ytb_XwB-dkS5BVM/frame_ids.npy"),
        common::fixture("upstream-residual/mv_grid.npy"),
    ) else {
        return;
    };
    let want_ids: Array1<i32> = read_npy(ids).unwrap();
    let want_grid: Array4<i16> = read_npy(grid).unwrap();
    let o = OfflineOptions {
        residual: ResidualSource::FrameDiff,
        with_rgb: true,
        ..OfflineOptions::default()
    };
    let a = analyze_offline(video.to_str().unwrap(), &o).unwrap();
    assert_eq!(a.analysis.frame_count, 487);
    assert_eq!(a.info.fps, 30.0);
    assert_eq!(a.analysis.frame_ids, want_ids.to_vec());
    assert_eq!(
        a.used_frame,
        want_ids.iter().map(|&i| i as i64).collect::<Vec<_>>()
    );
    assert_eq!(a.seek_to, None);
    assert_eq!(a.rgb.len(), 64);
    // Same frames as stage 1 on this constant-rate video: the same grids.
    for (t, f) in a.analysis.frames.iter().enumerate() {
        let want: Vec<[i16; 2]> = want_grid
            .index_axis(ndarray::Axis(0), t)
            .outer_iter()
            .flat_map(|row| row.outer_iter().map(|c| [c[0], c[1]]).collect::<Vec<_>>())
            .collect();
        assert_eq!(f.motion.cells().copied().collect::<Vec<_>>(), want, "t={t}");
    }
}

#[test]
fn fixture_stage1_other_length() {
    let (Some(video), Some(ids)) = (
        common::fixture(common::FIXTURE_VIDEO),
        common::fixture(
            "upstream-motion-only/stage1_uniform_exclude/sample_XwB-dkS5BVM__ytb_XwB-dkS5BVM__69f828b5__968ef9dc_T48_square576_p16_K4320.frame_ids.npy",
        ),
    ) else {
        return;
    };
    let want: Array1<i32> = read_npy(ids).unwrap();
    let o = AnalyzeOptions {
        sequence_length: 48,
        residual: ResidualSource::None,
        ..AnalyzeOptions::default()
    };
    let a = analyze(video.to_str().unwrap(), &o).unwrap();
    assert_eq!(a.frame_ids, want.to_vec());
}

#[test]
fn windows_on_a_generated_clip() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Static first half, busy second half: energy3 must pick the end window.
    let v = common::ffmpeg(
        dir.path(),
        "w.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:size=160x96:rate=25:duration=4[a];testsrc2=size=160x96:rate=25:duration=4,noise=alls=60:allf=t[b];[a][b]concat=n=2:v=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-bf",
            "2",
            "-g",
            "25",
        ],
    );
    let path = v.to_str().unwrap();
    for (pick, start) in [
        (WindowPick::Begin, 0usize),
        (WindowPick::Mid, 85),
        (WindowPick::End, 170),
        (WindowPick::Energy3, 170),
    ] {
        let o = OfflineOptions {
            seq_len_frames: 16,
            window_len: 30,
            window_pick: pick,
            residual: ResidualSource::Emulate,
            with_rgb: false,
            ..OfflineOptions::default()
        };
        let a = analyze_offline(path, &o).unwrap();
        assert_eq!(a.analysis.frame_count, 200);
        assert_eq!(a.window.start, start, "{pick:?}: {:?}", a.window);
        assert_eq!(a.window.end, start + 29);
        assert_eq!(a.analysis.frame_ids.first().copied(), Some(start as i32));
        assert_eq!(
            a.analysis.frame_ids.last().copied(),
            Some(start as i32 + 29)
        );
        assert_eq!(a.seek_to, (start > 0).then_some(start));
        assert_eq!(a.analysis.frames.len(), 16);
        assert!(a.analysis.frames.iter().all(|f| f.residual.is_some()));
        if pick == WindowPick::Energy3 {
            let e = a.window.energy.unwrap();
            assert!(e[2] > e[0], "{e:?}");
        }
    }
}

#[test]
fn transport_stream_start_offset_shifts_numbers() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = common::x264_clip(dir.path(), "s.ts", "160x96", 90, &["-bf", "2"]);
    let o = OfflineOptions {
        seq_len_frames: 8,
        residual: ResidualSource::None,
        ..OfflineOptions::default()
    };
    let a = analyze_offline(v.to_str().unwrap(), &o).unwrap();
    assert_eq!(a.analysis.frames.len(), 8);
    // MPEG-TS starts at 1.4 s: timestamp frame numbers are shifted by 35 at 25 fps, so the
    // low ids never arrive and are filled from neighbours, as upstream does.
    assert!(a.used_frame.iter().all(|&f| f >= 35), "{:?}", a.used_frame);
    assert!(
        a.analysis.notes.iter().any(|n| n.contains("filled")),
        "{:?}",
        a.analysis.notes
    );
}

/// The mosaic pictures the analysis keeps from its own decode are the ones a separate
/// reading pass gives (and ids it cannot name are left to that pass).
fn squares_match_a_reading_pass(path: &str, seq_len_frames: usize, residual: ResidualSource) {
    let o = OfflineOptions {
        seq_len_frames,
        residual,
        squares: Some((576, 16)),
        ..OfflineOptions::default()
    };
    let a = analyze_offline(path, &o).unwrap();
    let ids = a.rgb_frame_ids();
    let read = read_frames_mapped(path, &ids, |f| f.to_square(576, 16)).unwrap();
    assert!(!a.squares.is_empty(), "{path}: nothing kept");
    for (id, want) in ids.iter().zip(&read) {
        if let Some(got) = a.squares.get(id) {
            assert!(got == want, "{path}: frame {id} differs");
        }
    }
}

#[test]
fn kept_squares_equal_a_reading_pass() {
    if let Some(v) = common::fixture(common::FIXTURE_VIDEO) {
        squares_match_a_reading_pass(v.to_str().unwrap(), 64, ResidualSource::None);
    }
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bframes = common::x264_clip(dir.path(), "b.mp4", "200x120", 90, &["-bf", "3"]);
    for residual in [ResidualSource::None, ResidualSource::Emulate] {
        squares_match_a_reading_pass(bframes.to_str().unwrap(), 64, residual);
    }
    // Fewer frames than sampled ids: repeats, and the tail is the last frame.
    let short = common::x264_clip(dir.path(), "s.mp4", "96x64", 20, &["-bf", "2"]);
    squares_match_a_reading_pass(short.to_str().unwrap(), 64, ResidualSource::None);
    let ts = common::x264_clip(dir.path(), "t.ts", "160x96", 60, &["-bf", "2"]);
    squares_match_a_reading_pass(ts.to_str().unwrap(), 32, ResidualSource::None);
}

/// Beside a residual the mosaic pictures are kept only up to the size limit, and keeping
/// them changes nothing else.
#[test]
fn squares_beside_a_residual_only_up_to_the_size_limit() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = common::x264_clip(dir.path(), "b.mp4", "200x120", 90, &["-bf", "3"]);
    let path = clip.to_str().unwrap();
    let with_limit = |max| OfflineOptions {
        residual: ResidualSource::Emulate,
        squares: Some((576, 16)),
        squares_peak_budget: Some(max),
        ..OfflineOptions::default()
    };
    let peak = peak_with_squares(200, 120, 64, 576, 16, false);
    let kept = analyze_offline(path, &with_limit(peak)).unwrap();
    let left = analyze_offline(path, &with_limit(peak - 1)).unwrap();
    assert_eq!(kept.squares.len(), kept.rgb_frame_ids().len());
    assert!(left.squares.is_empty());
    assert!(kept.analysis.frames == left.analysis.frames);
    assert_eq!(kept.analysis.frame_ids, left.analysis.frame_ids);
}

/// Interlaced H.264 (MBAFF), whose slice headers the scan does not read.
const MBAFF: [&str; 4] = ["-flags", "+ildct+ilme", "-x264-params", "tff=1"];

/// The emulator frees references no later frame can pick only while output positions equal
/// timestamp ranks. Where the scan cannot read the decoder's output order (interlaced
/// H.264), one picture stamped a second late breaks that unseen, and the pass runs again
/// keeping every reference (said in the notes). An intact stream needs no second pass.
#[test]
fn emulated_pass_runs_again_when_positions_and_ranks_disagree() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = OfflineOptions {
        seq_len_frames: 16,
        residual: ResidualSource::Emulate,
        ..OfflineOptions::default()
    };
    let again = |a: &codecscope::video::OfflineAnalysis| {
        a.analysis.notes.iter().any(|n| n.contains("ran again"))
    };
    let (intact, broken) = late_stamped_at(dir.path(), "libx264", "mbaff", 50, &MBAFF);
    let a = analyze_offline(intact.to_str().unwrap(), &o).unwrap();
    assert!(!again(&a), "{:?}", a.analysis.notes);
    let a = analyze_offline(broken.to_str().unwrap(), &o).unwrap();
    assert!(again(&a), "{:?}", a.analysis.notes);
    assert_eq!(a.analysis.frames.len(), 16);
    assert!(a.analysis.frames.iter().all(|f| f.residual.is_some()));
}

/// A 120-frame B-pyramid clip from `encoder`, and a copy whose picture 50 is stamped 1.02 s
/// late: between two other frames' timestamps, so ranks stay distinct but no longer follow
/// the decoder's output order.
fn late_stamped(
    dir: &std::path::Path,
    encoder: &str,
    tag: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    late_stamped_at(dir, encoder, tag, 50, &[])
}

/// [`late_stamped`] with another late picture and more encoder options.
fn late_stamped_at(
    dir: &std::path::Path,
    encoder: &str,
    tag: &str,
    picture: usize,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-frames:v",
        "120",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        encoder,
        "-bf",
        "3",
    ];
    if encoder == "libx265" {
        // libx265 logs to stderr on its own unless told not to.
        args.extend(["-x265-params", "log-level=error"]);
    }
    args.extend(extra);
    let intact = common::ffmpeg(dir, &format!("{tag}.mp4"), &args);
    let broken = common::ffmpeg(
        dir,
        &format!("{tag}-late{picture}.mp4"),
        &[
            "-i",
            intact.to_str().unwrap(),
            "-c",
            "copy",
            "-bsf:v",
            &format!("setts=pts=if(eq(N\\,{picture})\\,PTS+1.02/TB\\,PTS)"),
        ],
    );
    (intact, broken)
}

/// Without a residual (and with the emulator), the pass leaves unneeded non-reference
/// pictures undecoded and numbers frames by timestamp rank; frame difference needs every
/// picture and decodes them all. Both must name the same frames with the same motion, on
/// intact B-pyramid clips and on copies with a picture stamped late. In H.264 and HEVC the
/// scan reads the decoder's output order from slice headers and sees the late stamp before
/// decoding. Interlaced H.264, whose headers it does not read, has every picture decoded;
/// there the emulator's pass sees the late stamp and runs again keeping every reference
/// (said in the notes).
#[test]
fn dropped_pictures_change_no_frame() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (h264, h264_late) = late_stamped(dir.path(), "libx264", "avc");
    let (hevc, hevc_late) = late_stamped(dir.path(), "libx265", "hevc");
    let (mbaff, mbaff_late) = late_stamped_at(dir.path(), "libx264", "mbaff", 50, &MBAFF);
    for (clip, rerun) in [
        (&h264, false),
        (&h264_late, false),
        (&hevc, false),
        (&hevc_late, false),
        (&mbaff, false),
        (&mbaff_late, true),
    ] {
        let path = clip.to_str().unwrap();
        let run = |residual| {
            let o = OfflineOptions {
                seq_len_frames: 24,
                residual,
                ..OfflineOptions::default()
            };
            analyze_offline(path, &o).unwrap()
        };
        let all = run(ResidualSource::FrameDiff);
        for residual in [ResidualSource::None, ResidualSource::Emulate] {
            let a = run(residual);
            let what = format!("{residual:?} {path}");
            assert_eq!(a.analysis.frame_ids, all.analysis.frame_ids, "{what}");
            assert_eq!(a.used_frame, all.used_frame, "{what}");
            for (x, y) in a.analysis.frames.iter().zip(&all.analysis.frames) {
                assert_eq!(x.frame_index, y.frame_index, "{what}");
                assert_eq!(x.frame_type, y.frame_type, "{what}");
                assert!(x.motion == y.motion, "{what}: frame {}", x.frame_index);
            }
            let again = a.analysis.notes.iter().any(|n| n.contains("again"));
            let want = rerun && residual == ResidualSource::Emulate;
            assert_eq!(again, want, "{what}: {:?}", a.analysis.notes);
        }
    }
}

/// Stage 1 names frames in the decoder's output order (upstream counts frames as they
/// come out). Dropping unneeded non-reference pictures must not change which picture gets
/// which number: the same frames, types, motion and residuals as a decode of every picture.
/// H.264 and HEVC clips with a picture stamped late (the scan sees it in the slice headers
/// and numbers frames in output order), and HEVC with open GOPs (CRA pictures and their
/// RASL pictures), temporal sub-layers, in-band parameter sets (MPEG-TS) and a transport
/// stream cut after its start (whose first CRA's RASL pictures are never output, which the
/// scan sees too). Where the headers agree with the timestamps, pictures are dropped and
/// the video is decoded once. Interlaced H.264 (headers unread) has every picture decoded,
/// so a late stamp shows in the decode.
#[test]
fn stage1_dropping_keeps_output_order_numbers() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (h264, h264_late) = late_stamped(d, "libx264", "avc");
    let (hevc, hevc_late) = late_stamped(d, "libx265", "hevc");
    // Picture 41 is a non-reference picture: dropping it while trusting its timestamp
    // renumbered the frames after it.
    let (_, hevc_late41) = late_stamped_at(d, "libx265", "hevc", 41, &[]);
    let x265 = |name: &str, params: &str| {
        common::ffmpeg(
            d,
            name,
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25",
                "-frames:v",
                "150",
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx265",
                "-x265-params",
                params,
            ],
        )
    };
    let open_gop = "keyint=24:min-keyint=24:open-gop=1:bframes=4:b-pyramid=1:log-level=error";
    let open_mp4 = x265("open.mp4", open_gop);
    let open_ts = x265("open.ts", open_gop);
    let layers = x265("layers.mp4", "temporal-layers=1:bframes=3:log-level=error");
    let cut = common::ffmpeg(
        d,
        "cut.ts",
        &["-ss", "2.1", "-i", open_ts.to_str().unwrap(), "-c", "copy"],
    );
    let (mbaff, mbaff_late) = late_stamped_at(d, "libx264", "mbaff", 50, &MBAFF);
    // Formats the project's decoder refuses but whose headers the scan reads: 10-bit,
    // 4:2:2, and 4:0:0 fading in (explicit weights without chroma weights).
    let (hi10, hi10_late) = late_stamped_at(d, "libx264", "hi10", 50, &["-pix_fmt", "yuv420p10le"]);
    let (_, hi422_late) = late_stamped_at(d, "libx264", "hi422", 50, &["-pix_fmt", "yuv422p"]);
    let gray_fade = ["-pix_fmt", "gray", "-vf", "fade=in:0:60", "-weightp", "2"];
    let (gray, _) = late_stamped_at(d, "libx264", "gray", 50, &gray_fade);
    let by_timestamps = [
        &h264, &hevc, &open_mp4, &open_ts, &layers, &cut, &mbaff, &hi10, &gray,
    ];
    for clip in [
        &h264,
        &h264_late,
        &hevc,
        &hevc_late,
        &hevc_late41,
        &open_mp4,
        &open_ts,
        &layers,
        &cut,
        &mbaff,
        &mbaff_late,
        &hi10,
        &hi10_late,
        &hi422_late,
        &gray,
    ] {
        let path = clip.to_str().unwrap();
        let run = |skip_unneeded| {
            let o = AnalyzeOptions {
                sequence_length: 24,
                residual: ResidualSource::Emulate,
                skip_unneeded,
                ..AnalyzeOptions::default()
            };
            analyze_with(path, &o, &mut |_| true).unwrap()
        };
        let (all, dropped) = (run(false), run(true));
        assert_eq!(all.stats.frames_skipped, 0, "{path}");
        assert_eq!(
            dropped.analysis.frame_count, all.analysis.frame_count,
            "{path}"
        );
        assert_eq!(dropped.analysis.frame_ids, all.analysis.frame_ids, "{path}");
        for (x, y) in dropped.analysis.frames.iter().zip(&all.analysis.frames) {
            let what = format!("{path}: frame {}", y.frame_index);
            assert_eq!(x.frame_index, y.frame_index, "{what}");
            assert_eq!(x.frame_type, y.frame_type, "{what}");
            assert!(x.motion == y.motion, "{what}");
            assert!(x.residual == y.residual, "{what}");
        }
        eprintln!(
            "{path}: {} frames, {} pictures dropped, {} pass(es), by {}",
            dropped.analysis.frame_count,
            dropped.stats.frames_skipped,
            dropped.stats.passes,
            dropped.stats.indexing
        );
        let passes = if clip == &mbaff_late { 2 } else { 1 };
        assert_eq!(
            dropped.stats.passes, passes,
            "{path}: {:?}",
            dropped.analysis.notes
        );
        if clip == &cut {
            // The first CRA's RASL pictures are packets but no frames.
            assert!(
                dropped.stats.packets > dropped.analysis.frame_count,
                "{path}"
            );
        }
        if by_timestamps.contains(&clip) {
            assert_eq!(dropped.stats.indexing, "timestamps", "{path}");
            // Interlaced H.264: the output order is unread, so every picture is decoded.
            let unread = clip == &mbaff;
            assert_eq!(dropped.stats.frames_skipped == 0, unread, "{path}");
        } else {
            assert_eq!(dropped.stats.indexing, "output order", "{path}");
        }
    }
}
