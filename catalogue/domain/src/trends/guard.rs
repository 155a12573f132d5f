//! The last check before a component is published: linear algebra over its atoms (one
//! product, or one search category, on one day). Every cell is the sum of its atoms; whatever
//! lies in the span of the published cells can be computed by a reader. The group rules of
//! `privacy.rs` catch what follows from one relation at a time; two partitions of the same
//! category (brands, price bands) can together give away more (found by the attack test in
//! `privacy_tests.rs`). So: while a cell, an atom, or a pair of atoms on the same day or of
//! the same product, with 1..k-1 sessions, is in the span, hide the published cell that
//! overlaps it with the fewest sessions.

use std::collections::BTreeSet;

/// Most atoms for which the pairs of atoms are checked too (cells and single atoms always).
const PAIRS_UP_TO: usize = 400;

/// A component seen as atoms: each cell's atoms, each atom's sessions and key.
pub struct Atoms<'a> {
    pub of_cell: &'a [Vec<u32>],
    pub sessions: &'a [Vec<u32>],
    /// (day, what) of each atom: pairs sharing one of them are checked.
    pub keys: &'a [(i64, String)],
}

/// Rows in reduced echelon form, with their pivot columns.
struct Span {
    rows: Vec<(usize, Vec<f64>)>,
}

impl Span {
    fn new(vectors: impl Iterator<Item = Vec<f64>>) -> Span {
        let mut span = Span { rows: Vec::new() };
        for v in vectors {
            let r = span.reduce(v);
            if let Some(p) = r.iter().position(|x| x.abs() > 1e-7) {
                let f = r[p];
                let r: Vec<f64> = r.iter().map(|x| x / f).collect();
                for (_, row) in span.rows.iter_mut() {
                    let g = row[p];
                    if g != 0.0 {
                        row.iter_mut().zip(&r).for_each(|(a, b)| *a -= g * b);
                    }
                }
                span.rows.push((p, r));
            }
        }
        span
    }

    fn reduce(&self, mut v: Vec<f64>) -> Vec<f64> {
        for (p, row) in &self.rows {
            let f = v[*p];
            if f != 0.0 {
                v.iter_mut().zip(row).for_each(|(a, b)| *a -= f * b);
            }
        }
        v
    }

    fn contains(&self, v: Vec<f64>) -> bool {
        self.reduce(v).iter().all(|x| x.abs() < 1e-7)
    }
}

fn union(sets: impl Iterator<Item = impl IntoIterator<Item = u32>>) -> usize {
    sets.flatten().collect::<BTreeSet<u32>>().len()
}

/// Hides published cells until nothing with 1..k-1 sessions is in their span.
pub fn guard(atoms: &Atoms, cell_sessions: &[usize], published: &mut [bool], k: usize) {
    let n = atoms.sessions.len();
    let vector = |set: &[u32]| {
        let mut v = vec![0.0; n];
        set.iter().for_each(|&a| v[a as usize] = 1.0);
        v
    };
    let mut targets: Vec<Vec<u32>> = Vec::new();
    for (c, set) in atoms.of_cell.iter().enumerate() {
        if (1..k).contains(&cell_sessions[c]) {
            targets.push(set.clone());
        }
    }
    for a in 0..n {
        if atoms.sessions[a].len() < k {
            targets.push(vec![a as u32]);
        }
    }
    if n <= PAIRS_UP_TO {
        for a in 0..n {
            for b in a + 1..n {
                let (ka, kb) = (&atoms.keys[a], &atoms.keys[b]);
                if (ka.0 == kb.0 || ka.1 == kb.1)
                    && union([a, b].iter().map(|&i| atoms.sessions[i].iter().copied())) < k
                {
                    targets.push(vec![a as u32, b as u32]);
                }
            }
        }
    }
    loop {
        let span = Span::new(
            (0..published.len())
                .filter(|&c| published[c])
                .map(|c| vector(&atoms.of_cell[c])),
        );
        let Some(t) = targets.iter().find(|t| span.contains(vector(t))) else {
            return;
        };
        tracing::debug!(target = ?t, "guard: computable, hiding one more cell");
        let hide = (0..published.len())
            .filter(|&c| published[c] && atoms.of_cell[c].iter().any(|a| t.contains(a)))
            .min_by_key(|&c| (cell_sessions[c], c));
        match hide {
            Some(c) => published[c] = false,
            None => {
                tracing::warn!(target = ?t, "guard: a component is hidden whole");
                published.iter_mut().for_each(|p| *p = false);
                return;
            }
        }
    }
}
