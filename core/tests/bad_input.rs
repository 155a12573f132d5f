//! Every kind of bad input gets its typed error, and nothing panics.

mod common;

use common::{engine, models_dir, photo};
use image::{GrayImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba, RgbaImage};
use shoplook_core::{AnalyzeOptions, DecodeLimits, Engine, EngineConfig, Error, ModelFiles, Rect};

fn analyze(bytes: &[u8]) -> Result<shoplook_core::Analysis, Error> {
    engine().analyze(bytes, &AnalyzeOptions::default())
}

/// CRC-32 (PNG's chunk checksum), so the test can forge a valid PNG header.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A PNG whose header claims `w` x `h` RGB pixels, with a few bytes of zlib data: a
/// decompression bomb's header.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn empty_bytes() {
    assert_eq!(analyze(&[]).unwrap_err(), Error::EmptyInput);
}

#[test]
fn random_bytes_are_an_unsupported_format() {
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(matches!(
        analyze(&noise),
        Err(Error::UnsupportedFormat { .. })
    ));
}

#[test]
fn truncated_jpeg_is_corrupt() {
    let bus = photo("bus.jpg");
    for cut in [20, 600, bus.len() / 2] {
        match analyze(&bus[..cut]) {
            Err(e) => assert!(
                matches!(e, Error::CorruptImage { .. }),
                "cut at {cut}: {e:?}"
            ),
            Ok(a) => panic!(
                "a JPEG cut at {cut} bytes decoded: {}x{}",
                a.width, a.height
            ),
        }
    }
}

#[test]
fn truncated_png_is_corrupt() {
    let png = photo("coffee.png");
    assert!(matches!(
        analyze(&png[..png.len() / 3]),
        Err(Error::CorruptImage { .. })
    ));
}

#[test]
fn decompression_bomb_is_refused_from_its_header() {
    let err = analyze(&bomb_png(30_000, 30_000)).unwrap_err();
    assert_eq!(
        err,
        Error::ImageTooLarge {
            width: 30_000,
            height: 30_000,
            max_pixels: DecodeLimits::default().max_pixels
        }
    );
    assert!(err.is_bad_photo());
}

#[test]
fn oversized_file_is_refused() {
    let limits = DecodeLimits {
        max_file_bytes: 1000,
        ..DecodeLimits::default()
    };
    let err = shoplook_core::photo::decode(&photo("bus.jpg"), &limits).unwrap_err();
    assert!(matches!(
        err,
        Error::FileTooLarge {
            max_bytes: 1000,
            ..
        }
    ));
}

#[test]
fn unsupported_but_valid_format_is_named() {
    let mut bmp = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(8, 8)
        .write_to(&mut bmp, ImageFormat::Bmp)
        .unwrap();
    match analyze(bmp.get_ref()) {
        Err(Error::UnsupportedFormat { detail }) => assert!(detail.contains("Bmp"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn region_outside_the_photo_or_empty_is_invalid() {
    let bytes = photo("coffee.png");
    for r in [
        Rect::new(700.0, 10.0, 50.0, 50.0),
        Rect::new(10.0, 10.0, 0.0, 5.0),
        Rect::new(f32::NAN, 0.0, 5.0, 5.0),
    ] {
        assert!(
            matches!(
                engine().embed_region(&bytes, r),
                Err(Error::InvalidRegion { .. })
            ),
            "{r:?}"
        );
    }
}

#[test]
fn invalid_min_score_is_an_error_not_a_panic() {
    let opts = AnalyzeOptions {
        min_score: Some(1.5),
        ..Default::default()
    };
    assert!(engine().analyze(&photo("coffee.png"), &opts).is_err());
}

// --- Model files ---

#[test]
fn missing_model_directory_is_a_model_io_error() {
    let err = Engine::from_dir("/nonexistent/shoplook-models")
        .err()
        .unwrap();
    assert!(matches!(err, Error::ModelIo { .. }), "{err:?}");
}

#[test]
fn garbage_onnx_is_an_invalid_model() {
    let mut files = ModelFiles::from_dir(&models_dir(), "ssd_mbv2_oidv4").unwrap();
    files.onnx = b"definitely not a protobuf".repeat(100);
    let embedder = ModelFiles::from_dir(&models_dir(), "efficientnet_lite0_feat").unwrap();
    let err = Engine::from_files(&[files], &embedder, DecodeLimits::default())
        .err()
        .unwrap();
    assert!(matches!(err, Error::ModelInvalid { .. }), "{err:?}");
}

#[test]
fn a_model_that_does_not_match_its_manifest_is_refused() {
    // The embedder's manifest over the detector's ONNX: wrong input name and shape.
    let detector = ModelFiles::from_dir(&models_dir(), "ssd_mbv2_oidv4").unwrap();
    let mut embedder = ModelFiles::from_dir(&models_dir(), "efficientnet_lite0_feat").unwrap();
    embedder.onnx = detector.onnx.clone();
    let err = Engine::from_files(&[detector], &embedder, DecodeLimits::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::ModelInvalid { ref model, .. } if model == "efficientnet-lite0-imagenet"),
        "{err:?}"
    );
}

#[test]
fn malformed_manifest_is_an_invalid_model() {
    let mut files = ModelFiles::from_dir(&models_dir(), "ssd_mbv2_oidv4").unwrap();
    files.manifest_json = br#"{"id": "x"}"#.to_vec();
    let embedder = ModelFiles::from_dir(&models_dir(), "efficientnet_lite0_feat").unwrap();
    assert!(matches!(
        Engine::from_files(&[files], &embedder, DecodeLimits::default()),
        Err(Error::ModelInvalid { .. })
    ));
}

#[test]
fn unknown_detector_name_is_a_model_io_error() {
    let config = EngineConfig {
        detectors: vec!["no_such_model".into()],
        ..Default::default()
    };
    assert!(matches!(
        Engine::from_dir_with(models_dir(), &config),
        Err(Error::ModelIo { .. })
    ));
}

// --- Formats that must work ---

fn png(img: impl FnOnce(&mut std::io::Cursor<Vec<u8>>)) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img(&mut out);
    out.into_inner()
}

#[test]
fn greyscale_16bit_and_transparent_pngs_and_webp_decode() {
    let coffee = engine().decode(&photo("coffee.png")).unwrap().image;
    let grey: GrayImage = image::DynamicImage::ImageRgb8(coffee.clone()).into_luma8();
    let wide: ImageBuffer<Rgb<u16>, Vec<u16>> =
        image::DynamicImage::ImageRgb8(coffee.clone()).into_rgb16();
    let mut transparent = RgbaImage::from_pixel(40, 30, Rgba([0, 0, 0, 0]));
    transparent.put_pixel(5, 5, Rgba([255, 0, 0, 255]));
    let cases = [
        ("grey", png(|o| grey.write_to(o, ImageFormat::Png).unwrap())),
        (
            "16-bit",
            png(|o| wide.write_to(o, ImageFormat::Png).unwrap()),
        ),
        (
            "webp",
            png(|o| coffee.write_to(o, ImageFormat::WebP).unwrap()),
        ),
    ];
    for (what, bytes) in cases {
        let a = analyze(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((a.width, a.height), (600, 400), "{what}");
        assert!(
            a.items.iter().any(|i| i.category == "kitchen"),
            "{what}: the cup is still found"
        );
    }
    let t = engine()
        .decode(&png(|o| transparent.write_to(o, ImageFormat::Png).unwrap()))
        .unwrap();
    assert_eq!(
        t.image.get_pixel(0, 0),
        &Rgb([255, 255, 255]),
        "transparent pixels become white"
    );
    assert_eq!(t.image.get_pixel(5, 5), &Rgb([255, 0, 0]));
    let _ = Luma([0u8]);
}

/// Inserts an EXIF APP1 segment with the given orientation right after the JPEG SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied_so_boxes_match_the_displayed_photo() {
    // Store bus.jpg rotated 90 degrees counter-clockwise, tagged "rotate 90 CW to display"
    // (orientation 6), as a phone held sideways does.
    let upright = engine().decode(&photo("bus.jpg")).unwrap().image;
    let stored = image::imageops::rotate270(&upright);
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(&stored)
        .unwrap();
    let tagged = with_exif_orientation(jpeg.get_ref(), 6);

    let a = analyze(&tagged).unwrap();
    assert_eq!((a.width, a.height), (810, 1080), "display orientation");
    let shoes = a.items.iter().filter(|i| i.category == "shoes").count();
    assert!(
        shoes >= 4,
        "shoes found in the displayed photo: {:?}",
        a.items
    );
    assert!(
        a.items
            .iter()
            .filter(|i| i.category == "shoes")
            .all(|i| i.bbox.y > 700.0)
    );
}

#[test]
fn cmyk_jpeg_decodes_to_the_right_colours() {
    // A real CMYK JPEG (as print workflows produce), written from coffee.png's pixels.
    let rgb = engine().decode(&photo("coffee.png")).unwrap().image;
    let cmyk: Vec<u8> = rgb
        .pixels()
        .flat_map(|p| {
            let k = 255 - *p.0.iter().max().unwrap();
            let ch = |v: u8| {
                if k == 255 {
                    0
                } else {
                    ((255 - v - k) as u32 * 255 / (255 - k) as u32) as u8
                }
            };
            [ch(p[0]), ch(p[1]), ch(p[2]), k]
        })
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(
            &cmyk,
            rgb.width() as u16,
            rgb.height() as u16,
            jpeg_encoder::ColorType::Cmyk,
        )
        .unwrap();
    let decoded = engine().decode(&out).unwrap().image;
    assert_eq!(decoded.dimensions(), rgb.dimensions());
    let mean_error: f64 = decoded
        .as_raw()
        .iter()
        .zip(rgb.as_raw())
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .sum::<f64>()
        / rgb.as_raw().len() as f64;
    assert!(
        mean_error < 8.0,
        "CMYK colours decoded wrongly: mean abs error {mean_error}"
    );
}
