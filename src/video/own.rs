//! Whole-stream decoding with the project's own H.264 decoder (normal or upstream-residual
//! mode), packets demuxed by FFmpeg: what `codecscope decode` shows.

use ffmpeg_next as ff;
use h264::Mode;

use super::error::VideoError;
use super::exact::{open_decoder, unsupported_reason};
use super::nal::NalFraming;
use super::source::Source;

/// One decoded picture, in display order: yuv420p planes without padding.
pub struct OwnPicture {
    pub index: usize,
    pub width: usize,
    pub height: usize,
    pub pict_type: char,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    /// MD5 of Y, U, V as `ffmpeg -f framemd5` hashes them.
    pub md5: String,
}

/// Decodes `path` picture by picture; `on_picture` returns false to stop.
/// Streams the decoder does not support give `VideoError::Corrupt` naming why.
pub fn decode_own(
    path: &str,
    upstream_residual: bool,
    on_picture: &mut dyn FnMut(OwnPicture) -> bool,
) -> Result<usize, VideoError> {
    let err = |reason: String| VideoError::Corrupt {
        path: path.to_string(),
        reason,
    };
    let mut src = Source::open(path)?;
    src.require_supported()?;
    if let Some(why) = unsupported_reason(&src) {
        return Err(VideoError::InvalidRequest {
            path: path.to_string(),
            reason: format!("the project's decoder does not support this stream: {why}"),
        });
    }
    let mode = if upstream_residual {
        Mode::UpstreamResidual
    } else {
        Mode::Normal
    };
    // One video on its own: reconstruction gets a thread.
    let mut dec = open_decoder(&src, mode, true).map_err(|e| err(e.to_string()))?;
    let idx = src.info.stream_index;
    let mut count = 0usize;
    let mut emit = |p: h264::Picture, count: &mut usize| -> bool {
        let md5 = p.md5();
        let pic = OwnPicture {
            index: *count,
            width: p.width,
            height: p.height,
            pict_type: p.pict_type,
            y: p.y,
            u: p.u,
            v: p.v,
            md5,
        };
        *count += 1;
        on_picture(pic)
    };
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut src.input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(err(format!("demuxer error after {count} frames: {e}"))),
        }
        if packet.stream() != idx {
            continue;
        }
        let Some(data) = packet.data() else { continue };
        let r = match src.framing {
            NalFraming::LengthPrefixed(_) => dec.push_avcc_packet(data),
            NalFraming::AnnexB => dec.decode_annexb(data),
        };
        r.map_err(|e| err(format!("after {count} frames: {e}")))?;
        while let Some(pic) = dec.next_frame() {
            if !emit(pic, &mut count) {
                return Ok(count);
            }
        }
    }
    for pic in dec
        .flush()
        .map_err(|e| err(format!("at the end, after {count} frames: {e}")))?
    {
        if !emit(pic, &mut count) {
            break;
        }
    }
    Ok(count)
}
