//! The `shoplook` command's contract: JSON shape, exit codes, one clean line on bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn photo(name: &str) -> PathBuf {
    ["fixtures/photos", "fixtures/external"]
        .iter()
        .map(|d| root().join(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} missing: run scripts/fetch-photos.sh"))
}

fn shoplook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shoplook"))
        .args(args)
        .output()
        .expect("runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shoplook-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn analyze_json_has_the_documented_shape() {
    let bus = photo("bus.jpg");
    let out = shoplook(&["analyze", bus.to_str().unwrap(), "--json", "--embeddings"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(810), Some(1080))
    );
    let items = v["items"].as_array().unwrap();
    let shoe = items
        .iter()
        .find(|i| i["category"] == "shoes")
        .expect("shoes in bus.jpg");
    assert_eq!(shoe["label"], "Footwear");
    for k in ["x", "y", "width", "height"] {
        assert!(shoe["bbox"][k].is_f64(), "bbox.{k}");
    }
    assert_eq!(shoe["embedding"].as_array().unwrap().len(), 1280);
    for k in ["decode", "detect", "embed", "total"] {
        assert!(v["timings_ms"][k].is_f64(), "timings_ms.{k}");
    }
    assert_eq!(v["models"]["embedder"]["id"], "efficientnet-lite0-imagenet");
    // Without --embeddings no vectors are printed.
    let out = shoplook(&["analyze", bus.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["items"][0].get("embedding").is_none());
}

#[test]
fn analyze_table_and_annotated_photo() {
    let out_path = tmp("bus.annotated.jpg");
    let out = shoplook(&[
        "analyze",
        photo("bus.jpg").to_str().unwrap(),
        "--annotate",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("Footwear") && table.contains("shoes"),
        "{table}"
    );
    let annotated = image::open(&out_path).expect("a readable JPEG");
    assert_eq!((annotated.width(), annotated.height()), (810, 1080));
}

#[test]
fn embed_prints_one_vector_for_a_region() {
    let out = shoplook(&[
        "embed",
        photo("coffee.png").to_str().unwrap(),
        "--region",
        "172,21,248,302",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["embedding"].as_array().unwrap().len(), 1280);
    assert_eq!(v["model"]["dim"], 1280);
}

#[test]
fn bench_prints_per_stage_figures() {
    let out = shoplook(&[
        "bench",
        photo("coffee.png").to_str().unwrap(),
        "--runs",
        "2",
        "--warmup",
        "0",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for stage in ["decode", "detect", "embed", "total", "tap"] {
        assert!(v["stages"][stage]["median_ms"].as_f64().unwrap() >= 0.0);
        assert!(v["stages"][stage]["p90_ms"].is_f64());
    }
    assert!(v["load_ms"].as_f64().unwrap() > 0.0);
    // Model load, and model load to the first result (issue 9's names).
    let (load, cold) = (
        v["model_load_ms"].as_f64().unwrap(),
        v["cold_start_ms"].as_f64().unwrap(),
    );
    assert!(
        load > 0.0 && cold > load,
        "load {load} ms, cold start {cold} ms"
    );
    // A tap (one box's vector) is timed whenever there is a box to tap.
    if v["items"].as_u64().unwrap() > 0 {
        assert!(v["stages"]["tap"]["median_ms"].as_f64().unwrap() > 0.0);
    }
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let body = [&kind[..], data].concat();
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &body {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&(!crc).to_be_bytes());
}

/// Bad input: exit code 2, exactly one line on stderr, no panic message.
fn assert_clean_failure(args: &[&str], expect: &str) {
    let out = shoplook(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains(expect),
        "{args:?}: {stderr:?} should mention {expect:?}"
    );
}

#[test]
fn bad_inputs_exit_2_with_one_clear_line() {
    let empty = tmp("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let random = tmp("random.jpg");
    std::fs::write(
        &random,
        (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let truncated = tmp("truncated.jpg");
    std::fs::write(
        &truncated,
        &std::fs::read(photo("bus.jpg")).unwrap()[..5000],
    )
    .unwrap();
    let bomb = tmp("bomb.png");
    // A decompression bomb's header: IHDR claiming 30000 x 30000 RGB, a few bytes of data.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let ihdr = [
        &30000u32.to_be_bytes()[..],
        &30000u32.to_be_bytes()[..],
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    std::fs::write(&bomb, &png).unwrap();

    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    assert_clean_failure(&["analyze", "/nonexistent/photo.jpg"], "cannot read");
    assert_clean_failure(&["analyze", &s(&empty)], "empty");
    assert_clean_failure(&["analyze", &s(&random)], "unsupported");
    assert_clean_failure(&["analyze", &s(&truncated)], "corrupt");
    assert_clean_failure(&["analyze", &s(&bomb)], "too large");
    assert_clean_failure(
        &[
            "analyze",
            &s(&photo("coffee.png")),
            "--models",
            "/nonexistent",
        ],
        "model",
    );
    assert_clean_failure(
        &[
            "embed",
            &s(&photo("coffee.png")),
            "--region",
            "900,900,10,10",
        ],
        "region",
    );
}
