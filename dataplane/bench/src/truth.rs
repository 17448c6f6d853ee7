//! Exact k-nearest neighbours by brute force over all cores, and recall@k against them.

use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;

/// How vectors are compared. Cosine is `Ip` over L2-normalised vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    /// Squared Euclidean distance, smaller is better.
    L2,
    /// Inner product, larger is better.
    Ip,
}

/// Exact top-`k` base row numbers for every query, best first.
pub fn ground_truth(
    base: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    sim: Similarity,
    progress: &ProgressBar,
) -> Vec<Vec<u32>> {
    let nq = queries.len() / dim;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(nq.max(1));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); nq];
    let mut parts: Vec<Vec<(usize, Vec<u32>)>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let q = next.fetch_add(1, Ordering::Relaxed);
                        if q >= nq {
                            break;
                        }
                        let query = &queries[q * dim..(q + 1) * dim];
                        mine.push((q, top_k(base, query, dim, k, sim)));
                        progress.inc(1);
                    }
                    mine
                })
            })
            .collect();
        for h in handles {
            // A panic in a worker is a bug in this file; propagate it.
            parts.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
    });
    for (q, ids) in parts.into_iter().flatten() {
        out[q] = ids;
    }
    out
}

/// Exact top-`k` of one query.
pub fn top_k(base: &[f32], query: &[f32], dim: usize, k: usize, sim: Similarity) -> Vec<u32> {
    // Keep (cost, row) sorted ascending, where cost is the distance or the negated similarity.
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    for (i, row) in base.chunks_exact(dim).enumerate() {
        let cost = match sim {
            Similarity::L2 => l2_sq(query, row),
            Similarity::Ip => -dot(query, row),
        };
        if best.len() == k && best.last().is_some_and(|w| cost >= w.0) {
            continue;
        }
        let pos = best.partition_point(|b| b.0 <= cost);
        best.insert(pos, (cost, i as u32));
        best.truncate(k);
    }
    best.into_iter().map(|(_, i)| i).collect()
}

/// Sum of `term(a[i], b[i])` with eight independent accumulators so the compiler can vectorise it.
#[inline(always)]
fn sum8(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| term(*x, *y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += term(x[j], y[j]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Squared L2 distance.
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    sum8(a, b, |x, y| (x - y) * (x - y))
}

/// Inner product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum8(a, b, |x, y| x * y)
}

/// Mean over queries of |found ∩ truth| / |truth|, comparing the first `k` of each. A query with
/// no answer (missing entry) counts as zero.
pub fn recall_at_k(truth: &[Vec<u32>], found: &[Option<Vec<u32>>], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    for (q, t) in truth.iter().enumerate() {
        let t = &t[..t.len().min(k)];
        if t.is_empty() {
            continue;
        }
        let hits = match found.get(q).and_then(|f| f.as_ref()) {
            Some(f) => f
                .iter()
                .take(k)
                .enumerate()
                .filter(|(i, id)| t.contains(id) && !f[..*i].contains(id))
                .count(),
            None => 0,
        };
        total += hits as f64 / t.len() as f64;
    }
    total / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_counts_overlap_per_query() {
        let truth = vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]];
        let found = vec![Some(vec![4, 3, 9, 1]), Some(vec![5, 6, 7, 8])];
        assert!((recall_at_k(&truth, &found, 4) - (0.75 + 1.0) / 2.0).abs() < 1e-12);
        // Only the first k of each side count.
        assert!((recall_at_k(&truth, &found, 2) - (0.0 + 1.0) / 2.0).abs() < 1e-12);
        // Missing answers count as zero; duplicates are not double-counted.
        let found = vec![None, Some(vec![5, 5, 5, 5])];
        assert!((recall_at_k(&truth, &found, 4) - 0.125).abs() < 1e-12);
    }

    #[test]
    fn brute_force_matches_naive_sort() {
        let dim = 5;
        let base: Vec<f32> = (0..200).map(|i| ((i * 37 % 101) as f32).sin()).collect();
        let queries: Vec<f32> = (0..15).map(|i| ((i * 11 % 29) as f32).cos()).collect();
        for sim in [Similarity::L2, Similarity::Ip] {
            let got = ground_truth(&base, &queries, dim, 4, sim, &ProgressBar::hidden());
            for (q, ids) in got.iter().enumerate() {
                let query = &queries[q * dim..(q + 1) * dim];
                let mut all: Vec<(f32, u32)> = base
                    .chunks_exact(dim)
                    .enumerate()
                    .map(|(i, r)| {
                        let c = match sim {
                            Similarity::L2 => l2_sq(query, r),
                            Similarity::Ip => -dot(query, r),
                        };
                        (c, i as u32)
                    })
                    .collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0));
                let want: Vec<u32> = all.iter().take(4).map(|x| x.1).collect();
                assert_eq!(ids, &want);
            }
        }
    }

    #[test]
    fn kernels_match_scalar() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.25).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.5).collect();
        let l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        let ip: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((l2_sq(&a, &b) - l2).abs() < 1e-3);
        assert!((dot(&a, &b) - ip).abs() < 1e-3);
    }
}
