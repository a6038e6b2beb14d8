//! TUF metadata from a hostile store: parsing any bytes as any role ends (an error or the
//! metadata); a root that parses is checked against its own keys without a panic.
#![no_main]

use keel_tuf::metadata::{Root, Snapshot, Targets, Timestamp, parse, verify_signatures};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = parse::<Root>(data, "root") {
        if let Some(role) = root.signed.roles.get("root") {
            let _ = verify_signatures(&root.envelope, &root.signed.keys, role, "root");
        }
    }
    let _ = parse::<Timestamp>(data, "timestamp");
    let _ = parse::<Snapshot>(data, "snapshot");
    let _ = parse::<Targets>(data, "targets");
});
