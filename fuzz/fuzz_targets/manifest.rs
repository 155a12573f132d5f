//! Model manifests on arbitrary bytes: a manifest that parses and validates must survive a
//! round trip, and what the engine derives from it without the ONNX file (SSD anchors) must
//! be computable without panicking or allocating without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoplook_core::detect::ssd::generate_anchors;
use shoplook_core::manifest::{DecoderSpec, ModelManifest};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = ModelManifest::from_json(data) else {
        return;
    };
    let json = serde_json::to_vec(&m).expect("a manifest serialises");
    let again = ModelManifest::from_json(&json).expect("a valid manifest re-parses");
    assert_eq!(serde_json::to_vec(&again).unwrap(), json);
    if let Some(DecoderSpec::Ssd { anchors, .. }) = &m.decoder {
        let generated = generate_anchors(anchors, m.input.width, m.input.height);
        assert_eq!(generated.len(), anchors.count);
    }
});
