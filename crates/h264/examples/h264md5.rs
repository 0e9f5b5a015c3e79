//! Decode an Annex B H.264 file and print `index,md5,type` per output frame.
//! Usage: h264md5 FILE.h264 [residual] [--dump OUT.yuv]

use h264::{Decoder, Mode};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: h264md5 FILE.h264 [residual] [--dump OUT.yuv]");
        std::process::exit(2);
    }
    let data = std::fs::read(&args[1]).expect("read input");
    let mode = if args.iter().any(|a| a == "residual") {
        Mode::UpstreamResidual
    } else {
        Mode::Normal
    };
    let dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut out = Vec::new();
    let mut dec = Decoder::new(mode);
    let mut idx = 0;
    let mut emit = |p: h264::Picture, out: &mut Vec<u8>| {
        println!("{idx},{},{}", p.md5(), p.pict_type);
        if dump.is_some() {
            out.extend_from_slice(&p.y);
            out.extend_from_slice(&p.u);
            out.extend_from_slice(&p.v);
        }
        idx += 1;
    };
    for nal in h264::split_annexb(&data) {
        if let Err(e) = dec.decode_nal(nal) {
            eprintln!("error: {e}");
            break;
        }
        while let Some(p) = dec.next_frame() {
            emit(p, &mut out);
        }
    }
    match dec.flush() {
        Ok(v) => {
            for p in v {
                emit(p, &mut out);
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
    if let Some(d) = dump {
        std::fs::write(d, out).expect("write dump");
    }
}
