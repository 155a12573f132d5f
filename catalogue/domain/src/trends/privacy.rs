//! Cell suppression: which cells of a table may be published so that no published cell, and
//! nothing that can be computed from the published cells, counts fewer than `k` distinct
//! sessions.
//!
//! A [`Table`] is one independent component (one measure of one week: the week and its seven
//! days, each broken down by category, brand, product and price band). Its cells are sums of
//! events; its groups are the additive relations between them (`parent = sum of children`: a
//! week is the sum of its days, a category the sum of its brands, and again the sum of its
//! price bands, ...). A reader who has the published cells can also compute
//!
//! - a parent whose children (in one group) are all known,
//! - the one unknown child of a group whose parent and other children are known,
//! - the sum of the unknown children of a group whose parent is known (a "lump"),
//!
//! and so on, repeatedly. [`Table::suppress`] starts from "publish every cell with at least `k`
//! sessions" (primary suppression) and then, while anything computable (a derived cell or a
//! lump) counts between 1 and `k - 1` sessions, hides one more cell of the group that gave it
//! away: the published sibling with the fewest sessions, else the parent (complementary
//! suppression). If neither helps, nothing of the component is published. Every step hides
//! one more cell, so it ends. Virtual cells (totals that are never published, such as all
//! categories together) are known to the reader only where they can be computed, unless the
//! table says they are known (a total another table gives away: the cautious assumption).
//!
//! The decisions depend on the component's data only (never on the request, the viewer or
//! the filters), so every report shows the same subset of the same values: two reports
//! together show no more than one report of everything.

use std::collections::HashSet;

/// One cell: the distinct sessions (interned ids, sorted, deduplicated) behind its events.
#[derive(Debug, Clone)]
pub struct Cell {
    pub sessions: Vec<u32>,
    /// Never published (a total such as all categories together).
    pub virtual_total: bool,
    /// Taken as known to the reader although not published here (a total that another
    /// table gives away): the cautious assumption.
    pub assumed_known: bool,
}

/// Cells and the additive relations between them.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub cells: Vec<Cell>,
    /// `(parent, children)`: the parent's events are exactly the children's, disjointly.
    pub groups: Vec<(usize, Vec<usize>)>,
}

/// How a cell became known to the reader.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    No,
    Published,
    Virtual,
    /// Lone unknown child of group `g`.
    Child(usize),
    /// Parent of a group whose children are all known.
    Parent,
}

impl Table {
    pub fn add(&mut self, sessions: Vec<u32>, virtual_total: bool) -> usize {
        self.push(sessions, virtual_total, false)
    }

    /// A total never published here but taken as known (see [`Cell::assumed_known`]).
    pub fn add_known_total(&mut self, sessions: Vec<u32>) -> usize {
        self.push(sessions, true, true)
    }

    fn push(&mut self, mut sessions: Vec<u32>, virtual_total: bool, assumed_known: bool) -> usize {
        sessions.sort_unstable();
        sessions.dedup();
        self.cells.push(Cell {
            sessions,
            virtual_total,
            assumed_known,
        });
        self.cells.len() - 1
    }

    /// Which cells may be published with threshold `k` (`true` = publish).
    pub fn suppress(&self, k: usize) -> Vec<bool> {
        let mut published: Vec<bool> = self
            .cells
            .iter()
            .map(|c| !c.virtual_total && c.sessions.len() >= k)
            .collect();
        // Each round hides one more cell or ends: at most `cells + 1` rounds.
        for _ in 0..=self.cells.len() {
            let known = self.closure(&published);
            match self.first_breach(&known, k) {
                None => return published,
                Some(group) => {
                    if !self.hide_for(group, &known, &mut published, 8) {
                        tracing::warn!(
                            cells = self.cells.len(),
                            group = ?self.groups[group],
                            "suppression: a component is hidden whole"
                        );
                        return vec![false; self.cells.len()];
                    }
                }
            }
        }
        vec![false; self.cells.len()]
    }

    /// Hides one more cell so that `group` gives less away: its smallest published child,
    /// else its published parent, else (the parent being computed from elsewhere) one more
    /// cell of the group it was computed from. `false` if nothing is left to hide.
    fn hide_for(&self, group: usize, known: &[Known], published: &mut [bool], depth: u8) -> bool {
        if self.hide_one_more(group, published) {
            return true;
        }
        if depth == 0 {
            return false;
        }
        let parent = self.groups[group].0;
        match known[parent] {
            Known::Child(g) => self.hide_for(g, known, published, depth - 1),
            Known::Parent => self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, (p, ch))| *p == parent && ch.iter().all(|&c| known[c] != Known::No))
                .any(|(g, _)| self.hide_for(g, known, published, depth - 1)),
            _ => false,
        }
    }

    /// What a reader can compute from `published` (and the virtual totals).
    fn closure(&self, published: &[bool]) -> Vec<Known> {
        let mut known: Vec<Known> = self
            .cells
            .iter()
            .zip(published)
            .map(|(c, &p)| match (p, c.assumed_known) {
                (true, _) => Known::Published,
                (false, true) => Known::Virtual,
                _ => Known::No,
            })
            .collect();
        loop {
            let mut changed = false;
            for (g, (parent, children)) in self.groups.iter().enumerate() {
                let unknown: Vec<usize> = children
                    .iter()
                    .copied()
                    .filter(|&c| known[c] == Known::No)
                    .collect();
                if known[*parent] == Known::No {
                    if unknown.is_empty() {
                        known[*parent] = Known::Parent;
                        changed = true;
                    }
                } else if unknown.len() == 1 {
                    known[unknown[0]] = Known::Child(g);
                    changed = true;
                }
            }
            if !changed {
                return known;
            }
        }
    }

    /// The group of the first thing a reader can compute that counts 1..k-1 sessions.
    fn first_breach(&self, known: &[Known], k: usize) -> Option<usize> {
        for (c, how) in known.iter().enumerate() {
            if let Known::Child(g) = how
                && self.cells[c].sessions.len() < k
            {
                return Some(*g);
            }
        }
        for (g, (parent, children)) in self.groups.iter().enumerate() {
            if known[*parent] == Known::No {
                continue;
            }
            let lump: HashSet<u32> = children
                .iter()
                .filter(|&&c| known[c] == Known::No)
                .flat_map(|&c| self.cells[c].sessions.iter().copied())
                .collect();
            if !lump.is_empty() && lump.len() < k {
                return Some(g);
            }
        }
        None
    }

    /// Hides the published child of `group` with the fewest sessions, else its parent;
    /// `false` if the group has nothing published left.
    fn hide_one_more(&self, group: usize, published: &mut [bool]) -> bool {
        let (parent, children) = &self.groups[group];
        let smallest = children
            .iter()
            .copied()
            .filter(|&c| published[c])
            .min_by_key(|&c| (self.cells[c].sessions.len(), c));
        match smallest {
            Some(c) => {
                published[c] = false;
                true
            }
            None if published[*parent] => {
                published[*parent] = false;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
#[path = "privacy_tests.rs"]
mod tests;
