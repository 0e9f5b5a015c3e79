//! Colours and styles. With `NO_COLOR` (or `Theme::plain()`) every style is plain or uses
//! only modifiers, and the panes fall back to glyphs where colour carried meaning.

use ratatui::style::{Color, Modifier, Style};

/// One colour per mosaic (cycled when there are more than eight).
const MOSAIC: [Color; 8] = [
    Color::Rgb(230, 80, 80),
    Color::Rgb(240, 160, 60),
    Color::Rgb(220, 210, 70),
    Color::Rgb(110, 200, 90),
    Color::Rgb(70, 190, 200),
    Color::Rgb(80, 130, 240),
    Color::Rgb(170, 100, 230),
    Color::Rgb(230, 110, 190),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn plain() -> Self {
        Theme { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn mosaic(&self, i: usize) -> Color {
        MOSAIC[i % MOSAIC.len()]
    }

    /// A cell not selected, inside the content box.
    pub const UNSELECTED: Color = Color::Rgb(48, 48, 48);
    /// A padding cell not selected.
    pub const PADDING: Color = Color::Rgb(20, 20, 60);
    /// A selected padding cell gets this instead of its mosaic colour's full brightness.
    pub const ADDED: Color = Color::Rgb(60, 220, 90);
    pub const REMOVED: Color = Color::Rgb(230, 60, 60);
    pub const KEPT: Color = Color::Rgb(150, 150, 150);

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Rgb(40, 60, 100))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn tab_active(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// Heatmap colour for a value in [0, 1].
    pub fn heat(&self, v: f32) -> Color {
        let v = v.clamp(0.0, 1.0);
        let r = (255.0 * v.powf(0.6)) as u8;
        let g = (200.0 * v * v) as u8;
        let b = (90.0 * (1.0 - v)) as u8 + 20;
        Color::Rgb(r, g, b)
    }
}
