//! The RGB/YUV round trip of upstream's stage 1, bit for bit on the fixture's patched frames.

mod video_support;
use video_support as common;

use codecscope::video::rgb::stage1_luma;
use codecscope::video::yuv::YuvFrame;
use ndarray::Array3;
use ndarray_npy::read_npy;

#[test]
fn round_trip_matches_residual_y() {
    let (Some(yuv), Some(npy)) = (
        common::fixture("upstream-residual-decode/ytb_XwB-dkS5BVM.first24.upstream_residual.yuv"),
        common::fixture("upstream-residual/residual_y.npy"),
    ) else {
        return;
    };
    let bytes = std::fs::read(yuv).unwrap();
    let truth: Array3<u8> = read_npy(npy).unwrap();
    let (w, h) = (360usize, 640usize);
    let frame_bytes = w * h * 3 / 2;
    assert_eq!(bytes.len(), 24 * frame_bytes);
    for (k, fid) in [0usize, 7, 15, 23].into_iter().enumerate() {
        let f = YuvFrame::from_raw(w, h, &bytes[fid * frame_bytes..]).unwrap();
        let y = stage1_luma(&f);
        let want = truth.index_axis(ndarray::Axis(0), k);
        let want: Vec<u8> = want.iter().copied().collect();
        let diff = y.data.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "frame {fid}: {diff} pixels differ");
    }
}
