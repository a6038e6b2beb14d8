//! Benchmark helper for scripts/bench/update.sh (not a test):
//!
//!     bench snapshot DB DEST        time one snapshot, in milliseconds
//!     bench swap BINARY TARGET N    swap TARGET N times while a thread checks it never
//!                                   disappears; prints the swaps' median in microseconds
//!                                   and how many checks found TARGET missing
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("snapshot") => {
            let started = Instant::now();
            keel_update::snapshot_database(&PathBuf::from(&args[2]), &PathBuf::from(&args[3]))
                .unwrap();
            println!("{}", started.elapsed().as_millis());
        }
        Some("swap") => {
            let (from, to) = (PathBuf::from(&args[2]), PathBuf::from(&args[3]));
            let n: usize = args[4].parse().unwrap();
            keel_update::replace_file(&from, &to).unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let (checks, missing) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
            let watcher = {
                let (stop, checks, missing, to) =
                    (stop.clone(), checks.clone(), missing.clone(), to.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        checks.fetch_add(1, Ordering::Relaxed);
                        if std::fs::symlink_metadata(&to).is_err() {
                            missing.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            };
            let mut times: Vec<u128> = (0..n)
                .map(|_| {
                    let started = Instant::now();
                    keel_update::replace_file(&from, &to).unwrap();
                    started.elapsed().as_micros()
                })
                .collect();
            stop.store(true, Ordering::Relaxed);
            watcher.join().unwrap();
            times.sort_unstable();
            println!(
                "{} {} {}",
                times[times.len() / 2],
                checks.load(Ordering::Relaxed),
                missing.load(Ordering::Relaxed)
            );
        }
        _ => eprintln_usage(),
    }
}

fn eprintln_usage() {
    std::process::exit(2);
}
