//! Mosaic pictures inside the buffer, through ratatui-image: protocol detected (kitty,
//! iTerm2, sixel, half-blocks) or forced, one resize protocol per picture, kept between
//! frames so a picture is encoded again only when its area changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use ratatui::layout::Rect;
use ratatui::Frame;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::StatefulProtocol;
use ratatui_image::{Resize, StatefulImage};

/// `--images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImagesArg {
    Auto,
    Kitty,
    Sixel,
    Iterm2,
    Halfblocks,
    None,
}

/// How long a terminal may take to answer the status request (slow SSH links included).
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Builds the picker: queried from the terminal for `auto` (call after entering the
/// alternate screen, before reading events), else forced. `None` draws no pictures.
pub fn picker(arg: ImagesArg) -> Option<Picker> {
    let forced = match arg {
        ImagesArg::None => return None,
        ImagesArg::Auto => None,
        ImagesArg::Kitty => Some(ProtocolType::Kitty),
        ImagesArg::Sixel => Some(ProtocolType::Sixel),
        ImagesArg::Iterm2 => Some(ProtocolType::Iterm2),
        ImagesArg::Halfblocks => Some(ProtocolType::Halfblocks),
    };
    let mut p = match forced {
        Some(ProtocolType::Halfblocks) => Picker::halfblocks(),
        // A terminal that does not answer is never queried further (see `probe`).
        _ if !super::probe::terminal_answers(QUERY_TIMEOUT) => Picker::halfblocks(),
        _ => Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks()),
    };
    if let Some(f) = forced {
        p.set_protocol_type(f);
    }
    Some(p)
}

pub fn protocol_name(p: Option<&Picker>) -> &'static str {
    match p.map(Picker::protocol_type) {
        None => "none",
        Some(ProtocolType::Halfblocks) => "halfblocks",
        Some(ProtocolType::Sixel) => "sixel",
        Some(ProtocolType::Kitty) => "kitty",
        Some(ProtocolType::Iterm2) => "iterm2",
    }
}

/// Where a picture comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageKey {
    File(PathBuf),
    /// The engine's repacked image `index` of answer `generation`.
    WhatIf {
        generation: u64,
        index: usize,
    },
}

/// Pictures decoded and encoded so far.
pub struct ImageCache {
    pub picker: Option<Picker>,
    protocols: HashMap<ImageKey, StatefulProtocol>,
    failed: HashMap<ImageKey, String>,
}

impl ImageCache {
    pub fn new(picker: Option<Picker>) -> Self {
        ImageCache {
            picker,
            protocols: HashMap::new(),
            failed: HashMap::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.picker.is_some()
    }

    /// Forget pictures (another sample opened).
    pub fn clear(&mut self) {
        self.protocols.clear();
        self.failed.clear();
    }

    /// Draws the picture into `area`; returns an error text when it cannot.
    pub fn draw(
        &mut self,
        f: &mut Frame<'_>,
        area: Rect,
        key: &ImageKey,
        load: impl FnOnce() -> Result<DynamicImage, String>,
    ) -> Result<(), String> {
        let Some(picker) = &self.picker else {
            return Err("pictures off (--images none)".into());
        };
        if let Some(e) = self.failed.get(key) {
            return Err(e.clone());
        }
        if !self.protocols.contains_key(key) {
            match load() {
                Ok(img) => {
                    // Mosaics are 576 px; nothing finer than a terminal cell survives anyway.
                    let img = if img.width() > 1024 {
                        img.thumbnail(1024, 1024)
                    } else {
                        img
                    };
                    self.protocols
                        .insert(key.clone(), picker.new_resize_protocol(img));
                }
                Err(e) => {
                    self.failed.insert(key.clone(), e.clone());
                    return Err(e);
                }
            }
        }
        if let Some(p) = self.protocols.get_mut(key) {
            f.render_stateful_widget(StatefulImage::default().resize(Resize::Fit(None)), area, p);
        }
        Ok(())
    }
}

/// Opens a picture file.
pub fn load_file(path: &Path) -> Result<DynamicImage, String> {
    image::open(path).map_err(|e| format!("{}: {e}", path.display()))
}
