//! Delta-update patches from a hostile store: applying any bytes to any base ends (an error
//! or the output) and never gives more than the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(rest.len());
    let (base, patch) = rest.split_at(split);
    if let Ok(out) = keel_archive::apply_patch(base, patch, CAP) {
        assert!(out.len() as u64 <= CAP);
    }
});
