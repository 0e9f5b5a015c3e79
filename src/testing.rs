//! Helpers for the unit tests.

/// A xorshift32 generator: reproducible pseudo-random `u32`s from `seed` (not 0).
pub fn xorshift32(seed: u32) -> impl FnMut() -> u32 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}
