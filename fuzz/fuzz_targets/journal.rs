//! The update journal recovery reads after a crash: any bytes end in an error or a journal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keel_update::parse_journal(data);
});
