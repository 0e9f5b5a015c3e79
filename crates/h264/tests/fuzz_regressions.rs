//! Inputs found by the fuzz targets in `fuzz/` (minimized, under
//! `tests/fuzz-regressions/<target>/`) and the fuzz seeds, replayed through
//! the same entry points: none may panic.

use std::path::Path;

use h264::fuzzing;
use h264::Mode;

/// Same dispatch as the fuzz target of that name.
fn run(target: &str, data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mode = |bit: u8| {
        if sel & bit == 0 {
            Mode::Normal
        } else {
            Mode::UpstreamResidual
        }
    };
    match target {
        "bit_reader" => fuzzing::bit_reader(data),
        "params" => fuzzing::params_and_header(data),
        "cavlc" if sel & 1 == 0 => fuzzing::cavlc_residual(rest),
        "cavlc" => fuzzing::macroblock_layer(rest, false, mode(2)),
        "cabac" if sel & 1 == 0 => fuzzing::cabac_engine(rest),
        "cabac" => fuzzing::macroblock_layer(rest, true, mode(2)),
        "decode" => fuzzing::whole_stream(rest, mode(1)),
        _ => panic!("unknown fuzz target {target}"),
    }
}

fn replay_dir(dir: &Path) -> usize {
    let mut n = 0;
    let Ok(targets) = std::fs::read_dir(dir) else {
        return 0;
    };
    for t in targets.flatten() {
        let target = t.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for f in files.flatten() {
            let data = std::fs::read(f.path()).unwrap();
            eprintln!("{target}: {}", f.path().display());
            run(&target, &data);
            n += 1;
        }
    }
    n
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fuzz_seeds_decode_without_panic() {
    assert!(replay_dir(&root().join("fuzz/seeds")) > 0);
}

#[test]
fn fuzz_findings_decode_without_panic() {
    replay_dir(&root().join("tests/fuzz-regressions"));
}
