//! Whether the terminal answers queries at all, asked without leaving a reader behind.
//!
//! The picture protocol detection (`Picker::from_query_stdio`) reads its answers on a thread
//! it abandons when none come in time: that thread goes on reading the terminal and takes
//! the next answer or key meant for the inspector (the cursor position read at start-up then
//! fails). So the inspector first sends the same status request the detection ends with,
//! through the same path (tmux passthrough inside tmux), and waits for it with `poll`, which
//! leaves nothing behind; only a terminal that answers is queried further.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// Inside tmux, as the picture protocol detection decides it.
fn in_tmux() -> bool {
    std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
        || std::env::var("TERM_PROGRAM").is_ok_and(|p| p == "tmux")
}

/// The device status request (`CSI 5 n`), wrapped for tmux passthrough when inside tmux.
fn status_request(tmux: bool) -> &'static str {
    if tmux {
        "\x1bPtmux;\x1b\x1b[5n\x1b\\"
    } else {
        "\x1b[5n"
    }
}

/// True when `bytes` holds a complete status answer (`CSI 0 n` or `CSI 3 n`).
fn holds_status_answer(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"\x1b[0n" || w == b"\x1b[3n")
}

/// Sends the status request and waits up to `timeout` for its answer, reading (and so
/// consuming) what arrives meanwhile. The terminal must be in raw mode. False when stdin is
/// not a terminal.
#[cfg(unix)]
pub fn terminal_answers(timeout: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    let tmux = in_tmux();
    if tmux {
        // The detection turns passthrough on before asking; the request must pass too.
        let _ = std::process::Command::new("tmux")
            .args(["set", "-p", "allow-passthrough", "on"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let mut out = io::stdout();
    if out
        .write_all(status_request(tmux).as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return false;
    }
    let fd = stdin.as_raw_fd();
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, its count given as 1.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        if ready < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if ready <= 0 {
            return false;
        }
        let mut buf = [0u8; 64];
        // SAFETY: reads at most `buf.len()` bytes into `buf`; poll said it will not block.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return false;
        }
        seen.extend_from_slice(&buf[..n as usize]);
        if holds_status_answer(&seen) {
            return true;
        }
    }
}

/// Elsewhere the detection's own timeout is trusted.
#[cfg(not(unix))]
pub fn terminal_answers(_timeout: Duration) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers() {
        assert_eq!(status_request(false), "\x1b[5n");
        assert_eq!(status_request(true), "\x1bPtmux;\x1b\x1b[5n\x1b\\");
        assert!(holds_status_answer(b"\x1b[?62;4c\x1b[0n"));
        assert!(holds_status_answer(b"x\x1b[3n"));
        assert!(!holds_status_answer(b"\x1b[0"));
        assert!(!holds_status_answer(b"\x1b[12;1R"));
    }
}
