//! The auction for the ad slots of one search: generalised second price on `bid x predicted
//! click rate`.
//!
//! Bidders are ranked by `score = bid x ctr` (ties: the more similar product, then the campaign
//! id), one campaign per product (the best). The first `slots` win, in order. Each pays per
//! click the least bid that would still have kept its rank over the next bidder,
//! `ceil(score_next / ctr_own)`, never less than the reserve and never more than its own bid; the
//! last winner with nobody below pays the reserve. With equal click rates that is exactly the
//! next bid. A bid below the reserve does not take part.

use std::collections::HashSet;

/// One campaign's bid for this search.
#[derive(Debug, Clone, PartialEq)]
pub struct Bid {
    pub campaign_id: String,
    pub product_id: String,
    pub bid_cents: i64,
    /// Predicted click rate of the product (> 0).
    pub ctr: f64,
    /// Cosine similarity of the product to the query (breaks ties).
    pub similarity: f32,
}

impl Bid {
    fn score(&self) -> f64 {
        self.bid_cents as f64 * self.ctr
    }
}

/// A winner: the index of its bid and its price per click (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Win {
    pub bid: usize,
    pub price_cents: i64,
}

/// The winners of up to `slots` slots, best first.
pub fn run(bids: &[Bid], slots: usize, reserve_cents: i64) -> Vec<Win> {
    let reserve = reserve_cents.max(1);
    let mut order: Vec<usize> = (0..bids.len())
        .filter(|&i| bids[i].bid_cents >= reserve && bids[i].ctr.is_finite() && bids[i].ctr > 0.0)
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&bids[a], &bids[b]);
        y.score()
            .total_cmp(&x.score())
            .then(y.similarity.total_cmp(&x.similarity))
            .then(x.campaign_id.cmp(&y.campaign_id))
    });
    let mut products = HashSet::new();
    order.retain(|&i| products.insert(bids[i].product_id.as_str()));
    (0..slots.min(order.len()))
        .map(|rank| {
            let me = &bids[order[rank]];
            let price = match order.get(rank + 1) {
                // The small epsilon keeps an exact ratio (equal rates) from rounding up a cent.
                Some(&next) => (bids[next].score() / me.ctr - 1e-9).ceil() as i64,
                None => reserve,
            };
            Win {
                bid: order[rank],
                price_cents: price.clamp(reserve, me.bid_cents),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(c: &str, p: &str, cents: i64, ctr: f64) -> Bid {
        Bid {
            campaign_id: c.into(),
            product_id: p.into(),
            bid_cents: cents,
            ctr,
            similarity: 0.5,
        }
    }

    #[test]
    fn the_winner_pays_the_next_bid_at_equal_click_rates() {
        let bids = [bid("a", "pa", 100, 0.05), bid("b", "pb", 30, 0.05)];
        assert_eq!(
            run(&bids, 1, 1),
            [Win {
                bid: 0,
                price_cents: 30
            }]
        );
        // Alone: the reserve.
        assert_eq!(
            run(&bids[..1], 1, 5),
            [Win {
                bid: 0,
                price_cents: 5
            }]
        );
    }

    #[test]
    fn predicted_click_rate_decides_rank_and_price() {
        // b bids less but is clicked three times as often: it wins, and pays what keeps its
        // score over a's: 100 x 0.02 / 0.06 = 33.3 -> 34 cents.
        let bids = [bid("a", "pa", 100, 0.02), bid("b", "pb", 60, 0.06)];
        assert_eq!(
            run(&bids, 1, 1),
            [Win {
                bid: 1,
                price_cents: 34
            }]
        );
    }

    #[test]
    fn several_slots_each_pay_the_next_and_never_more_than_their_bid() {
        let bids = [
            bid("a", "pa", 100, 0.05),
            bid("b", "pb", 80, 0.05),
            bid("c", "pc", 50, 0.05),
        ];
        let w = run(&bids, 2, 1);
        assert_eq!(
            w,
            [
                Win {
                    bid: 0,
                    price_cents: 80
                },
                Win {
                    bid: 1,
                    price_cents: 50
                }
            ]
        );
        for w in run(&bids, 3, 1) {
            assert!(w.price_cents <= bids[w.bid].bid_cents);
        }
    }

    #[test]
    fn below_the_reserve_or_duplicate_products_do_not_compete() {
        let bids = [
            bid("a", "p", 100, 0.05),
            bid("b", "p", 90, 0.05),
            bid("c", "pc", 3, 0.05),
            bid("d", "pd", 20, 0.0),
        ];
        // b advertises the same product as a: dropped; c is under the reserve; d has no rate.
        assert_eq!(
            run(&bids, 2, 5),
            [Win {
                bid: 0,
                price_cents: 5
            }]
        );
        assert!(run(&[], 1, 5).is_empty());
        assert!(run(&bids, 0, 5).is_empty());
    }
}
