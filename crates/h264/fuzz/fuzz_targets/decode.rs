#![no_main]
//! Whole-picture decoding of an Annex B stream; the first byte picks the
//! output mode.
use h264::Mode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mode = if sel & 1 == 0 { Mode::Normal } else { Mode::UpstreamResidual };
    h264::fuzzing::whole_stream(rest, mode);
});
