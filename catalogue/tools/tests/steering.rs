//! One app key cannot steer the learned ranking (issue 22, item 3): 1,000 rounds of an
//! attacker's key (fresh session each: search, click and buy the target, click a decoy),
//! after honest shoppers, keep the target out of the attacked query's top 5 and move it by
//! at most 2 ranks on queries it never sent. And the honest shoppers still gain from the
//! learned ranking over the visual one.

use shoplook_core::ModelContract;
use shoplook_core::wire::Product;
use shoplook_tools::simulate::attack::{AttackConfig, simulate_attack};
use shoplook_tools::simulate::{SimConfig, SimProduct, simulate_on};

const DIM: usize = 64;

/// splitmix64: a synthetic catalogue without the model (8 clusters of 40 products), as in
/// `honest_clicks.rs`.
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

fn catalogue() -> Vec<SimProduct> {
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

fn contract() -> ModelContract {
    ModelContract {
        id: "synthetic".into(),
        version: "1".into(),
        dim: DIM,
    }
}

#[test]
fn one_key_over_fresh_sessions_cannot_steer_the_learned_ranking() {
    let config = AttackConfig::new(400, 1000, 7);
    let r = simulate_attack(&catalogue(), &contract(), &config).unwrap();
    eprintln!("{}", serde_json::to_string(&r).unwrap());
    assert!(
        r.rounds_with_target_shown >= 900,
        "the attack did not run: {r:?}"
    );
    let after = r.attacked.after.unwrap_or(usize::MAX);
    assert!(
        after > 5,
        "the target entered the attacked query's top 5: {r:?}"
    );
    for m in &r.unattacked {
        assert!(
            m.gained(r.probe_k).abs() <= 2,
            "the target moved more than 2 ranks on a query never attacked: {m:?} in {r:?}"
        );
    }
}

#[test]
fn honest_shoppers_still_gain_from_the_learned_ranking() {
    let r = simulate_on(&catalogue(), &contract(), &SimConfig::new(400, 7)).unwrap();
    let lift = |l: f64, v: f64| l / v.max(1e-9);
    eprintln!(
        "learned over visual: ctr@5 {:.4} / {:.4} = {:.3}, ndcg@5 {:.4} / {:.4} = {:.3}",
        r.learned.ctr_at_5,
        r.visual.ctr_at_5,
        lift(r.learned.ctr_at_5, r.visual.ctr_at_5),
        r.learned.ndcg_at_5,
        r.visual.ndcg_at_5,
        lift(r.learned.ndcg_at_5, r.visual.ndcg_at_5)
    );
    assert!(r.learned.ctr_at_5 > r.visual.ctr_at_5, "{r:?}");
    assert!(r.learned.ndcg_at_5 > r.visual.ndcg_at_5, "{r:?}");
}
