//! The inspector: a terminal UI over the library. State lives in [`app::App`] and changes
//! only through `update(action)`; [`view::draw`] turns it into a buffer; the background
//! [`crate::engine`] decodes and re-selects without blocking either.

pub mod app;
pub mod doctor;
pub mod images;
pub mod keys;
pub mod knobs;
pub mod probe;
pub mod sample;
pub mod source;
pub mod theme;
pub mod view;
pub mod whatif;

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event};
use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use crate::analysis::ResidualSource;
use crate::engine::Mode;
use app::{Action, App};
use images::{ImageCache, ImagesArg};
use sample::LoadOptions;
use source::Opened;
use theme::Theme;

pub use view::grid::counts as grid_counts;

/// How the inspector runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub images: ImagesArg,
    pub load: LoadOptions,
    pub residual: ResidualSource,
    /// Capture the mouse (wheel steps frames or moves, a click on a tab opens it).
    pub mouse: bool,
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        event::DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restores the terminal before the default panic message prints.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Runs the inspector on what was opened until the user quits.
pub fn run(opened: Opened, opts: RunOptions) -> anyhow::Result<()> {
    install_panic_hook();
    terminal::enable_raw_mode()?;
    let mut stdout = io::stdout();
    execute!(stdout, EnterAlternateScreen, cursor::Hide)?;
    if opts.mouse {
        execute!(stdout, event::EnableMouseCapture)?;
    }
    let result = run_inner(opened, opts);
    restore_terminal();
    result
}

fn run_inner(opened: Opened, opts: RunOptions) -> anyhow::Result<()> {
    // The picker queries the terminal: after entering the alternate screen, before events.
    let picker = images::picker(opts.images);
    let mut cache = ImageCache::new(picker);
    let theme = Theme::from_env();
    let mut app = App::new(opts.load.clone(), Mode::Background);
    app.residual = opts.residual;
    app.images = cache.enabled();
    app.open(opened);
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut drawn_generation = u64::MAX;
    let mut sample_title = String::new();
    let mut last_tick = Instant::now();
    loop {
        let title = app
            .sample
            .as_ref()
            .map(|s| s.title.clone())
            .unwrap_or_default();
        if title != sample_title {
            cache.clear();
            sample_title = title;
        }
        let mut out = io::stdout();
        execute!(out, BeginSynchronizedUpdate)?;
        if app.layout_generation != drawn_generation {
            // Pictures drawn by escape sequences are not cells: clear them with the screen.
            terminal.clear()?;
            drawn_generation = app.layout_generation;
        }
        terminal.draw(|f| view::draw(f, &app, &mut cache, &theme))?;
        execute!(out, EndSynchronizedUpdate)?;
        out.flush()?;
        if app.quit {
            break;
        }
        let timeout = Duration::from_millis(100).saturating_sub(last_tick.elapsed());
        if event::poll(timeout)? {
            match event::read()? {
                Event::Key(k) => {
                    if let Some(a) = keys::action_for(k, app.input) {
                        app.update(a);
                    }
                }
                Event::Resize(_, _) => app.layout_generation += 1,
                Event::Mouse(m) => {
                    let kind = match m.kind {
                        event::MouseEventKind::ScrollUp => Some(app::MouseKind::WheelUp),
                        event::MouseEventKind::ScrollDown => Some(app::MouseKind::WheelDown),
                        event::MouseEventKind::Down(event::MouseButton::Left) => {
                            Some(app::MouseKind::Click)
                        }
                        _ => None,
                    };
                    if let Some(a) = kind.and_then(|k| app.mouse_action(k, m.column, m.row)) {
                        app.update(a);
                    }
                }
                _ => {}
            }
        }
        if last_tick.elapsed() >= Duration::from_millis(100) {
            app.update(Action::Tick);
            last_tick = Instant::now();
        }
    }
    Ok(())
}
