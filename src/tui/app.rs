//! The inspector's state and its one way of changing: `update(action)`. Views read this
//! state and never change it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::ResidualSource;
use crate::engine::{self, Engine, Mode, Notification, Outcome, Pipeline, ProgressState};

use super::doctor::{self, DoctorIndex, DoctorRow};
use super::knobs;
use super::sample::{LoadOptions, SampleData};
use super::source::{self, Entry, Index, Opened};
use super::whatif;

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Browser,
    Mosaics,
    Grid,
    Energy,
    Params,
    Findings,
    Doctor,
}

impl Pane {
    pub const ALL: [Pane; 7] = [
        Pane::Browser,
        Pane::Mosaics,
        Pane::Grid,
        Pane::Energy,
        Pane::Params,
        Pane::Findings,
        Pane::Doctor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Browser => "List",
            Pane::Mosaics => "Mosaics",
            Pane::Grid => "Grid",
            Pane::Energy => "Energy",
            Pane::Params => "Params",
            Pane::Findings => "Findings",
            Pane::Doctor => "Doctor",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Back,
    ToggleHelp,
    Pane(usize),
    NextPane,
    PrevPane,
    Up,
    Down,
    Left,
    Right,
    CursorLeft,
    CursorRight,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    NextImage,
    PrevImage,
    ToggleLarge,
    ToggleWhatIf,
    CycleUnderlay,
    ToggleReverse,
    ToggleDiff,
    StartJump,
    StartSearch,
    CycleFilter,
    CycleSort,
    Increase,
    Decrease,
    CycleResidual,
    ResetParams,
    Write,
    Char(char),
    Backspace,
    /// Time passes: pull engine results and browser rows.
    Tick,
}

/// The pane whose tab covers column `x` of the tab line (labels are ` N Name `).
pub fn tab_at(x: u16) -> Option<usize> {
    let mut start = 0u16;
    for (i, p) in Pane::ALL.iter().enumerate() {
        let w = (p.name().len() + 4) as u16;
        if x >= start && x < start + w {
            return Some(i);
        }
        start += w;
    }
    None
}

/// Whether keys are typed into a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Normal,
    Search,
    Jump,
    Knob,
}

/// Mouse input the inspector understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    WheelUp,
    WheelDown,
    Click,
}

/// What the grid's diff view compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffView {
    Off,
    /// The knob's effect: engine at the new parameters vs engine at the on-disk ones.
    Effect,
    /// The proxy's agreement: engine at the on-disk parameters vs the files.
    Agreement,
}

/// What the grid's cells are painted with under the selection marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Underlay {
    None,
    Fused,
    Motion,
    Residual,
}

impl Underlay {
    pub fn name(self) -> &'static str {
        match self {
            Underlay::None => "none",
            Underlay::Fused => "fused",
            Underlay::Motion => "motion",
            Underlay::Residual => "residual",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    WithFindings,
    Code(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Order,
    Name,
    Findings,
    K,
}

/// A list of samples (dataset, stage 1 root, asset root).
pub struct Browser {
    pub title: String,
    pub kind: String,
    pub index: Option<Index>,
    pub entries: Vec<Entry>,
    /// Indices into `entries` after filter and sort.
    pub view: Vec<usize>,
    pub selected: usize,
    pub filter: Filter,
    pub search: String,
    pub sort: SortKey,
    pub done: bool,
    pub asset_root: Option<PathBuf>,
}

impl Browser {
    pub fn refresh_view(&mut self) {
        let q = self.search.to_lowercase();
        let mut v: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                let pass = match &self.filter {
                    Filter::All => true,
                    Filter::WithFindings => !e.findings.is_empty(),
                    Filter::Code(c) => e.has_code(c),
                };
                pass && (q.is_empty()
                    || e.label.to_lowercase().contains(&q)
                    || e.video.to_lowercase().contains(&q))
            })
            .collect();
        match self.sort {
            SortKey::Order => v.sort_by_key(|&i| self.entries[i].ordinal),
            SortKey::Name => v.sort_by(|&a, &b| self.entries[a].label.cmp(&self.entries[b].label)),
            SortKey::Findings => v.sort_by_key(|&i| {
                let e = &self.entries[i];
                (
                    std::cmp::Reverse(e.worst()),
                    std::cmp::Reverse(e.findings.len()),
                    e.ordinal,
                )
            }),
            SortKey::K => v.sort_by_key(|&i| (self.entries[i].k, self.entries[i].ordinal)),
        }
        self.view = v;
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    /// Codes present, for the filter cycle.
    pub fn codes(&self) -> Vec<String> {
        let mut c: Vec<String> = self
            .entries
            .iter()
            .flat_map(|e| e.findings.iter().map(|f| f.code.to_string()))
            .collect();
        c.sort();
        c.dedup();
        c
    }

    pub fn current(&self) -> Option<&Entry> {
        self.view.get(self.selected).map(|&i| &self.entries[i])
    }
}

/// The doctor pane: evaluation's verdict per video of an asset root.
pub struct Doctor {
    pub root: PathBuf,
    pub index: Option<DoctorIndex>,
    pub rows: Vec<DoctorRow>,
    pub selected: usize,
    pub done: bool,
}

/// The inspector.
pub struct App {
    pub pane: Pane,
    pub help: bool,
    pub quit: bool,
    pub message: String,
    pub input: InputMode,
    pub input_text: String,
    pub browser: Option<Browser>,
    pub doctor: Option<Doctor>,
    pub sample: Option<SampleData>,
    pub opts: LoadOptions,
    /// Images are drawn (false with `--images none`).
    pub images: bool,
    pub mosaic: usize,
    pub mosaic_large: bool,
    pub show_whatif: bool,
    pub t: usize,
    pub cursor: (usize, usize),
    pub underlay: Underlay,
    pub reverse: bool,
    /// Reverse mode's mosaic cursor: image, row, column.
    pub rev: (usize, usize, usize),
    pub diff_view: DiffView,
    pub knob: usize,
    pub residual: ResidualSource,
    pub params: Option<Pipeline>,
    pub engine: Option<Engine>,
    pub engine_mode: Mode,
    pub outcome: Option<Arc<Outcome>>,
    /// Counts engine answers (keys the re-selected pictures).
    pub outcome_generation: u64,
    pub engine_error: Option<String>,
    pub progress: ProgressState,
    pub list_offset: usize,
    pub findings_offset: usize,
    /// Increments when what the screen shows changes shape (images, popups): the terminal
    /// loop clears the screen then, so no picture is left behind.
    pub layout_generation: u64,
    pub spinner: usize,
}

impl App {
    pub fn new(opts: LoadOptions, engine_mode: Mode) -> Self {
        App {
            pane: Pane::Browser,
            help: false,
            quit: false,
            message: String::new(),
            input: InputMode::Normal,
            input_text: String::new(),
            browser: None,
            doctor: None,
            sample: None,
            opts,
            images: true,
            mosaic: 0,
            mosaic_large: false,
            show_whatif: false,
            t: 0,
            cursor: (0, 0),
            underlay: Underlay::None,
            reverse: false,
            rev: (0, 0, 0),
            diff_view: DiffView::Off,
            knob: 0,
            residual: ResidualSource::Exact,
            params: None,
            engine: None,
            engine_mode,
            outcome: None,
            outcome_generation: 0,
            engine_error: None,
            progress: ProgressState::default(),
            list_offset: 0,
            findings_offset: 0,
            layout_generation: 0,
            spinner: 0,
        }
    }

    /// Opens what a path names.
    pub fn open(&mut self, opened: Opened) {
        match opened {
            Opened::One(s) => self.set_sample(*s),
            Opened::Many {
                title,
                kind,
                index,
                asset_root,
            } => {
                let mut b = Browser {
                    title,
                    kind,
                    index: Some(index),
                    entries: Vec::new(),
                    view: Vec::new(),
                    selected: 0,
                    filter: Filter::All,
                    search: String::new(),
                    sort: SortKey::Order,
                    done: false,
                    asset_root,
                };
                b.refresh_view();
                if let Some(root) = &b.asset_root {
                    let n = if self.opts.num_images == 0 {
                        8
                    } else {
                        self.opts.num_images
                    };
                    self.doctor = Some(Doctor {
                        root: root.clone(),
                        index: Some(doctor::start(root.clone(), n)),
                        rows: Vec::new(),
                        selected: 0,
                        done: false,
                    });
                }
                self.browser = Some(b);
                self.pane = Pane::Browser;
            }
        }
    }

    pub fn set_sample(&mut self, s: SampleData) {
        self.t = 0;
        self.mosaic = 0;
        self.cursor = (s.hb / 2, s.wb / 2);
        self.rev = (0, 0, 0);
        self.outcome = None;
        self.engine_error = None;
        self.show_whatif = false;
        self.params = s.disk_params.clone();
        self.knob = 0;
        self.findings_offset = 0;
        let has_images = !s.images.is_empty();
        self.sample = Some(s);
        self.pane = if has_images {
            Pane::Mosaics
        } else {
            Pane::Grid
        };
        self.layout_generation += 1;
        self.request_selection();
    }

    /// Asks the engine for a selection at the current parameters (when the video is known).
    pub fn request_selection(&mut self) {
        let Some(s) = &self.sample else { return };
        let (Some(video), Some(disk), Some(new)) = (&s.video, &s.disk_params, &self.params) else {
            return;
        };
        let req = engine::Request {
            video: video.clone(),
            residual: self.residual,
            new: new.clone(),
            disk: disk.clone(),
            disk_rows: s.disk_rows().map(Arc::new),
            num_images: s.num_images,
        };
        let mode = self.engine_mode;
        let eng = self.engine.get_or_insert_with(|| engine::engine(mode));
        eng.request(req);
        self.progress = eng.progress();
        self.pull_engine();
    }

    fn pull_engine(&mut self) {
        let Some(eng) = &self.engine else { return };
        while let Some(n) = eng.poll() {
            match n {
                Notification::Finished { .. } => {
                    if let Some(r) = eng.take_result() {
                        match r {
                            Ok(o) => {
                                if let Some(s) = self.sample.as_mut().filter(|s| s.from_engine) {
                                    s.positions = if o.repacked_positions.is_empty() {
                                        o.new.rows.clone()
                                    } else {
                                        o.repacked_positions.clone()
                                    };
                                    s.frames = o.new.t;
                                    s.frame_ids = Some(o.summary.frame_ids.clone());
                                    s.valid = Some(o.new.valid.clone());
                                    s.index_positions();
                                }
                                self.outcome = Some(o);
                                self.outcome_generation += 1;
                                if let Some(m) = self.message.strip_suffix(": re-selecting") {
                                    self.message = format!("{m}: re-selected");
                                }
                                self.engine_error = None;
                                self.layout_generation += 1;
                            }
                            Err(e) => self.engine_error = Some(e),
                        }
                    }
                }
                Notification::Unchanged => {}
            }
        }
        self.progress = eng.progress();
    }

    /// The sampled frames of the sample (or of the analysis).
    pub fn frames(&self) -> usize {
        self.outcome
            .as_ref()
            .map(|o| o.new.t)
            .filter(|&t| t > 0)
            .or_else(|| self.sample.as_ref().map(|s| s.frames))
            .unwrap_or(0)
    }

    /// Images shown in the mosaic pane (on disk, or the engine's).
    pub fn image_count(&self) -> usize {
        let disk = self.sample.as_ref().map_or(0, |s| s.images.len());
        let whatif = self.outcome.as_ref().map_or(0, |o| o.repacked.len());
        if self.show_whatif || disk == 0 {
            whatif
        } else {
            disk
        }
    }

    fn grid_dims(&self) -> (usize, usize) {
        self.sample.as_ref().map_or((36, 36), |s| (s.hb, s.wb))
    }

    fn set_t(&mut self, t: isize) {
        let n = self.frames().max(1) as isize;
        self.t = t.clamp(0, n - 1) as usize;
    }

    pub fn knob_names(&self) -> Vec<String> {
        self.params
            .as_ref()
            .map(|p| knobs::list(p).into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    }

    fn change_knob(&mut self, dir: i64) {
        let names = self.knob_names();
        let (Some(p), Some(name)) = (&self.params, names.get(self.knob)) else {
            return;
        };
        match knobs::step(p, name, dir) {
            Ok(np) => {
                self.params = Some(np);
                self.message = format!("{name} changed: re-selecting");
                self.request_selection();
            }
            Err(e) => self.message = e,
        }
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        if action == Action::Tick {
            self.spinner = self.spinner.wrapping_add(1);
            self.pull_engine();
            if let Some(b) = &mut self.browser {
                let (rows, done) = match &b.index {
                    Some(ix) => {
                        let done = ix.is_done();
                        // Rows sent just before the flag are drained after reading it.
                        (ix.drain(), done)
                    }
                    None => (Vec::new(), true),
                };
                if !rows.is_empty() {
                    b.entries.extend(rows);
                    b.refresh_view();
                }
                b.done = done;
            }
            if let Some(d) = &mut self.doctor {
                if let Some(ix) = &d.index {
                    let done = ix.is_done();
                    d.rows.extend(ix.drain());
                    d.done = done;
                }
            }
            return;
        }
        if action == Action::Quit {
            self.quit = true;
            return;
        }
        if self.input != InputMode::Normal {
            self.update_input(action);
            return;
        }
        if self.help {
            if matches!(action, Action::ToggleHelp | Action::Back) {
                self.help = false;
                self.layout_generation += 1;
            }
            return;
        }
        match action {
            Action::ToggleHelp => {
                self.help = true;
                self.layout_generation += 1;
            }
            Action::Back => {
                if self.reverse {
                    self.reverse = false;
                } else if self.pane != Pane::Browser && self.browser.is_some() {
                    self.pane = Pane::Browser;
                    self.layout_generation += 1;
                } else {
                    self.quit = true;
                }
            }
            Action::Pane(i) => self.go(Pane::ALL[i.min(6)]),
            Action::NextPane => self.go(Pane::ALL[(self.pane.index() + 1) % 7]),
            Action::PrevPane => self.go(Pane::ALL[(self.pane.index() + 6) % 7]),
            _ => match self.pane {
                Pane::Browser => self.update_browser(action),
                Pane::Doctor if self.doctor.is_some() => self.update_doctor(action),
                Pane::Doctor => self.update_browser(action),
                Pane::Mosaics => self.update_mosaics(action),
                Pane::Grid => self.update_grid(action),
                Pane::Energy => self.update_energy(action),
                Pane::Params => self.update_params(action),
                Pane::Findings => self.update_findings(action),
            },
        }
    }

    fn go(&mut self, p: Pane) {
        if p != self.pane {
            self.pane = p;
            self.layout_generation += 1;
        }
    }

    fn update_input(&mut self, action: Action) {
        match action {
            Action::Char(c) => {
                self.input_text.push(c);
                if self.input == InputMode::Search {
                    if let Some(b) = &mut self.browser {
                        b.search = self.input_text.clone();
                        b.selected = 0;
                        b.refresh_view();
                    }
                }
            }
            Action::Backspace => {
                self.input_text.pop();
                if self.input == InputMode::Search {
                    if let Some(b) = &mut self.browser {
                        b.search = self.input_text.clone();
                        b.refresh_view();
                    }
                }
            }
            Action::Back => {
                if self.input == InputMode::Search {
                    if let Some(b) = &mut self.browser {
                        b.search.clear();
                        b.refresh_view();
                    }
                }
                self.input = InputMode::Normal;
                self.input_text.clear();
            }
            Action::Enter => {
                let text = std::mem::take(&mut self.input_text);
                let mode = std::mem::replace(&mut self.input, InputMode::Normal);
                match mode {
                    InputMode::Jump => match text.trim().parse::<isize>() {
                        Ok(t) => self.set_t(t),
                        Err(_) => self.message = format!("`{text}` is not a frame index"),
                    },
                    InputMode::Knob => {
                        let names = self.knob_names();
                        if let (Some(p), Some(name)) = (&self.params, names.get(self.knob)) {
                            match knobs::set(p, name, &text) {
                                Ok(np) => {
                                    self.params = Some(np);
                                    self.message = format!("{name} = {text}: re-selecting");
                                    self.request_selection();
                                }
                                Err(e) => self.message = e,
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn update_browser(&mut self, action: Action) {
        let Some(b) = &mut self.browser else {
            if action == Action::Enter {
                self.message = "nothing to open here".into();
            }
            return;
        };
        let n = b.view.len();
        let last = n.saturating_sub(1);
        match action {
            Action::Up => b.selected = b.selected.saturating_sub(1),
            Action::Down => b.selected = (b.selected + 1).min(last),
            Action::PageUp => b.selected = b.selected.saturating_sub(10),
            Action::PageDown => b.selected = (b.selected + 10).min(last),
            Action::Home => b.selected = 0,
            Action::End => b.selected = last,
            Action::StartSearch => {
                self.input = InputMode::Search;
                self.input_text = b.search.clone();
            }
            Action::CycleFilter => {
                let codes = b.codes();
                b.filter = match &b.filter {
                    Filter::All => Filter::WithFindings,
                    Filter::WithFindings => {
                        codes.first().cloned().map_or(Filter::All, Filter::Code)
                    }
                    Filter::Code(c) => codes
                        .iter()
                        .position(|x| x == c)
                        .and_then(|i| codes.get(i + 1))
                        .cloned()
                        .map_or(Filter::All, Filter::Code),
                };
                b.selected = 0;
                b.refresh_view();
            }
            Action::CycleSort => {
                b.sort = match b.sort {
                    SortKey::Order => SortKey::Name,
                    SortKey::Name => SortKey::Findings,
                    SortKey::Findings => SortKey::K,
                    SortKey::K => SortKey::Order,
                };
                b.refresh_view();
            }
            Action::Enter => {
                let Some(e) = b.current().cloned() else {
                    return;
                };
                match source::load_entry(&e, &self.opts) {
                    Ok(s) => {
                        self.message = format!("opened {}", e.label);
                        self.set_sample(s);
                    }
                    Err(err) => self.message = format!("{}: {err}", e.label),
                }
            }
            _ => {}
        }
    }

    fn update_doctor(&mut self, action: Action) {
        let Some(d) = &mut self.doctor else { return };
        let last = d.rows.len().saturating_sub(1);
        match action {
            Action::Up => d.selected = d.selected.saturating_sub(1),
            Action::Down => d.selected = (d.selected + 1).min(last),
            Action::Home => d.selected = 0,
            Action::End => d.selected = last,
            Action::Enter => {
                let Some(row) = d.rows.get(d.selected).cloned() else {
                    return;
                };
                let Some(dir) = row.chosen else {
                    self.message =
                        format!("{}: evaluation uses no folder ({})", row.video, row.message);
                    return;
                };
                match source::open(&dir, &self.opts) {
                    Ok(Opened::One(s)) => {
                        self.message = format!("opened the folder eval uses for {}", row.video);
                        self.set_sample(*s);
                    }
                    Ok(Opened::Many { .. }) => {
                        self.message = format!("{}: a list, not one folder", dir.display());
                    }
                    Err(e) => self.message = e,
                }
            }
            _ => {}
        }
    }

    fn update_mosaics(&mut self, action: Action) {
        let n = self.image_count().max(1);
        match action {
            Action::Right | Action::NextImage | Action::Down => self.mosaic = (self.mosaic + 1) % n,
            Action::Left | Action::PrevImage | Action::Up => {
                self.mosaic = (self.mosaic + n - 1) % n
            }
            Action::ToggleLarge => self.mosaic_large = !self.mosaic_large,
            Action::ToggleWhatIf => {
                if self
                    .outcome
                    .as_ref()
                    .is_some_and(|o| !o.repacked.is_empty())
                {
                    self.show_whatif = !self.show_whatif;
                } else {
                    self.message = "no re-selected mosaics yet (needs the video)".into();
                }
            }
            Action::StartJump => self.start_jump(),
            _ => return,
        }
        self.layout_generation += 1;
    }

    fn start_jump(&mut self) {
        self.input = InputMode::Jump;
        self.input_text.clear();
    }

    fn update_grid(&mut self, action: Action) {
        let (hb, wb) = self.grid_dims();
        if self.reverse {
            let imgs = self.sample.as_ref().map_or(1, |s| s.num_images.max(1));
            let (m, r, c) = &mut self.rev;
            match action {
                Action::Up => *r = r.saturating_sub(1),
                Action::Down => *r = (*r + 1).min(hb - 1),
                Action::Left | Action::CursorLeft => *c = c.saturating_sub(1),
                Action::Right | Action::CursorRight => *c = (*c + 1).min(wb - 1),
                Action::NextImage => *m = (*m + 1) % imgs,
                Action::PrevImage => *m = (*m + imgs - 1) % imgs,
                Action::ToggleReverse => self.reverse = false,
                Action::Enter => {
                    let (m, r, c) = self.rev;
                    let hit = self
                        .sample
                        .as_ref()
                        .and_then(|s| s.by_cell.get(&(m, r, c)).map(|&i| s.positions[i]));
                    if let Some(src) = hit {
                        self.t = src[0] as usize;
                        self.cursor = (src[1] as usize, src[2] as usize);
                        self.reverse = false;
                    } else {
                        self.message = "that slot is empty".into();
                    }
                }
                _ => {}
            }
            return;
        }
        match action {
            Action::Left => self.set_t(self.t as isize - 1),
            Action::Right => self.set_t(self.t as isize + 1),
            Action::Home => self.set_t(0),
            Action::End => self.set_t(isize::MAX / 2),
            Action::Up => self.cursor.0 = self.cursor.0.saturating_sub(1),
            Action::Down => self.cursor.0 = (self.cursor.0 + 1).min(hb - 1),
            Action::CursorLeft => self.cursor.1 = self.cursor.1.saturating_sub(1),
            Action::CursorRight => self.cursor.1 = (self.cursor.1 + 1).min(wb - 1),
            Action::PageUp => self.set_t(self.t as isize - 8),
            Action::PageDown => self.set_t(self.t as isize + 8),
            Action::CycleUnderlay => {
                self.underlay = match self.underlay {
                    Underlay::None => Underlay::Fused,
                    Underlay::Fused => Underlay::Motion,
                    Underlay::Motion => Underlay::Residual,
                    Underlay::Residual => Underlay::None,
                };
                if self.underlay != Underlay::None && self.outcome.is_none() {
                    self.message = "the underlay needs the video's analysis (--video)".into();
                }
            }
            Action::ToggleReverse => {
                self.reverse = true;
                if let Some((_, o)) = self
                    .sample
                    .as_ref()
                    .and_then(|s| s.origin_of(self.t, self.cursor.0, self.cursor.1))
                {
                    self.rev = (o.image, o.cell[0], o.cell[1]);
                }
            }
            Action::ToggleDiff => {
                if self.outcome.is_some() {
                    self.diff_view = match self.diff_view {
                        DiffView::Off => DiffView::Effect,
                        DiffView::Effect => DiffView::Agreement,
                        DiffView::Agreement => DiffView::Off,
                    };
                } else {
                    self.message = "the diff needs the engine's selection (the video)".into();
                }
            }
            Action::StartJump => self.start_jump(),
            _ => {}
        }
    }

    fn update_energy(&mut self, action: Action) {
        match action {
            Action::Left => self.set_t(self.t as isize - 1),
            Action::Right => self.set_t(self.t as isize + 1),
            Action::Home => self.set_t(0),
            Action::End => self.set_t(isize::MAX / 2),
            Action::StartJump => self.start_jump(),
            _ => {}
        }
    }

    fn update_params(&mut self, action: Action) {
        let n = self.knob_names().len();
        match action {
            Action::Up => self.knob = self.knob.saturating_sub(1),
            Action::Down => self.knob = (self.knob + 1).min(n.saturating_sub(1)),
            Action::Right | Action::Increase => self.change_knob(1),
            Action::Left | Action::Decrease => self.change_knob(-1),
            Action::Enter if self.params.is_some() => {
                self.input = InputMode::Knob;
                self.input_text.clear();
            }
            Action::CycleResidual => {
                self.residual = match self.residual {
                    ResidualSource::Exact => ResidualSource::Emulate,
                    ResidualSource::Emulate => ResidualSource::FrameDiff,
                    ResidualSource::FrameDiff => ResidualSource::None,
                    ResidualSource::None => ResidualSource::Exact,
                };
                self.message = format!(
                    "residual source: {}: decoding again",
                    self.residual.as_str()
                );
                self.request_selection();
            }
            Action::ResetParams => {
                self.params = self.sample.as_ref().and_then(|s| s.disk_params.clone());
                self.message = "parameters reset to the on-disk ones".into();
                self.request_selection();
            }
            Action::Write => self.write_whatif(),
            _ => {}
        }
    }

    fn update_findings(&mut self, action: Action) {
        let n = self.sample.as_ref().map_or(0, |s| s.findings.len());
        match action {
            Action::Up => self.findings_offset = self.findings_offset.saturating_sub(1),
            Action::Down => {
                self.findings_offset = (self.findings_offset + 1).min(n.saturating_sub(1))
            }
            Action::Home => self.findings_offset = 0,
            _ => {}
        }
    }

    fn write_whatif(&mut self) {
        let (Some(s), Some(o), Some(p)) = (&self.sample, &self.outcome, &self.params) else {
            self.message = "nothing to write: the engine has no selection yet".into();
            return;
        };
        match whatif::write(s, o, p, self.residual) {
            Ok(dir) => {
                self.message = match &o.pack_error {
                    None => format!("wrote {}", dir.display()),
                    Some(e) => format!(
                        "wrote {} (rows only: stage 2 would fail: {e})",
                        dir.display()
                    ),
                }
            }
            Err(e) => self.message = format!("write failed: {e}"),
        }
    }

    /// Busy indicator: spinner frame.
    /// The action a wheel notch or a click asks for.
    pub fn mouse_action(&self, kind: MouseKind, x: u16, y: u16) -> Option<Action> {
        let stepping =
            matches!(self.pane, Pane::Grid | Pane::Energy | Pane::Mosaics) && !self.reverse;
        match kind {
            MouseKind::WheelDown if stepping => Some(Action::Right),
            MouseKind::WheelUp if stepping => Some(Action::Left),
            MouseKind::WheelDown => Some(Action::Down),
            MouseKind::WheelUp => Some(Action::Up),
            MouseKind::Click if y == 0 => tab_at(x).map(Action::Pane),
            MouseKind::Click => None,
        }
    }

    pub fn spinner_char(&self) -> char {
        ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'][self.spinner % 10]
    }
}
