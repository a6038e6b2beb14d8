//! GitHub's API answers: releases and assets, whatever the bytes, end in an error or a value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Vec<keel_github::Release>>(data);
    let _ = serde_json::from_slice::<keel_github::Asset>(data);
});
