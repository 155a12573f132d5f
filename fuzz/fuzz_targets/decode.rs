//! Photo decoding on arbitrary bytes, under core's real memory bounds (file size, pixel count
//! and side checked from the header). The working size is small so that DCT-domain scaling and
//! the final resize run on small inputs too. A decoded photo must be well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoplook_core::photo::{DecodeLimits, decode};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        working_max_side: 64,
        ..DecodeLimits::default()
    };
    let Ok(photo) = decode(data, &limits) else {
        return;
    };
    let (w, h) = photo.image.dimensions();
    assert!(w >= 1 && h >= 1, "empty working image {w}x{h}");
    assert!(w.max(h) <= limits.working_max_side, "working image {w}x{h}");
    assert_eq!(photo.image.as_raw().len(), w as usize * h as usize * 3);
    let (ow, oh) = (photo.original_width, photo.original_height);
    assert!(ow >= w && oh >= h, "original {ow}x{oh} < working {w}x{h}");
    assert!(ow as u64 * oh as u64 <= limits.max_pixels);
    assert!(ow.max(oh) <= limits.max_side);
});
