//! One app key cannot steer the learned ranking (issue 22, item 3): 1,000 rounds of an
//! attacker's key (fresh session each: search, click and buy the target, click a decoy),
//! after honest shoppers, keep the target out of the attacked query's top 5 and move it by
//! at most 2 ranks on queries it never sent. And the honest shoppers still gain from the
//! learned ranking over the visual one.

use shoplook_tools::simulate::attack::{AttackConfig, simulate_attack};
use shoplook_tools::simulate::synthetic::{catalogue, contract};
use shoplook_tools::simulate::{SimConfig, simulate_on};

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
