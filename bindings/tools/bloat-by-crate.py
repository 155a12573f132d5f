#!/usr/bin/env python3
"""Which crates the code of an unstripped libshoplook_ffi.so comes from.

    bindings/tools/bloat-by-crate.py target/mobile-opt-3/unstripped/libshoplook_ffi.so

Sums `nm --print-size --size-sort --demangle` sizes of text symbols by the crate named in the
demangled path (`tract_core::...`, `<image::... as ...>` -> image); symbols without one (C/asm
kernels, ring's C code, libc glue) are grouped by a name prefix. A rough cargo-bloat --crates:
generic code is attributed to the crate whose path the symbol carries.
"""
import collections, re, subprocess, sys

lib = sys.argv[1]
out = subprocess.run(["nm", "--print-size", "--size-sort", "--demangle", lib],
                     capture_output=True, text=True, check=True).stdout
by_crate = collections.Counter()
total = 0
path_re = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)::")
for line in out.splitlines():
    parts = line.split(None, 3)
    if len(parts) < 4 or parts[2] not in "tTwW":
        continue
    size = int(parts[1], 16)
    name = parts[3]
    total += size
    m = path_re.search(name.lstrip("<&*( "))
    if m:
        crate = m.group(1)
    elif name.startswith(("ring_", "GFp_", "p256_", "x25519", "fiat_", "bn_", "aes_", "sha", "ChaCha", "gcm_", "CRYPTO")):
        crate = "ring (C/asm)"
    elif "fma" in name or "avx" in name or "sse" in name or "arm64" in name or "neon" in name:
        crate = "tract_linalg (asm kernels)"
    else:
        crate = "(other: " + re.split(r"[^A-Za-z]", name.lstrip("_"))[0][:20] + ")"
    by_crate[crate] += size
print(f"text symbols: {total / 1e6:.2f} MB")
for crate, size in by_crate.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 25):
    print(f"{size / 1e6:8.2f} MB {100 * size / total:5.1f}%  {crate}")
