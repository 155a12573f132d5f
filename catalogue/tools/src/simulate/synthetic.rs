//! A synthetic catalogue without the image model, for scenario tests that need many products
//! fast: 8 clusters of 40 products with [`DIM`]-dimensional unit vectors (splitmix64 noise
//! around each cluster's centre), four brands, prices 20-199 EUR.

use shoplook_core::ModelContract;
use shoplook_core::wire::Product;

use super::SimProduct;

/// Dimensions of the synthetic vectors.
pub const DIM: usize = 64;

/// The contract the synthetic vectors are served under.
pub fn contract() -> ModelContract {
    ModelContract {
        id: "synthetic".into(),
        version: "1".into(),
        dim: DIM,
    }
}

/// The 320 products.
pub fn catalogue() -> Vec<SimProduct> {
    let brands = ["Northwind", "Contoso", "Fabrikam", "Tailspin"];
    (0..8u64)
        .flat_map(|c| {
            let centre = unit(1000 + c, 1.0, None);
            (0..40u64).map(move |i| {
                let n = c * 40 + i;
                SimProduct {
                    product: Product {
                        id: format!("syn-{n}"),
                        title: format!("Product {n}"),
                        brand: brands[(n % 4) as usize].into(),
                        price: (20 + (n * 37) % 180) as f64,
                        currency: "EUR".into(),
                        category: "synthetic".into(),
                        image: format!("syn-{n}.jpg"),
                        url: format!("https://example.com/syn/{n}"),
                        in_stock: true,
                    },
                    vector: unit(n, 0.6, Some(&centre)),
                }
            })
        })
        .collect()
}

/// A unit vector of splitmix64 noise (scaled by `spread`) from `seed`, around `around`.
fn unit(seed: u64, spread: f64, around: Option<&[f32]>) -> Vec<f32> {
    let mut z = seed;
    let mut next = || {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = z;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut v: Vec<f32> = (0..DIM)
        .map(|i| {
            let noise = (next() * spread * 3.5 / (DIM as f64).sqrt()) as f32;
            around.map_or(noise, |c| c[i] + noise)
        })
        .collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}
