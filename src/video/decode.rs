//! The decode loop: packets in, frames out in presentation order, with exported motion
//! vectors, per-packet `skip_frame` control and the packet's decode position carried to
//! its frame (`reordered_opaque`). A pass with vectors decodes on one thread, on purpose:
//! frame threading exports wrong vectors at the flush (SPEC 2.2). A pass that only needs
//! pictures may use frame threads: the pictures and their order do not change.

use ff::ffi;
use ffmpeg_next as ff;

use super::error::VideoError;
use super::frames::RgbFrame;
use super::motion::MotionVector;
use super::source::{PacketInfo, Source};
use super::yuv::YuvFrame;
use crate::analysis::FrameType;

/// What the sink wants after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Stop reading at once (no flush), like upstream's frame limits.
    Stop,
}

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketAction {
    Decode,
    /// Decode only if its picture is a reference (`skip_frame` noref).
    SkipNonRef,
    /// Do not send it at all (nothing needed depends on it before the next IDR).
    Drop,
}

/// What a decode pass needs from the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoding {
    /// Pictures and their exported motion vectors, on one thread.
    Vectors,
    /// Pictures alone, on this many frame threads (1: none).
    Pictures { threads: usize },
}

/// Receives the decode loop's events.
pub(crate) trait FrameSink {
    /// What to do with this packet.
    fn packet_action(&mut self, _index: usize, _info: &PacketInfo) -> PacketAction {
        PacketAction::Decode
    }
    /// Called after each video packet went to the decoder; `false` cancels.
    fn packet_sent(&mut self, _index: usize, _info: &PacketInfo, _skipped: bool) -> bool {
        true
    }
    fn frame(&mut self, f: &mut FrameView) -> Flow;
}

/// Counts of one run of the decode loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecodeRun {
    pub packets: usize,
    pub frames: usize,
    /// The error that ended decoding early (demuxer or decoder), as upstream stops there.
    pub error: Option<String>,
    /// The sink asked to stop.
    pub stopped: bool,
}

/// Pixel conversions, created on first use and reused.
#[derive(Default)]
pub(crate) struct Converters {
    to_yuv: Option<ff::software::scaling::Context>,
    to_rgb: Option<ff::software::scaling::Context>,
    /// swscale's RGB output, kept: a fresh picture per frame costs page faults (zeroed
    /// memory from the kernel) that show as a large share of a motion-only precompute.
    rgb_out: Option<ff::frame::Video>,
}

/// One decoded frame, borrowed for the duration of the sink call.
pub(crate) struct FrameView<'a> {
    /// Position of the frame's packet in decode order.
    pub decode_index: Option<usize>,
    /// Position among the frames output so far (presentation order).
    pub output_index: usize,
    pub best_effort_timestamp: Option<i64>,
    frame: &'a ff::frame::Video,
    conv: &'a mut Converters,
}

impl FrameView<'_> {
    pub fn width(&self) -> usize {
        self.frame.width() as usize
    }

    pub fn height(&self) -> usize {
        self.frame.height() as usize
    }

    pub fn frame_type(&self) -> FrameType {
        match self.frame.kind() {
            ff::picture::Type::I | ff::picture::Type::SI => FrameType::I,
            ff::picture::Type::P | ff::picture::Type::SP => FrameType::P,
            ff::picture::Type::B | ff::picture::Type::BI => FrameType::B,
            _ => FrameType::Other,
        }
    }

    /// The exported motion vectors (empty for intra frames and for codecs that export none).
    pub fn vectors(&self) -> Vec<MotionVector> {
        let Some(sd) = self
            .frame
            .side_data(ff::util::frame::side_data::Type::MotionVectors)
        else {
            return Vec::new();
        };
        let bytes = sd.data();
        let size = std::mem::size_of::<ffi::AVMotionVector>();
        if bytes.len() % size != 0 {
            return Vec::new();
        }
        bytes
            .chunks_exact(size)
            .map(|c| {
                // SAFETY: `c` holds exactly one AVMotionVector; the side data need not be
                // aligned, hence read_unaligned.
                let m: ffi::AVMotionVector =
                    unsafe { std::ptr::read_unaligned(c.as_ptr() as *const ffi::AVMotionVector) };
                MotionVector {
                    source: m.source,
                    w: m.w,
                    h: m.h,
                    src_x: m.src_x,
                    src_y: m.src_y,
                    dst_x: m.dst_x,
                    dst_y: m.dst_y,
                    motion_x: m.motion_x,
                    motion_y: m.motion_y,
                    motion_scale: m.motion_scale,
                }
            })
            .collect()
    }

    /// True when the frame is 8-bit 4:2:0 already (no conversion needed for `yuv`).
    pub fn is_yuv420p(&self) -> bool {
        matches!(
            self.frame.format(),
            ff::format::Pixel::YUV420P | ff::format::Pixel::YUVJ420P
        )
    }

    /// The picture as owned yuv420p planes (converted through swscale if the decoder
    /// outputs another format).
    pub fn yuv(&mut self) -> Result<YuvFrame, ff::Error> {
        let (w, h) = (self.width(), self.height());
        if self.is_yuv420p() {
            return Ok(copy_planes(self.frame, w, h));
        }
        let conv = match &mut self.conv.to_yuv {
            Some(c)
                if c.input().format == self.frame.format()
                    && c.input().width == w as u32
                    && c.input().height == h as u32 =>
            {
                c
            }
            slot => slot.insert(ff::software::scaling::Context::get(
                self.frame.format(),
                w as u32,
                h as u32,
                ff::format::Pixel::YUV420P,
                w as u32,
                h as u32,
                ff::software::scaling::Flags::BILINEAR,
            )?),
        };
        let mut out = ff::frame::Video::empty();
        conv.run(self.frame, &mut out)?;
        Ok(copy_planes(&out, w, h))
    }

    /// Only the luma plane (first plane for yuv formats).
    pub fn luma(&mut self) -> Result<Vec<u8>, ff::Error> {
        if self.is_yuv420p() {
            let (w, h) = (self.width(), self.height());
            return Ok(copy_plane(self.frame, 0, w, h));
        }
        Ok(self.yuv()?.y)
    }

    /// rgb24 at the source size through swscale (bicubic flag, as OpenCV's reader asks).
    pub fn rgb(&mut self) -> Result<RgbFrame, ff::Error> {
        let mut out = RgbFrame::default();
        self.rgb_into(&mut out)?;
        Ok(out)
    }

    /// [`FrameView::rgb`] into `out`, reusing its buffer.
    pub fn rgb_into(&mut self, out: &mut RgbFrame) -> Result<(), ff::Error> {
        let (w, h) = (self.width(), self.height());
        let fits = |c: &ff::software::scaling::Context| {
            c.input().format == self.frame.format()
                && c.input().width == w as u32
                && c.input().height == h as u32
        };
        if !self.conv.to_rgb.as_ref().is_some_and(fits) {
            self.conv.to_rgb = Some(ff::software::scaling::Context::get(
                self.frame.format(),
                w as u32,
                h as u32,
                ff::format::Pixel::RGB24,
                w as u32,
                h as u32,
                ff::software::scaling::Flags::BICUBIC,
            )?);
            self.conv.rgb_out = None;
        }
        let conv = self.conv.to_rgb.as_mut().expect("converter set above");
        let rgb = self
            .conv
            .rgb_out
            .get_or_insert_with(ff::frame::Video::empty);
        conv.run(self.frame, rgb)?;
        let stride = rgb.stride(0);
        let src = rgb.data(0);
        out.width = w;
        out.height = h;
        out.data.clear();
        out.data.reserve(w * h * 3);
        for y in 0..h {
            out.data
                .extend_from_slice(&src[y * stride..y * stride + w * 3]);
        }
        Ok(())
    }
}

fn copy_plane(f: &ff::frame::Video, idx: usize, w: usize, h: usize) -> Vec<u8> {
    let stride = f.stride(idx);
    let src = f.data(idx);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        out.extend_from_slice(&src[y * stride..y * stride + w]);
    }
    out
}

fn copy_planes(f: &ff::frame::Video, w: usize, h: usize) -> YuvFrame {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    YuvFrame {
        width: w,
        height: h,
        y: copy_plane(f, 0, w, h),
        u: copy_plane(f, 1, cw, ch),
        v: copy_plane(f, 2, cw, ch),
    }
}

fn open_decoder(src: &Source, decoding: Decoding) -> Result<ff::decoder::Video, VideoError> {
    let path = &src.info.path;
    let codec_name = src.info.codec.clone();
    let err = |reason: String| VideoError::DecoderOpen {
        path: path.clone(),
        codec: codec_name.clone(),
        reason,
    };
    let stream = src
        .input
        .stream(src.info.stream_index)
        .ok_or_else(|| err("stream vanished".into()))?;
    let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| err(e.to_string()))?;
    ctx.set_threading(match decoding {
        Decoding::Pictures { threads } if threads > 1 => ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Frame,
            count: threads,
            ..Default::default()
        },
        _ => ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Slice,
            count: 1,
            ..Default::default()
        },
    });
    let codec = ff::codec::decoder::find(ctx.id())
        .ok_or_else(|| err("no decoder for this codec in the linked FFmpeg".into()))?;
    let mut opts = ff::Dictionary::new();
    if decoding == Decoding::Vectors {
        opts.set("flags2", "+export_mvs");
    }
    let opened = ctx
        .decoder()
        .open_as_with(codec, opts)
        .map_err(|e| err(e.to_string()))?;
    opened.video().map_err(|e| err(e.to_string()))
}

/// Decodes the video stream from the current read position to the end (or to the sink's
/// stop), feeding `sink`. Stops at the first demuxer or decoder error, as upstream's reader
/// does, and reports it in the run.
pub(crate) fn decode_stream(
    src: &mut Source,
    decoding: Decoding,
    sink: &mut dyn FrameSink,
) -> Result<DecodeRun, VideoError> {
    let mut dec = open_decoder(src, decoding)?;
    let idx = src.info.stream_index;
    let path = src.info.path.clone();
    let mut run = DecodeRun::default();
    let mut conv = Converters::default();
    let mut frame = ff::frame::Video::empty();

    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut src.input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => {
                run.error = Some(format!("demuxer error after {} packets: {e}", run.packets));
                break;
            }
        }
        if packet.stream() != idx {
            continue;
        }
        let index = run.packets;
        run.packets += 1;
        let info = src.packet_info(&packet);
        let action = sink.packet_action(index, &info);
        if action == PacketAction::Drop {
            if !sink.packet_sent(index, &info, true) {
                return Err(VideoError::Cancelled { path });
            }
            continue;
        }
        let skip = action == PacketAction::SkipNonRef;
        // SAFETY: plain field writes on the open codec context between calls into it.
        unsafe {
            let ctx = dec.as_mut_ptr();
            (*ctx).skip_frame = if skip {
                ffi::AVDiscard::AVDISCARD_NONREF
            } else {
                ffi::AVDiscard::AVDISCARD_DEFAULT
            };
            (*ctx).reordered_opaque = index as i64;
        }
        if let Err(e) = dec.send_packet(&packet) {
            run.error = Some(format!("decoder rejected packet {index}: {e}"));
            break;
        }
        if !sink.packet_sent(index, &info, skip) {
            return Err(VideoError::Cancelled { path });
        }
        if let Err(e) = drain(&mut dec, &mut run, &mut conv, &mut frame, sink) {
            run.error = Some(e);
            break;
        }
        if run.stopped {
            return Ok(run);
        }
    }
    // Flush the frames still held for reordering.
    // SAFETY: as above.
    unsafe {
        (*dec.as_mut_ptr()).skip_frame = ffi::AVDiscard::AVDISCARD_DEFAULT;
    }
    if dec.send_eof().is_ok() {
        if let Err(e) = drain(&mut dec, &mut run, &mut conv, &mut frame, sink) {
            run.error.get_or_insert(e);
        }
    }
    Ok(run)
}

/// Hands every frame the decoder has ready to the sink.
fn drain(
    dec: &mut ff::decoder::Video,
    run: &mut DecodeRun,
    conv: &mut Converters,
    frame: &mut ff::frame::Video,
    sink: &mut dyn FrameSink,
) -> Result<(), String> {
    loop {
        match dec.receive_frame(frame) {
            Ok(()) => {}
            Err(ff::Error::Eof) => return Ok(()),
            Err(ff::Error::Other { errno }) if errno == ffi::EAGAIN => return Ok(()),
            Err(e) => return Err(format!("decoder error after {} frames: {e}", run.frames)),
        }
        // SAFETY: plain field reads of the frame just received.
        let (opaque, best) = unsafe {
            let p = frame.as_ptr();
            ((*p).reordered_opaque, (*p).best_effort_timestamp)
        };
        let mut view = FrameView {
            decode_index: (opaque >= 0).then_some(opaque as usize),
            output_index: run.frames,
            best_effort_timestamp: (best != ffi::AV_NOPTS_VALUE).then_some(best),
            frame,
            conv,
        };
        run.frames += 1;
        if sink.frame(&mut view) == Flow::Stop {
            run.stopped = true;
            return Ok(());
        }
    }
}
