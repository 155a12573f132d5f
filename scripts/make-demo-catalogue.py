#!/usr/bin/env python3
"""Cuts the demo catalogue's product images out of real, permissively licensed photos and
writes fixtures/demo-catalogue/feed.jsonl. DEMO DATA: the products, brands, prices and the
example.com links are made up; the pictures are crops of real photos.

Sources (all redistributable):
  - fixtures/photos/*  (scikit-image BSD-3, matplotlib PSF, OpenCV samples; see fixtures/photos)
  - OpenCV sample data from the Debian package opencv-doc 4.6.0+dfsg-12 (OpenCV licence,
    BSD/Apache): messi5.jpg, basketball1.png. Get them with
        apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb x
    and pass x/usr/share/doc/opencv-doc/examples/data as OPENCV_DATA.

Boxes are the detector's boxes (`shoplook analyze`), widened to a square with some context,
the way a packshot frames a product. Needs Pillow (.tools/venv has it).

    .tools/venv/bin/python scripts/make-demo-catalogue.py OPENCV_DATA
"""
import json
import os
import sys

from PIL import Image

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "fixtures", "demo-catalogue")
photos = os.path.join(root, "fixtures", "photos")
web = os.path.join(root, "fixtures", "web")
ocv = sys.argv[1]

# (id, source dir, file, box x,y,w,h or None for the whole photo, context, category, title, brand, price)
PRODUCTS = [
    ("demo-shoe-1", ocv, "messi5.jpg", (248, 316, 66, 23), 1.4, "shoes", "Football boot, white and red", "Demo Sports", 89.0),
    ("demo-shoe-2", ocv, "messi5.jpg", (406, 249, 49, 39), 1.4, "shoes", "Football boot, black", "Demo Sports", 79.0),
    ("demo-shoe-3", ocv, "messi5.jpg", (333, 289, 53, 46), 1.4, "shoes", "Football boot, dark", "Demo Sports", 59.0),
    ("demo-shoe-4", ocv, "basketball1.png", (122, 449, 34, 21), 1.6, "shoes", "Basketball shoe, white", "Demo Court", 119.0),
    ("demo-shoe-5", ocv, "basketball1.png", (50, 460, 53, 19), 1.6, "shoes", "Basketball shoe, black", "Demo Court", 99.0),
    ("demo-kit-1", ocv, "messi5.jpg", (74, 57, 382, 285), 1.0, "outfit", "Football kit, striped shirt and shorts", "Demo Sports", 129.0),
    ("demo-kit-2", ocv, "basketball1.png", (450, 22, 189, 434), 1.0, "outfit", "Basketball kit", "Demo Court", 89.0),
    ("demo-kit-3", ocv, "basketball1.png", (27, 68, 131, 412), 1.0, "outfit", "Training shirt and shorts", "Demo Court", 69.0),
    ("demo-suit-1", photos, "astronaut.png", (21, 17, 342, 491), 1.0, "outfit", "Space suit costume", "Demo Costumes", 249.0),
    ("demo-uniform-1", photos, "grace_hopper.jpg", (7, 40, 499, 557), 1.0, "outfit", "Navy dress uniform jacket", "Demo Tailors", 199.0),
    # Garments: the pose model's region of each piece of a look (`shoplook analyze --pose`),
    # cut exactly (context 0), as a garment packshot frames the garment alone.
    ("demo-jacket-1", photos, "grace_hopper.jpg", (5, 356, 507, 244), 0, "tops", "Navy uniform jacket", "Demo Outfitters", 149.0),
    ("demo-shirt-1", web, "messi5.jpg", (96, 94, 226, 162), 0, "tops", "Striped football shirt", "Demo Outfitters", 49.0),
    ("demo-shirt-2", ocv, "basketball1.png", (32, 140, 127, 159), 0, "tops", "Black T-shirt", "Demo Outfitters", 39.0),
    ("demo-shorts-1", web, "messi5.jpg", (214, 202, 224, 128), 0, "bottoms", "Football shorts and socks", "Demo Outfitters", 29.0),
    ("demo-jeans-1", ocv, "basketball1.png", (45, 254, 92, 217), 0, "bottoms", "Grey jeans", "Demo Outfitters", 35.0),
    ("demo-cap-1", photos, "grace_hopper.jpg", (104, 0, 323, 196), 0, "headwear", "Navy officer's cap", "Demo Outfitters", 59.0),
    ("demo-glasses-1", photos, "grace_hopper.jpg", (153, 147, 222, 89), 0, "eyewear", "Cat-eye glasses", "Demo Outfitters", 89.0),
    ("demo-cup-1", photos, "coffee.png", (172, 21, 248, 302), 1.1, "kitchen", "Espresso cup with saucer", "Demo Home", 14.5),
    ("demo-box-1", photos, "box.png", None, 1.0, "home", "Boxed product (packshot)", "Demo Home", 24.0),
]


def square_context(box, context, w, h):
    x, y, bw, bh = box
    side = max(bw, bh) * context
    sw, sh = min(side, w), min(side, h)
    cx, cy = x + bw / 2, y + bh / 2
    x0 = min(max(cx - sw / 2, 0), w - sw)
    y0 = min(max(cy - sh / 2, 0), h - sh)
    return (int(x0), int(y0), int(x0 + sw), int(y0 + sh))


lines = []
for pid, src, name, box, context, category, title, brand, price in PRODUCTS:
    img = Image.open(os.path.join(src, name)).convert("RGB")
    if box is not None and context == 0:
        x, y, bw, bh = box
        img = img.crop((x, y, min(x + bw, img.size[0]), min(y + bh, img.size[1])))
    elif box is not None:
        img = img.crop(square_context(box, context, *img.size))
    if max(img.size) > 480:
        img.thumbnail((480, 480))
    fname = f"{pid}.jpg"
    img.save(os.path.join(out_dir, fname), quality=90)
    lines.append({
        "id": pid, "title": f"DEMO {title}", "brand": brand, "price": price, "currency": "EUR",
        "category": category, "image": fname,
        "url": f"https://example.com/demo/products/{pid}", "in_stock": True,
        "source_photo": name,
    })

with open(os.path.join(out_dir, "feed.jsonl"), "w") as f:
    for line in lines:
        f.write(json.dumps(line) + "\n")
print(f"wrote {len(lines)} products to {out_dir}")
