//! Progress on a terminal: a spinner while cargo builds, a bar while archives are written.
//! Nothing at all with `--quiet`, or when stderr is not a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keel_schema::progress::Event;

pub struct Progress {
    quiet: bool,
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            quiet,
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }

    /// Shows a new bar (over `total` items; a spinner without) in place of the last.
    fn start(&self, prefix: String, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let style = match total {
            None => ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {wide_msg}"),
            Some(_) => {
                ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} {wide_msg}")
            }
        };
        bar.set_style(style.expect("the template is valid").progress_chars("=> "));
        bar.set_prefix(prefix);
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        self.replace(Some(bar));
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = std::mem::replace(&mut *slot, bar) {
            old.finish_and_clear();
        }
    }

    /// A spinner for a step of unknown length.
    pub fn step(&self, message: String) {
        self.start(message, None);
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(f);
    }

    fn message(&self, message: String) {
        self.with_bar(|bar| bar.set_message(message));
    }
}

impl keel_schema::progress::Progress for Progress {
    fn event(&self, event: &Event<'_>) {
        let short = |digest: &str| digest.get(..19).unwrap_or(digest).to_owned();
        match event {
            Event::Building(target) => self.step(format!("Building {target}")),
            Event::BuildOutput { line, .. } => self.message(line.trim().to_owned()),
            Event::Packaging(files) => self.start("Packaging".into(), Some(*files)),
            Event::Writing(file) => self.message((*file).to_owned()),
            Event::Written(_) => self.with_bar(|bar| bar.inc(1)),
            Event::Resolving(target) => {
                self.message(format!("resolving dependencies for {target}"))
            }
            Event::Finished => self.replace(None),
            Event::Blob {
                digest,
                size,
                uploaded,
            } => {
                let what = if *uploaded { "pushed" } else { "exists" };
                let size = keel_schema::human_size(*size);
                self.message(format!("{what} {} ({size})", short(digest)));
            }
            Event::Manifest(reference) => self.message(format!("manifest {}", short(reference))),
            Event::LeftOut {
                archive,
                path,
                reason,
            } if !self.quiet => {
                let text = format!("left {path:?} out of {archive}: {reason}");
                let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
                match slot.as_ref() {
                    Some(bar) => bar.suspend(|| crate::warn(&text)),
                    None => crate::warn(&text),
                }
            }
            _ => {}
        }
    }
}

/// Prints the events worth a line of their own (an update's steps, a rehearsal's runs and
/// steps) on stderr, as they happen; nothing with `quiet`.
pub struct Lines {
    pub quiet: bool,
}

impl Lines {
    /// Lines unless `--quiet`.
    pub fn of(global: &crate::cli::GlobalArgs) -> &'static Lines {
        const QUIET: Lines = Lines { quiet: true };
        const LOUD: Lines = Lines { quiet: false };
        if global.quiet { &QUIET } else { &LOUD }
    }
}

impl keel_schema::progress::Progress for Lines {
    fn event(&self, event: &Event<'_>) {
        if let (Some(line), false) = (event.line(), self.quiet) {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.replace(None);
    }
}
