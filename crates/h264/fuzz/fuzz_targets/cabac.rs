#![no_main]
//! CABAC engine, then the CABAC macroblock layer behind a fixed SPS/PPS
//! (first byte: which one, and the output mode).
use h264::Mode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 0 {
        h264::fuzzing::cabac_engine(rest);
    } else {
        let mode = if sel & 2 == 0 { Mode::Normal } else { Mode::UpstreamResidual };
        h264::fuzzing::macroblock_layer(rest, true, mode);
    }
});
