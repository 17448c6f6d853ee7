//! Brute-force k-NN over a segment's raw vectors: the answer for untrained indexes, for highly
//! selective filters (where graph search loses recall), for `params.exact`, and the reference the
//! tests compare FAISS against.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use akidb_client::Metric;

/// A candidate ordered so that the worst one sits on top of a max-heap.
#[derive(Debug, Clone, Copy)]
struct Worst {
    badness: f32,
    score: f32,
    row: usize,
}

impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        self.badness
            .total_cmp(&o.badness)
            .then(self.row.cmp(&o.row))
    }
}

/// The metric's score of `v` for query `q`: squared L2 distance, or inner product (cosine
/// vectors are stored normalised, so their inner product is the cosine).
#[inline]
pub fn score(metric: Metric, q: &[f32], v: &[f32]) -> f32 {
    match metric {
        Metric::L2 => q.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum(),
        Metric::Ip | Metric::Cosine => q.iter().zip(v).map(|(a, b)| a * b).sum(),
    }
}

/// Top `k` rows by `metric` among rows `allow` accepts, best first, as `(score, row)`.
pub fn search(
    metric: Metric,
    vectors: &[f32],
    dim: usize,
    q: &[f32],
    k: usize,
    mut allow: impl FnMut(usize) -> bool,
) -> Vec<(f32, usize)> {
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
    if k == 0 || dim == 0 {
        return Vec::new();
    }
    let sign = if metric.higher_is_better() { -1.0 } else { 1.0 };
    for (row, v) in vectors.chunks_exact(dim).enumerate() {
        if !allow(row) {
            continue;
        }
        let s = score(metric, q, v);
        let cand = Worst {
            badness: sign * s,
            score: s,
            row,
        };
        if heap.len() < k {
            heap.push(cand);
        } else if heap.peek().is_some_and(|w| cand < *w) {
            heap.pop();
            heap.push(cand);
        }
    }
    let mut out: Vec<Worst> = heap.into_vec();
    out.sort();
    out.into_iter().map(|w| (w.score, w.row)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_returns_nearest_first() {
        let v = [0.0, 0.0, 1.0, 0.0, 5.0, 0.0, 2.0, 0.0];
        let r = search(Metric::L2, &v, 2, &[1.9, 0.0], 2, |_| true);
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![3, 1]);
        assert!((r[0].0 - 0.01).abs() < 1e-5);
    }

    #[test]
    fn ip_returns_largest_product_first_and_respects_allow() {
        let v = [1.0, 0.0, 3.0, 0.0, 2.0, 0.0];
        let r = search(Metric::Ip, &v, 2, &[1.0, 0.0], 3, |row| row != 1);
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![2, 0]);
    }
}
