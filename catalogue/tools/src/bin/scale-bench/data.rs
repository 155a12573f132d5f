//! The benchmark's data: seeded vectors (random or low intrinsic dimension), products, and
//! the pieces of the exact top-10 ground truth.

use shoplook_core::wire::Product;

/// splitmix64 + Box-Muller: seeded Gaussian vectors without a dependency.
pub struct Rng(u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    pub fn unit_vector(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                let (u1, u2) = (self.uniform(), self.uniform());
                (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
}

/// The benchmark's vectors. Isotropic random unit vectors are the worst case for any
/// approximate index: in 1280 dimensions every point is almost equally far from every other.
/// With `--latent D` the points come from a D-dimensional Gaussian mapped into the embedding
/// space by a fixed random basis, plus isotropic noise (10 % of the energy), then normalised:
/// closer to image embeddings, whose intrinsic dimension is low.
pub struct Data {
    pub dim: usize,
    basis: Vec<Vec<f32>>,
    noise: f32,
}

impl Data {
    pub fn new(dim: usize, latent: usize) -> Self {
        let mut rng = Rng(0xBA5E);
        let basis: Vec<Vec<f32>> = (0..latent).map(|_| rng.unit_vector(dim)).collect();
        let noise = (0.1 * latent as f32 / dim as f32).sqrt();
        Data { dim, basis, noise }
    }
    pub fn vector(&self, seed: u64) -> Vec<f32> {
        let mut rng = Rng(seed.wrapping_mul(0x2545F4914F6CDD1D) ^ 0xC0FFEE);
        if self.basis.is_empty() {
            return rng.unit_vector(self.dim);
        }
        let mut v = rng.unit_vector(self.dim);
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        // A Gaussian vector of norm `noise * sqrt(dim)` (the unit vector above, rescaled).
        let scale = self.noise * (self.dim as f32).sqrt() / n;
        v.iter_mut().for_each(|x| *x *= scale);
        for b in &self.basis {
            let (u1, u2) = (rng.uniform(), rng.uniform());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            v.iter_mut().zip(b).for_each(|(x, y)| *x += z * y);
        }
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
    /// Catalogue item `i`.
    pub fn item(&self, i: usize) -> Vec<f32> {
        self.vector(i as u64)
    }
    /// Query `q`: a fresh point from the same distribution.
    pub fn query(&self, q: usize) -> Vec<f32> {
        self.vector((1u64 << 48) + q as u64)
    }
}

pub fn product(i: usize) -> Product {
    Product {
        id: format!("p{i:07}"),
        title: format!("Product {i}"),
        brand: format!("brand{}", i % 50),
        price: (i % 500) as f64 + 0.99,
        currency: "EUR".into(),
        category: ["shoes", "outfit", "bags", "home", "kitchen"][i % 5].into(),
        image: format!("https://example.com/img/{i}.jpg"),
        url: format!("https://example.com/p/{i}"),
        in_stock: !i.is_multiple_of(7),
    }
}

/// Heap entry ordered by score *reversed*, so `BinaryHeap` (a max-heap) keeps the lowest of
/// the current top-10 on top. `PartialOrd` must agree with `Ord`: the heap compares with `<=`.
#[derive(PartialEq)]
pub struct Scored(pub f32, pub usize);
impl Eq for Scored {}
impl Ord for Scored {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            s[i] += ca[i] * cb[i];
        }
    }
    s.iter().sum()
}
