//! Progress on a terminal: a spinner while cargo builds, a bar while archives are written.
//! Nothing at all with `--quiet`, or when stderr is not a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keel_schema::progress::Event;

pub struct Progress {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = bar;
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = slot.as_ref() {
            f(bar);
        }
    }

    /// A spinner for a step of unknown length.
    pub fn step(&self, message: String) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {wide_msg}")
                .expect("the template is valid"),
        );
        bar.set_prefix(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        self.replace(Some(bar));
    }

    /// A bar over `total` items.
    pub fn counted(&self, message: String, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} {wide_msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(message);
        self.replace(Some(bar));
    }

    pub fn message(&self, message: String) {
        self.with_bar(|bar| bar.set_message(message));
    }

    pub fn advance(&self) {
        self.with_bar(|bar| bar.inc(1));
    }

    pub fn finish(&self) {
        self.replace(None);
    }
}

impl keel_schema::progress::Progress for Progress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Building(target) => self.step(format!("Building {target}")),
            Event::BuildOutput { line, .. } => self.message(line.trim().to_owned()),
            Event::Packaging(files) => self.counted("Packaging".into(), *files),
            Event::Writing(file) => self.message((*file).to_owned()),
            Event::Written(_) => self.advance(),
            Event::Resolving(target) => {
                self.message(format!("resolving dependencies for {target}"));
            }
            Event::Finished => self.finish(),
            Event::Blob {
                digest,
                size,
                uploaded,
            } => {
                let what = if *uploaded { "pushed" } else { "exists" };
                let short = digest.get(..19).unwrap_or(digest);
                self.message(format!(
                    "{what} {short} ({})",
                    keel_schema::human_size(*size)
                ));
            }
            Event::Manifest(reference) => {
                let short = reference.get(..19).unwrap_or(reference);
                self.message(format!("manifest {short}"));
            }
            _ => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
