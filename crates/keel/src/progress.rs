//! Progress on a terminal: a spinner while cargo builds, a bar while archives are written.
//! Nothing at all with `--quiet`, or when stderr is not a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keel_release::Reporter;
use keel_schema::TargetTriple;

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

impl Reporter for Progress {
    fn building(&self, target: &TargetTriple) {
        self.step(format!("Building {target}"));
    }

    fn build_output(&self, _target: &str, line: &str) {
        self.message(line.trim().to_owned());
    }

    fn packaging(&self, archives: u64) {
        self.counted("Packaging".into(), archives);
    }

    fn writing(&self, file: &str) {
        self.message(file.to_owned());
    }

    fn written(&self, _file: &str) {
        self.advance();
    }

    fn resolving(&self, target: &TargetTriple) {
        self.message(format!("resolving dependencies for {target}"));
    }

    fn finished(&self) {
        self.finish();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
