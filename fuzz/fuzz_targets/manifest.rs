//! The release manifest and the install receipt, as read from disk: any bytes end in an error
//! or a value, and a manifest that parses is written back to the same value.
#![no_main]

use keel_schema::Manifest;
use keel_schema::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = keel_schema::without_bom(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(manifest) = Manifest::from_json(text)
    {
        let again =
            Manifest::from_json(&manifest.to_json()).expect("a manifest keel writes reads back");
        assert_eq!(again, manifest);
    }
    let _ = serde_json::from_slice::<Receipt>(data);
});
