//! Registry answers: image manifests, indexes and references, whatever the bytes, end in an
//! error or a value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<keel_oci::image::Manifest>(data);
    let _ = serde_json::from_slice::<keel_oci::image::Index>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keel_oci::Reference::parse(text);
        let _ = keel_oci::Reference::parse_registry(text);
    }
});
