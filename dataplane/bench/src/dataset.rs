//! Benchmark data: a seeded clustered Gaussian generator, and readers (and small writers, for tests
//! and for exporting) of the `.fvecs` and `.npy` formats.

use std::fs;
#[cfg(test)]
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Row-major base vectors and query vectors of one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub dim: usize,
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    /// Where the data came from, for the report.
    pub source: String,
}

impl Dataset {
    pub fn n(&self) -> usize {
        self.base.len() / self.dim
    }

    pub fn nq(&self) -> usize {
        self.queries.len() / self.dim
    }

    pub fn base_row(&self, i: usize) -> &[f32] {
        &self.base[i * self.dim..(i + 1) * self.dim]
    }

    pub fn query_row(&self, i: usize) -> &[f32] {
        &self.queries[i * self.dim..(i + 1) * self.dim]
    }

    /// Raw size of the base vectors as f32.
    pub fn base_bytes(&self) -> u64 {
        (self.base.len() * std::mem::size_of::<f32>()) as u64
    }
}

/// Parameters of the clustered generator.
#[derive(Debug, Clone)]
pub struct GenParams {
    pub n: usize,
    pub nq: usize,
    pub dim: usize,
    pub clusters: usize,
    /// Standard deviation of the per-cluster noise, per coordinate, scaled per cluster by a factor
    /// in [0.5, 1.5) so clusters differ in spread.
    pub cluster_std: f32,
    pub seed: u64,
}

/// Cluster centres uniform in [-1, 1)^dim; each vector is a uniformly chosen centre plus normal
/// noise. Queries come from the same distribution through an independent ChaCha stream, so they are
/// not copies of base vectors. The same parameters always give the same bytes.
pub fn generate(p: &GenParams) -> Result<Dataset> {
    ensure!(p.dim > 0, "dimension must be positive");
    ensure!(p.clusters > 0, "need at least one cluster");
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let centers: Vec<f32> = (0..p.clusters * p.dim)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let scales: Vec<f32> = (0..p.clusters)
        .map(|_| p.cluster_std * rng.random_range(0.5f32..1.5))
        .collect();
    let draw = |rng: &mut ChaCha8Rng, rows: usize| -> Vec<f32> {
        let mut out = Vec::with_capacity(rows * p.dim);
        for _ in 0..rows {
            let c = rng.random_range(0..p.clusters);
            let center = &centers[c * p.dim..(c + 1) * p.dim];
            for &x in center {
                let z: f32 = StandardNormal.sample(rng);
                out.push(x + scales[c] * z);
            }
        }
        out
    };
    let base = draw(&mut rng, p.n);
    let mut qrng = ChaCha8Rng::seed_from_u64(p.seed);
    qrng.set_stream(1);
    let queries = draw(&mut qrng, p.nq);
    Ok(Dataset {
        dim: p.dim,
        base,
        queries,
        source: format!(
            "clustered gaussian: {} clusters, std {}, seed {}",
            p.clusters, p.cluster_std, p.seed
        ),
    })
}

/// Reads a `.fvecs` or `.npy` file (by extension) as `(dim, row-major data)`.
pub fn read_vectors(path: &Path) -> Result<(usize, Vec<f32>)> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let parsed = match ext.as_str() {
        "fvecs" => parse_fvecs(&bytes),
        "npy" => parse_npy(&bytes),
        _ => bail!("{}: expected a .fvecs or .npy file", path.display()),
    };
    parsed.with_context(|| format!("parsing {}", path.display()))
}

/// `.fvecs`: per vector a little-endian i32 dimension followed by that many f32.
pub fn parse_fvecs(bytes: &[u8]) -> Result<(usize, Vec<f32>)> {
    ensure!(bytes.len() >= 4, "file too short for an fvecs header");
    let dim = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    ensure!(dim > 0, "invalid fvecs dimension {dim}");
    let dim = dim as usize;
    let row = 4 + 4 * dim;
    ensure!(
        bytes.len() % row == 0,
        "file size {} is not a multiple of the row size {row} (dimension {dim})",
        bytes.len()
    );
    let mut out = Vec::with_capacity(bytes.len() / row * dim);
    for (i, chunk) in bytes.chunks_exact(row).enumerate() {
        let d = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        ensure!(
            d as usize == dim,
            "row {i} has dimension {d}, expected {dim}"
        );
        out.extend(
            chunk[4..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    Ok((dim, out))
}

/// `.npy` (format 1.0, 2.0 or 3.0) holding a C-order 2-D array of `<f4` or `<f8`.
pub fn parse_npy(bytes: &[u8]) -> Result<(usize, Vec<f32>)> {
    ensure!(
        bytes.len() >= 10 && &bytes[..6] == b"\x93NUMPY",
        "not an .npy file (bad magic)"
    );
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            ensure!(bytes.len() >= 12, "truncated .npy header");
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        v => bail!("unsupported .npy format version {v}"),
    };
    let data_start = start + header_len;
    ensure!(bytes.len() >= data_start, "truncated .npy header");
    let header = std::str::from_utf8(&bytes[start..data_start]).context("non-UTF-8 .npy header")?;
    let descr = header_value(header, "descr").context("no 'descr' in .npy header")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = header_value(header, "fortran_order").context("no 'fortran_order'")?;
    ensure!(
        fortran.trim() == "False",
        "Fortran-order .npy arrays are not supported"
    );
    let shape = header_value(header, "shape").context("no 'shape' in .npy header")?;
    let dims: Vec<usize> = shape
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .with_context(|| format!("bad shape entry {s:?}"))
        })
        .collect::<Result<_>>()?;
    ensure!(dims.len() == 2, "expected a 2-D array, shape is {shape}");
    let (rows, dim) = (dims[0], dims[1]);
    ensure!(dim > 0, "zero dimension");
    let data = &bytes[data_start..];
    let count = rows.checked_mul(dim).context("shape overflows usize")?;
    let out: Vec<f32> = match descr {
        "<f4" | "|f4" | "=f4" => {
            ensure!(
                data.len() == count * 4,
                "data size does not match shape {shape}"
            );
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        }
        "<f8" | "=f8" => {
            ensure!(
                data.len() == count * 8,
                "data size does not match shape {shape}"
            );
            data.chunks_exact(8)
                .map(|b| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    f64::from_le_bytes(a) as f32
                })
                .collect()
        }
        other => bail!("unsupported .npy dtype {other:?} (need <f4 or <f8)"),
    };
    Ok((dim, out))
}

/// The text of `'key': value` in a Python dict literal, up to the next top-level comma.
fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat_single = format!("'{key}'");
    let pat_double = format!("\"{key}\"");
    let pos = header
        .find(&pat_single)
        .map(|p| p + pat_single.len())
        .or_else(|| header.find(&pat_double).map(|p| p + pat_double.len()))?;
    let rest = header[pos..].trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

/// Writes `.fvecs`.
#[cfg(test)]
pub fn write_fvecs(path: &Path, dim: usize, data: &[f32]) -> Result<()> {
    ensure!(dim > 0 && data.len() % dim == 0, "data is not whole rows");
    let mut w = BufWriter::new(fs::File::create(path)?);
    for row in data.chunks_exact(dim) {
        w.write_all(&(dim as i32).to_le_bytes())?;
        for x in row {
            w.write_all(&x.to_le_bytes())?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `.npy` version 1.0, `<f4`, C order.
#[cfg(test)]
pub fn write_npy(path: &Path, dim: usize, data: &[f32]) -> Result<()> {
    ensure!(dim > 0 && data.len() % dim == 0, "data is not whole rows");
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        data.len() / dim,
        dim
    );
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut w = BufWriter::new(fs::File::create(path)?);
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    for x in data {
        w.write_all(&x.to_le_bytes())?;
    }
    w.flush()?;
    Ok(())
}

/// Scales every row to unit L2 norm (zero rows stay zero).
pub fn normalize_rows(data: &mut [f32], dim: usize) {
    for row in data.chunks_exact_mut(dim) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(seed: u64) -> GenParams {
        GenParams {
            n: 300,
            nq: 20,
            dim: 8,
            clusters: 5,
            cluster_std: 0.1,
            seed,
        }
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        let a = generate(&params(7)).expect("gen");
        let b = generate(&params(7)).expect("gen");
        let c = generate(&params(8)).expect("gen");
        assert_eq!(a, b);
        assert_ne!(a.base, c.base);
        assert_eq!(a.n(), 300);
        assert_eq!(a.nq(), 20);
        assert!(a.base.iter().chain(&a.queries).all(|x| x.is_finite()));
    }

    #[test]
    fn queries_are_not_copies_of_base_rows() {
        let d = generate(&params(1)).expect("gen");
        for q in 0..d.nq() {
            assert!((0..d.n()).all(|i| d.base_row(i) != d.query_row(q)));
        }
    }

    #[test]
    fn fvecs_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.fvecs");
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        write_fvecs(&path, 3, &data).expect("write");
        assert_eq!(read_vectors(&path).expect("read"), (3, data));
    }

    #[test]
    fn fvecs_with_inconsistent_rows_is_an_error() {
        let mut bytes = Vec::new();
        bytes.extend(2i32.to_le_bytes());
        bytes.extend([0u8; 8]);
        bytes.extend(3i32.to_le_bytes());
        bytes.extend([0u8; 8]);
        assert!(parse_fvecs(&bytes).is_err());
        assert!(parse_fvecs(&bytes[..7]).is_err());
    }

    #[test]
    fn npy_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let data: Vec<f32> = (0..20).map(|i| i as f32 - 3.25).collect();
        write_npy(&path, 5, &data).expect("write");
        let raw = fs::read(&path).expect("read back");
        assert_eq!(u16::from_le_bytes([raw[8], raw[9]]) as usize % 64, 54);
        assert_eq!(read_vectors(&path).expect("read"), (5, data));
    }

    #[test]
    fn npy_f8_and_bad_inputs() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        for x in [1.0f64, 2.0, 3.0, 4.5] {
            bytes.extend(x.to_le_bytes());
        }
        assert_eq!(
            parse_npy(&bytes).expect("f8"),
            (2, vec![1.0, 2.0, 3.0, 4.5])
        );
        assert!(parse_npy(&bytes[..bytes.len() - 1]).is_err());
        assert!(parse_npy(b"NOTNPY....").is_err());
        let bad = bytes.clone();
        let text = String::from_utf8_lossy(&bad).replace("<f8", "<i8");
        assert!(parse_npy(text.as_bytes()).is_err());
    }

    #[test]
    fn normalize_makes_unit_rows() {
        let mut v = vec![3.0, 4.0, 0.0, 0.0];
        normalize_rows(&mut v, 2);
        assert_eq!(v, vec![0.6, 0.8, 0.0, 0.0]);
    }
}
