//! Commit messages and changelogs from the user's repository: parsing any text ends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (subject, body) = text.split_once('\n').unwrap_or((text, ""));
    let _ = keel_changelog::parse(subject, body);
    let _ = keel_changelog::section(text, "1.2.3");
    let _ = keel_changelog::section_date(text, "1.2.3");
});
