//! The key map: terminal key events to actions, and the list `?` shows.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Action, InputMode};

/// Every key, for the help popup: (keys, what, where).
pub const HELP: &[(&str, &str, &str)] = &[
    (
        "q  Ctrl-C  Esc",
        "quit (Esc: close popup, back to the list first)",
        "all",
    ),
    ("?", "this help", "all"),
    ("--mouse", "wheel steps frames or moves; click a tab", "all"),
    (
        "1-7  Tab  S-Tab",
        "list, mosaics, grid, energy, params, findings, doctor",
        "all",
    ),
    ("↑↓ jk PgUp PgDn g G", "move, page, first, last", "lists"),
    ("Enter", "open the sample (doctor: eval's folder)", "list"),
    (
        "/  f  s",
        "search, filter (findings, by code), sort",
        "list",
    ),
    ("← → h l n p", "previous / next mosaic", "mosaics"),
    (
        "z  w",
        "strip or one large; on-disk or re-selected",
        "mosaics",
    ),
    ("← → h l", "previous / next sampled frame t", "grid energy"),
    ("↑↓ j k H L S-←→", "move the cell cursor", "grid"),
    ("t", "jump to frame t (type it, Enter)", "grid energy"),
    ("u", "underlay: none, fused, motion, residual", "grid"),
    ("r", "reverse: n p mosaic, arrows slot, Enter go", "grid"),
    ("d", "diff: kept, added, removed vs disk", "grid"),
    (
        "↑↓ j k  ← → - +",
        "choose a knob; change it (re-selects)",
        "params",
    ),
    ("Enter", "type a value for the knob", "params"),
    (
        "R  0  W",
        "residual source; reset; write beside originals",
        "params",
    ),
];

/// Maps a key event to an action in the current input mode.
pub fn action_for(key: KeyEvent, mode: InputMode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    if mode != InputMode::Normal {
        return match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Char(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
        KeyCode::Char(c @ '1'..='7') => Action::Pane(c as usize - '1' as usize),
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Left if shift => Action::CursorLeft,
        KeyCode::Right if shift => Action::CursorRight,
        KeyCode::Char('H') => Action::CursorLeft,
        KeyCode::Char('L') => Action::CursorRight,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('n') => Action::NextImage,
        KeyCode::Char('p') => Action::PrevImage,
        KeyCode::Char('z') => Action::ToggleLarge,
        KeyCode::Char('w') => Action::ToggleWhatIf,
        KeyCode::Char('u') => Action::CycleUnderlay,
        KeyCode::Char('r') => Action::ToggleReverse,
        KeyCode::Char('d') => Action::ToggleDiff,
        KeyCode::Char('t') => Action::StartJump,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char('f') => Action::CycleFilter,
        KeyCode::Char('s') => Action::CycleSort,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::Increase,
        KeyCode::Char('-') => Action::Decrease,
        KeyCode::Char('R') => Action::CycleResidual,
        KeyCode::Char('0') => Action::ResetParams,
        KeyCode::Char('W') => Action::Write,
        _ => return None,
    })
}
