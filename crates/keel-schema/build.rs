//! Records the target this crate is compiled for, so that a program knows its own triple
//! (`TargetTriple::host`) exactly as rustc names it, on every platform.
#![allow(clippy::print_stdout)] // Build scripts talk to cargo on stdout.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=KEEL_HOST_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
