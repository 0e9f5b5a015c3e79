//! Opening a container and describing its video stream; a demux-only packet scan.

use std::sync::Once;

use ff::ffi;
use ffmpeg_next as ff;

use super::error::VideoError;
use super::hevc_order::{HevcOutputOrder, PictureOrder};
use super::nal::{
    first_slice_info, first_slice_info_of, nal_units, NalCodec, NalFraming, SliceNalInfo,
};

/// What `probe` reports about a video file.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub path: String,
    /// FFmpeg's container (demuxer) name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// FFmpeg's codec name, e.g. `h264`, `hevc`.
    pub codec: String,
    pub width: usize,
    pub height: usize,
    /// Decoded pixel format as FFmpeg names it (`yuv420p`, ...), when known.
    pub pixel_format: String,
    /// What OpenCV's `CAP_PROP_FRAME_COUNT` gives: the stream's `nb_frames`, else
    /// `floor(duration * opencv_fps + 0.5)`; 0 when neither is known.
    pub container_frame_count: usize,
    /// The count above is the container's own (`nb_frames`), not an estimate.
    pub container_frame_count_exact: bool,
    /// The frame rate upstream's reader converts timestamps with: FFmpeg's guessed frame
    /// rate, else the average frame rate, else 30.
    pub fps: f64,
    /// The same as a fraction `(num, den)`.
    pub fps_rational: (i32, i32),
    /// What OpenCV's `CAP_PROP_FPS` gives: the average frame rate, else the guessed one,
    /// else 0.
    pub opencv_fps: f64,
    /// The video stream's time base `(num, den)`.
    pub time_base: (i32, i32),
    /// Stream start time in `time_base` units, when set.
    pub start_time: Option<i64>,
    /// Duration in seconds (container, else stream), 0 when unknown.
    pub duration_sec: f64,
    /// Index of the video stream in the container.
    pub stream_index: usize,
}

impl VideoInfo {
    /// Whether the analysis (motion grid, residual) handles this codec (SPEC 1.2:
    /// upstream accepts H.264 and HEVC only).
    pub fn is_supported_codec(&self) -> bool {
        matches!(self.codec.as_str(), "h264" | "hevc")
    }
}

/// One packet of the video stream, in decode (file) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    pub pts: Option<i64>,
    pub dts: Option<i64>,
    pub size: usize,
    pub key: bool,
    /// Marked for discard by the demuxer (edit lists): decoded but never output.
    pub discard: bool,
    /// Marked corrupt by the demuxer (e.g. cut short by the end of a truncated file).
    pub corrupt: bool,
    /// The first slice NAL unit's header (H.264/HEVC only).
    pub slice: SliceNalInfo,
    /// Where the picture comes in the decoder's output, as `(period, POC)` from the slice
    /// header (H.264: a period starts at each IDR picture or memory reset; HEVC: at each
    /// IDR or BLA picture and end of sequence, as FFmpeg counts sequences). Filled by the
    /// scan; `None` elsewhere, for other codecs, for pictures a decoder does not output and
    /// for headers that cannot be read.
    pub output_key: Option<(u32, i32)>,
    /// The slice headers say the decoder never outputs this picture (HEVC: a RASL picture
    /// of the picture decoding starts at, or `pic_output_flag` 0): it is no frame.
    pub never_shown: bool,
}

/// All video packets of a file, and the demux error that stopped the scan, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PacketScan {
    pub packets: Vec<PacketInfo>,
    pub error: Option<String>,
}

/// Quiets FFmpeg's own logging (it would write into the terminal UI) and initialises it.
pub fn init_ffmpeg() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

/// Lets FFmpeg log errors to stderr again (for command-line debugging).
pub fn set_ffmpeg_logging(on: bool) {
    init_ffmpeg();
    let level = if on {
        ff::util::log::Level::Error
    } else {
        ff::util::log::Level::Quiet
    };
    ff::util::log::set_level(level);
}

/// An opened container with its chosen video stream.
pub(crate) struct Source {
    pub input: ff::format::context::Input,
    pub info: VideoInfo,
    pub nal_codec: Option<NalCodec>,
    pub framing: NalFraming,
    /// The stream's codec extradata (`avcC` for MP4 H.264), possibly empty.
    pub extradata: Vec<u8>,
}

fn rational(r: ffi::AVRational) -> (i32, i32) {
    (r.num, r.den)
}

fn to_f64(r: ffi::AVRational) -> f64 {
    if r.den == 0 {
        0.0
    } else {
        r.num as f64 / r.den as f64
    }
}

impl Source {
    pub fn open(path: &str) -> Result<Source, VideoError> {
        init_ffmpeg();
        let meta = std::fs::metadata(path).map_err(|e| VideoError::Io {
            path: path.into(),
            reason: e.to_string(),
        })?;
        if meta.is_dir() {
            return Err(VideoError::Io {
                path: path.into(),
                reason: "is a directory".into(),
            });
        }
        if meta.len() == 0 {
            return Err(VideoError::EmptyFile { path: path.into() });
        }
        let mut input = ff::format::input(path).map_err(|e| VideoError::NotAVideo {
            path: path.into(),
            reason: e.to_string(),
        })?;
        let stream = input
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| VideoError::NoVideoStream { path: path.into() })?;
        let stream_index = stream.index();
        let container = input.format().name().to_string();
        // SAFETY: the context and its streams live as long as `input`; we only read fields
        // and call FFmpeg's frame-rate guess, which reads them too.
        let info = unsafe {
            let ctx = input.as_mut_ptr();
            let st = *(*ctx).streams.add(stream_index);
            let par = (*st).codecpar;
            let codec_id = ff::codec::Id::from((*par).codec_id);
            let codec = codec_id.name().to_string();
            let width = (*par).width.max(0) as usize;
            let height = (*par).height.max(0) as usize;
            let pixel_format = if (*par).format >= 0 {
                let fmt: ffi::AVPixelFormat = std::mem::transmute((*par).format);
                ff::format::Pixel::from(fmt)
                    .descriptor()
                    .map(|d| d.name().to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let tb = (*st).time_base;
            let avg = (*st).avg_frame_rate;
            let guess = ffi::av_guess_frame_rate(ctx, st, std::ptr::null_mut());
            let fr = if guess.num > 0 && guess.den > 0 {
                guess
            } else if avg.num > 0 && avg.den > 0 {
                avg
            } else {
                ffi::AVRational { num: 30, den: 1 }
            };
            let opencv_fps = if to_f64(avg) > 1e-6 {
                to_f64(avg)
            } else {
                to_f64(guess).max(0.0)
            };
            let mut duration_sec = (*ctx).duration as f64 / ffi::AV_TIME_BASE as f64;
            if (*ctx).duration == ffi::AV_NOPTS_VALUE || duration_sec < 1e-6 {
                duration_sec = if (*st).duration != ffi::AV_NOPTS_VALUE && (*st).duration > 0 {
                    (*st).duration as f64 * to_f64(tb)
                } else {
                    0.0
                };
            }
            let nb = (*st).nb_frames;
            let container_frame_count = if nb > 0 {
                nb as usize
            } else {
                (duration_sec * opencv_fps + 0.5).floor().max(0.0) as usize
            };
            let start_time = ((*st).start_time != ffi::AV_NOPTS_VALUE).then_some((*st).start_time);
            VideoInfo {
                path: path.to_string(),
                container,
                codec,
                width,
                height,
                pixel_format,
                container_frame_count,
                container_frame_count_exact: nb > 0,
                fps: to_f64(fr),
                fps_rational: rational(fr),
                opencv_fps,
                time_base: rational(tb),
                start_time,
                duration_sec,
                stream_index,
            }
        };
        let nal_codec = match info.codec.as_str() {
            "h264" => Some(NalCodec::H264),
            "hevc" => Some(NalCodec::Hevc),
            _ => None,
        };
        // SAFETY: extradata is `extradata_size` bytes owned by the stream parameters.
        let extradata = unsafe {
            let st = *(*input.as_ptr()).streams.add(stream_index);
            let par = (*st).codecpar;
            if (*par).extradata.is_null() || (*par).extradata_size <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts((*par).extradata, (*par).extradata_size as usize)
                    .to_vec()
            }
        };
        let framing = match nal_codec {
            Some(c) => NalFraming::from_extradata(c, &extradata),
            None => NalFraming::AnnexB,
        };
        Ok(Source {
            input,
            info,
            nal_codec,
            framing,
            extradata,
        })
    }

    /// Fails with `UnsupportedCodec` unless the stream is H.264 or HEVC.
    pub fn require_supported(&self) -> Result<(), VideoError> {
        if self.info.is_supported_codec() {
            Ok(())
        } else {
            Err(VideoError::UnsupportedCodec {
                path: self.info.path.clone(),
                codec: self.info.codec.clone(),
            })
        }
    }

    /// Describes one packet of the video stream.
    pub fn packet_info(&self, packet: &ff::Packet) -> PacketInfo {
        let slice = match (self.nal_codec, packet.data()) {
            (Some(c), Some(d)) => first_slice_info(d, self.framing, c),
            _ => SliceNalInfo::default(),
        };
        Self::describe(packet, slice)
    }

    /// [`Source::packet_info`] with the first slice's header already read.
    fn describe(packet: &ff::Packet, slice: SliceNalInfo) -> PacketInfo {
        PacketInfo {
            pts: packet.pts(),
            dts: packet.dts(),
            size: packet.size(),
            key: packet.is_key(),
            // SAFETY: reading a plain field of a live packet.
            discard: unsafe {
                (*ff::codec::packet::Ref::as_ptr(packet)).flags & ffi::AV_PKT_FLAG_DISCARD != 0
            },
            corrupt: packet.is_corrupt(),
            slice,
            output_key: None,
            never_shown: false,
        }
    }

    /// Reads every packet of the video stream without decoding. Stops at the first demux
    /// error, as upstream's reader does, and reports it.
    pub fn scan(
        &mut self,
        progress: &mut dyn FnMut(usize) -> bool,
    ) -> Result<PacketScan, VideoError> {
        let mut scan = PacketScan::default();
        let idx = self.info.stream_index;
        let mut order = self.nal_codec.map(|c| HeaderOrder::new(c, &self.extradata));
        loop {
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ff::Error::Eof) => break,
                Err(e) => {
                    scan.error = Some(format!(
                        "demuxer error after {} packets: {e}",
                        scan.packets.len()
                    ));
                    break;
                }
            }
            if packet.stream() != idx {
                continue;
            }
            // The packet's NAL units, split once for its slice header and its order.
            let units = match (self.nal_codec, packet.data()) {
                (Some(_), Some(data)) => nal_units(data, self.framing),
                _ => Vec::new(),
            };
            let slice = self
                .nal_codec
                .map_or_else(SliceNalInfo::default, |c| first_slice_info_of(&units, c));
            let mut info = Self::describe(&packet, slice);
            if let Some(o) = &mut order {
                match o.push(&units) {
                    PictureOrder::Shown(period, poc) => info.output_key = Some((period, poc)),
                    PictureOrder::NotShown => info.never_shown = true,
                    PictureOrder::Unknown => {}
                }
            }
            scan.packets.push(info);
            if scan.packets.len() % 256 == 0 && !progress(scan.packets.len()) {
                return Err(VideoError::Cancelled {
                    path: self.info.path.clone(),
                });
            }
        }
        Ok(scan)
    }
}

/// The decoder's output order read from parameter sets and slice headers, per codec.
enum HeaderOrder {
    H264(h264::OutputOrder),
    Hevc(HevcOutputOrder),
}

impl HeaderOrder {
    fn new(codec: NalCodec, extradata: &[u8]) -> HeaderOrder {
        match codec {
            NalCodec::H264 => {
                let mut o = h264::OutputOrder::new();
                o.set_extradata(extradata);
                HeaderOrder::H264(o)
            }
            NalCodec::Hevc => {
                let mut o = HevcOutputOrder::new();
                o.set_extradata(extradata);
                HeaderOrder::Hevc(o)
            }
        }
    }

    /// Where one access unit's picture comes in the decoder's output.
    fn push(&mut self, nals: &[&[u8]]) -> PictureOrder {
        match self {
            HeaderOrder::H264(o) => match o.push(nals) {
                Some((period, poc)) => PictureOrder::Shown(period, poc),
                None => PictureOrder::Unknown,
            },
            HeaderOrder::Hevc(o) => o.push(nals),
        }
    }
}

/// Describes a video file: container, codec, size, frame counts and rates.
pub fn probe(path: &str) -> Result<VideoInfo, VideoError> {
    Ok(Source::open(path)?.info)
}

/// Describes a video file and lists its video packets (decode order) without decoding.
pub fn scan_packets(path: &str) -> Result<(VideoInfo, PacketScan), VideoError> {
    let mut src = Source::open(path)?;
    let scan = src.scan(&mut |_| true)?;
    Ok((src.info, scan))
}

/// Versions of the linked FFmpeg libraries, `(library, "major.minor.micro")`.
pub fn linked_versions() -> Vec<(&'static str, String)> {
    init_ffmpeg();
    let v = |x: u32| format!("{}.{}.{}", x >> 16, (x >> 8) & 0xff, x & 0xff);
    vec![
        ("libavcodec", v(ff::codec::version())),
        ("libavformat", v(ff::format::version())),
        ("libavutil", v(ff::util::version())),
    ]
}
