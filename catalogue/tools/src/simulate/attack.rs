//! One app key trying to steer the learned ranking (issue 22, item 3).
//!
//! A fresh embedded store is served with the learned pipeline; the honest shoppers of
//! [`super::World`] shop first through the server's own app key, so the model has learned
//! something. Then an attacker with a second app key plays [`AttackConfig::rounds`] rounds,
//! each under a fresh session id, through the real HTTP API: search the attacked query, click
//! the target, buy it, click a random decoy from the same list (so that a cap on one key's
//! clicks of one product relative to its clicks of the others does not bite).
//!
//! The target is the least similar product of ranks `window / 2 + 1 ..= window` of the
//! attacked query's learned list ([`AttackConfig::target_window`]): a product shown low that
//! a seller would push. Its
//! rank under the learned ranking is probed before and after the attack, for the attacked
//! query and for queries the attacker never sent (jitters of the attacked one, whose lists
//! show the target: where neighbourhood votes and global rates would carry the attack).

use serde::Serialize;
use serde_json::json;
use shoplook_core::ModelContract;
use shoplook_core::wire::Ranking;
use shoplook_domain::keys::{Role, create_key};
use shoplook_domain::learn::LearnConfig;

use super::{ArmServer, Http, SimConfig, SimError, SimProduct, jitter, mix, run_sessions};

#[derive(Debug, Clone)]
pub struct AttackConfig {
    /// Honest sessions before the attack (through the server's own app key).
    pub honest_sessions: usize,
    pub seed: u64,
    /// Attack rounds, each a fresh session of the attacker's key.
    pub rounds: usize,
    /// Queries the attacker never sends whose target rank is probed.
    pub unattacked: usize,
    /// The target is the least similar product of the lower half of the attacked query's
    /// top this many.
    pub target_window: usize,
    /// Results the attacker asks for (the target must be among them to be clicked).
    pub attack_k: usize,
    /// Results a probe asks for (a rank beyond this is "not shown").
    pub probe_k: usize,
    pub learn: LearnConfig,
}

impl AttackConfig {
    pub fn new(honest_sessions: usize, rounds: usize, seed: u64) -> Self {
        AttackConfig {
            honest_sessions,
            seed,
            rounds,
            unattacked: 5,
            target_window: 20,
            attack_k: 30,
            probe_k: 40,
            learn: LearnConfig::default(),
        }
    }
}

/// The target's rank (1-based) for one query under the learned ranking; `None`: not in the
/// probe's list.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct RankMove {
    pub before: Option<usize>,
    pub after: Option<usize>,
}

impl RankMove {
    /// Ranks gained (positive: the target moved up); a target pushed out of the list counts
    /// as having moved down past its end.
    pub fn gained(&self, probe_k: usize) -> i64 {
        let rank = |r: Option<usize>| r.unwrap_or(probe_k + 1) as i64;
        rank(self.before) - rank(self.after)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    pub target: String,
    pub attacked: RankMove,
    pub unattacked: Vec<RankMove>,
    /// Rounds whose list showed the target (only those could click it).
    pub rounds_with_target_shown: usize,
    /// The attacker's HTTP requests.
    pub attack_requests: usize,
    pub probe_k: usize,
}

/// Runs the honest shoppers, then the attack, on a fresh server holding `products`.
pub fn simulate_attack(
    products: &[SimProduct],
    contract: &ModelContract,
    config: &AttackConfig,
) -> Result<AttackReport, SimError> {
    if products.len() < 2 * config.probe_k {
        return Err(SimError::TooFewProducts {
            products: products.len(),
        });
    }
    let server = ArmServer::start(products, contract, &config.learn)?;
    let mut honest = SimConfig::new(config.honest_sessions, config.seed);
    honest.learn = config.learn.clone();
    run_sessions(products, &server, contract, &honest, Ranking::Learned)?;

    let model = contract.to_string();
    let mut probe = Http::new(&server.url, &server.key);
    let seed = config.seed;
    let attacked = super::segment_queries(products, seed)
        .into_iter()
        .next()
        .ok_or(SimError::TooFewProducts {
            products: products.len(),
        })?;
    let list = probe_list(&mut probe, &attacked, &model, config.probe_k)?;
    // Among the lower half of the window, so that it starts low (the red team's went 19 -> 7).
    let target = list
        .iter()
        .take(config.target_window)
        .skip(config.target_window / 2)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id.clone())
        .ok_or(SimError::NoResults)?;
    let rank_of =
        |list: &[(String, f64)]| list.iter().position(|(id, _)| *id == target).map(|i| i + 1);
    let attacked_before = rank_of(&list);

    // Queries never attacked whose lists show the target: jitters of the attacked query,
    // ever wider, until enough are found.
    let mut unattacked = Vec::new();
    for i in 0..400u64 {
        if unattacked.len() >= config.unattacked {
            break;
        }
        let sigma = 0.3 + 0.1 * (i % 6) as f64;
        let q = jitter(&attacked, sigma, &[seed, 31, i]);
        if let Some(r) = rank_of(&probe_list(&mut probe, &q, &model, config.probe_k)?) {
            unattacked.push((q, r));
        }
    }
    if unattacked.len() < config.unattacked {
        return Err(SimError::TargetNotShown {
            target: target.clone(),
        });
    }

    let attacker_key = create_key(server.store.as_ref(), "attacker", &Role::App)?;
    let mut attacker = Http::new(&server.url, &attacker_key);
    let mut shown_rounds = 0;
    for round in 0..config.rounds as u64 {
        let session = format!("atk-{seed:x}-{round:06}");
        let resp = attacker.post_ok(
            "/v1/search",
            &json!({"embedding": attacked, "model": model, "k": config.attack_k,
                    "session_id": session}),
        )?;
        let qid = resp["query_id"].as_str().unwrap_or_default().to_string();
        let ids: Vec<String> = resp["results"]
            .as_array()
            .ok_or(SimError::NoResults)?
            .iter()
            .filter_map(|h| h["id"].as_str().map(String::from))
            .collect();
        let Some(at) = ids.iter().position(|id| *id == target) else {
            continue;
        };
        shown_rounds += 1;
        let event = |kind: &str, i: usize| {
            json!({"type": kind, "product_id": ids[i], "query_id": qid, "position": i + 1,
                   "session_id": session})
        };
        attacker.post_ok("/v1/events", &event("click", at))?;
        attacker.post_ok("/v1/events", &event("purchase", at))?;
        // A decoy: any other product of the list.
        let mut decoy = (mix(&[seed, 32, round]) % (ids.len() as u64 - 1).max(1)) as usize;
        if decoy >= at {
            decoy += 1;
        }
        if decoy < ids.len() {
            attacker.post_ok("/v1/events", &event("click", decoy))?;
        }
    }

    let attacked_after = rank_of(&probe_list(&mut probe, &attacked, &model, config.probe_k)?);
    let mut moves = Vec::new();
    for (q, before) in &unattacked {
        let after = rank_of(&probe_list(&mut probe, q, &model, config.probe_k)?);
        moves.push(RankMove {
            before: Some(*before),
            after,
        });
    }
    Ok(AttackReport {
        target,
        attacked: RankMove {
            before: attacked_before,
            after: attacked_after,
        },
        unattacked: moves,
        rounds_with_target_shown: shown_rounds,
        attack_requests: attacker.requests,
        probe_k: config.probe_k,
    })
}

/// (id, similarity) of a learned search's results, best first. No session and no events
/// follow, so a probe teaches the model nothing.
fn probe_list(
    http: &mut Http,
    query: &[f32],
    model: &str,
    k: usize,
) -> Result<Vec<(String, f64)>, SimError> {
    let resp = http.post_ok(
        "/v1/search",
        &json!({"embedding": query, "model": model, "k": k, "ranking": "learned"}),
    )?;
    Ok(resp["results"]
        .as_array()
        .ok_or(SimError::NoResults)?
        .iter()
        .filter_map(|h| {
            let id = h["id"].as_str()?;
            Some((id.to_string(), h["similarity"].as_f64().unwrap_or(0.0)))
        })
        .collect())
}
