//! Rising looks: the query embeddings of one week grouped into clusters (spherical k-means,
//! deterministic: farthest-point start, fixed rounds), each cluster a cell counting its
//! searches and distinct sessions, suppressed as any other cell (`privacy.rs`: the week's
//! total is taken as known, so the hidden clusters together count at least `k` sessions). A
//! week's clusters depend on that week's searches only. The report shows a cluster by the
//! catalogue products nearest its centre; no photo exists anywhere in the system, and the
//! centre itself is never published.

use std::collections::HashSet;

use super::QueryVector;
use super::privacy::Table;

/// One cluster of a week's searches.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Unit-length mean of its members.
    pub centre: Vec<f32>,
    pub searches: u64,
    pub sessions: usize,
    pub published: bool,
}

/// Rounds of k-means.
const ROUNDS: usize = 10;
/// Most searches the k-means rounds run on (a fixed sample of the week's).
const MAX_FIT: usize = 600;

/// The centre most similar to `v` (the first of equals).
fn nearest(v: &[f32], centres: &[Vec<f32>]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (c, centre) in centres.iter().enumerate() {
        let s = dot(v, centre);
        if s > best.1 {
            best = (c, s);
        }
    }
    best.0
}

/// Most clusters in a week.
pub const MAX_CLUSTERS: usize = 6;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

fn mean(vectors: &[&QueryVector], members: impl Iterator<Item = usize>, dim: usize) -> Vec<f32> {
    let mut m = vec![0.0f32; dim];
    for i in members {
        for (a, b) in m.iter_mut().zip(&vectors[i].embedding) {
            *a += b;
        }
    }
    unit(m)
}

/// Clusters one week's query vectors (in log order) with threshold `k`: at most
/// [`MAX_CLUSTERS`], about one per `2 k` searches.
pub fn cluster_week(vectors: &[&QueryVector], k: usize) -> Vec<Cluster> {
    let n = vectors.len();
    if n == 0 {
        return Vec::new();
    }
    let dim = vectors[0].embedding.len();
    let want = (n / (2 * k.max(1))).clamp(1, MAX_CLUSTERS);
    // Farthest-point start: the member nearest the overall mean, then repeatedly the member
    // least similar to every centre chosen so far.
    let overall = mean(vectors, 0..n, dim);
    let first = (0..n)
        .max_by(|&a, &b| {
            dot(&vectors[a].embedding, &overall).total_cmp(&dot(&vectors[b].embedding, &overall))
        })
        .unwrap_or(0);
    let mut centres = vec![vectors[first].embedding.clone()];
    let mut best_sim: Vec<f32> = (0..n)
        .map(|i| dot(&vectors[i].embedding, &centres[0]))
        .collect();
    while centres.len() < want {
        let far = (0..n)
            .min_by(|&a, &b| best_sim[a].total_cmp(&best_sim[b]))
            .unwrap_or(0);
        let c = vectors[far].embedding.clone();
        for (i, s) in best_sim.iter_mut().enumerate() {
            *s = s.max(dot(&vectors[i].embedding, &c));
        }
        centres.push(c);
    }
    // Rounds on a fixed sample (every `step`-th search in log order), then every search to
    // its nearest centre and the centres as the means of all their members.
    let step = n.div_ceil(MAX_FIT);
    let fit: Vec<usize> = (0..n).step_by(step).collect();
    let mut assign = vec![0usize; n];
    for _ in 0..ROUNDS {
        for &i in &fit {
            assign[i] = nearest(&vectors[i].embedding, &centres);
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            if fit.iter().any(|&i| assign[i] == c) {
                *centre = mean(
                    vectors,
                    fit.iter().copied().filter(|&i| assign[i] == c),
                    dim,
                );
            }
        }
    }
    for (i, a) in assign.iter_mut().enumerate() {
        *a = nearest(&vectors[i].embedding, &centres);
    }
    for (c, centre) in centres.iter_mut().enumerate() {
        if assign.contains(&c) {
            *centre = mean(vectors, (0..n).filter(|&i| assign[i] == c), dim);
        }
    }
    let mut table = Table::default();
    let all_sessions: Vec<u32> = session_ids(vectors, 0..n);
    let total = table.add_known_total(all_sessions);
    let mut children = Vec::new();
    for c in 0..centres.len() {
        let members = (0..n).filter(|&i| assign[i] == c);
        children.push(table.add(session_ids(vectors, members), false));
    }
    table.groups.push((total, children.clone()));
    let published = table.suppress(k);
    centres
        .into_iter()
        .enumerate()
        .filter(|(c, _)| assign.contains(c))
        .map(|(c, centre)| Cluster {
            centre,
            searches: assign.iter().filter(|&&a| a == c).count() as u64,
            sessions: table.cells[children[c]].sessions.len(),
            published: published[children[c]],
        })
        .collect()
}

/// Interned session ids of some members (stable within one call).
fn session_ids(vectors: &[&QueryVector], members: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut ids = Vec::new();
    let mut all: Vec<&str> = vectors.iter().map(|v| v.session.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    for i in members {
        let s = vectors[i].session.as_str();
        if seen.insert(s) {
            ids.push(all.binary_search(&s).unwrap_or(0) as u32);
        }
    }
    ids
}

/// Growth of each of this week's clusters against the most similar published cluster of the
/// week before (cosine at least `0.8`): `this / before - 1`, `None` for a new look.
pub fn growth(this: &Cluster, before: &[Cluster]) -> Option<f64> {
    before
        .iter()
        .filter(|b| b.published && b.searches > 0)
        .map(|b| (dot(&this.centre, &b.centre), b))
        .filter(|(sim, _)| *sim >= 0.8)
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, b)| this.searches as f64 / b.searches as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qv(session: &str, dir: usize, jitter: f32) -> QueryVector {
        let mut e = vec![0.01f32; 8];
        e[dir] = 1.0;
        e[(dir + 1) % 8] += jitter;
        QueryVector {
            day: 0,
            session: session.to_string(),
            embedding: unit(e),
        }
    }

    #[test]
    fn two_looks_are_two_clusters_and_a_small_one_is_hidden() {
        let mut v = Vec::new();
        for i in 0..60 {
            v.push(qv(&format!("a{i}"), 0, (i % 5) as f32 * 0.01));
        }
        for i in 0..50 {
            v.push(qv(&format!("b{i}"), 3, (i % 3) as f32 * 0.01));
        }
        // A look of 5 sessions (10 searches): below k = 20.
        for i in 0..10 {
            v.push(qv(&format!("c{}", i % 5), 6, 0.0));
        }
        let refs: Vec<&QueryVector> = v.iter().collect();
        let clusters = cluster_week(&refs, 20);
        let mut sizes: Vec<(u64, usize, bool)> = clusters
            .iter()
            .map(|c| (c.searches, c.sessions, c.published))
            .collect();
        sizes.sort();
        assert_eq!(sizes, vec![(10, 5, false), (50, 50, false), (60, 60, true)]);
        // The small look alone would be recoverable (total minus the others): so the
        // next-smallest cluster is hidden too.
    }
}
