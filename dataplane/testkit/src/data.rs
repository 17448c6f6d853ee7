//! Seeded test data and exact answers to check recall against.

use akidb_client::{Metadata, Metric, Record};

/// A small deterministic generator (splitmix64), so tests need no RNG crate and replay exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// `n` vectors of `dim` around `clusters` centres (row-major).
pub fn clustered(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.unit() * 4.0).collect();
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let c = rng.below(clusters as u64) as usize;
        for d in 0..dim {
            out.push(centres[c * dim + d] + rng.unit() * 0.5);
        }
    }
    out
}

/// Records `r{i}` with metadata `{"group": i % 10, "even": i % 2 == 0, "i": i}`.
pub fn records(vectors: &[f32], dim: usize, offset: usize) -> Vec<Record> {
    vectors
        .chunks_exact(dim)
        .enumerate()
        .map(|(j, v)| {
            let i = offset + j;
            let mut m = Metadata::new();
            m.insert("group".into(), (i % 10).into());
            m.insert("even".into(), i.is_multiple_of(2).into());
            m.insert("i".into(), i.into());
            Record {
                id: format!("r{i}"),
                vector: v.to_vec(),
                metadata: m,
            }
        })
        .collect()
}

fn normalised(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / n).collect()
    }
}

/// Exact top-k row numbers among rows `keep` accepts.
pub fn exact_topk(
    metric: Metric,
    vectors: &[f32],
    dim: usize,
    q: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let q = if metric == Metric::Cosine {
        normalised(q)
    } else {
        q.to_vec()
    };
    let mut scored: Vec<(f32, usize)> = vectors
        .chunks_exact(dim)
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(i, v)| {
            let s = match metric {
                Metric::L2 => v
                    .iter()
                    .zip(&q)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>(),
                Metric::Ip => -v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>(),
                Metric::Cosine => -normalised(v)
                    .iter()
                    .zip(&q)
                    .map(|(a, b)| a * b)
                    .sum::<f32>(),
            };
            (s, i)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.truncate(k);
    scored.into_iter().map(|x| x.1).collect()
}

/// Share of `truth` found in `got`.
pub fn recall(got: &[String], truth: &[usize]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let hits = truth
        .iter()
        .filter(|t| got.contains(&format!("r{t}")))
        .count();
    hits as f64 / truth.len() as f64
}
