//! FAISS used directly in this process with the same index parameters as the server collection: the
//! reference the server is compared with.

use std::time::{Duration, Instant};

use akidb_client::{IndexSpec, SearchParams};
use anyhow::{Context, Result};
use faiss::index::autotune::ParameterSpace;
use faiss::{index_factory, Index, MetricType};

use crate::dataset::Dataset;
use crate::report::{latency_histogram, record_latency, FaissReport, LatencyStats, QueryPhase};
use crate::server::CpuWindow;
use crate::truth::recall_at_k;

/// The index type and its parameters, shared by the FAISS reference and the server collection.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexChoice {
    Flat,
    Hnsw {
        m: u32,
        ef_construction: u32,
        ef_search: u32,
    },
    IvfFlat {
        nlist: u32,
        nprobe: u32,
    },
    IvfPq {
        nlist: u32,
        m: u32,
        nbits: u32,
        nprobe: u32,
    },
}

impl IndexChoice {
    /// The `faiss::index_factory` description.
    pub fn factory(&self) -> String {
        match self {
            IndexChoice::Flat => "Flat".into(),
            IndexChoice::Hnsw { m, .. } => format!("HNSW{m},Flat"),
            IndexChoice::IvfFlat { nlist, .. } => format!("IVF{nlist},Flat"),
            IndexChoice::IvfPq {
                nlist, m, nbits, ..
            } => format!("IVF{nlist},PQ{m}x{nbits}np"), // as the server: no polysemous training
        }
    }

    /// The server's collection index.
    pub fn spec(&self) -> IndexSpec {
        match *self {
            IndexChoice::Flat => IndexSpec::Flat,
            IndexChoice::Hnsw {
                m,
                ef_construction,
                ef_search,
            } => IndexSpec::Hnsw {
                m,
                ef_construction,
                ef_search,
            },
            IndexChoice::IvfFlat { nlist, nprobe } => IndexSpec::IvfFlat { nlist, nprobe },
            IndexChoice::IvfPq {
                nlist,
                m,
                nbits,
                nprobe,
            } => IndexSpec::IvfPq {
                nlist,
                m,
                nbits,
                nprobe,
            },
        }
    }

    /// Per-query parameters sent to the server, equal to the ones set on the FAISS index.
    pub fn search_params(&self) -> Option<SearchParams> {
        match *self {
            IndexChoice::Flat => None,
            IndexChoice::Hnsw { ef_search, .. } => Some(SearchParams {
                ef_search: Some(ef_search),
                ..Default::default()
            }),
            IndexChoice::IvfFlat { nprobe, .. } | IndexChoice::IvfPq { nprobe, .. } => {
                Some(SearchParams {
                    nprobe: Some(nprobe),
                    ..Default::default()
                })
            }
        }
    }

    /// Search parameters for the report, e.g. `ef_search=64`.
    pub fn describe_search(&self) -> String {
        match self {
            IndexChoice::Flat => "exact".into(),
            IndexChoice::Hnsw {
                m,
                ef_construction,
                ef_search,
            } => {
                format!("M={m} ef_construction={ef_construction} ef_search={ef_search}")
            }
            IndexChoice::IvfFlat { nlist, nprobe } => format!("nlist={nlist} nprobe={nprobe}"),
            IndexChoice::IvfPq {
                nlist,
                m,
                nbits,
                nprobe,
            } => {
                format!("nlist={nlist} pq={m}x{nbits} nprobe={nprobe}")
            }
        }
    }

    fn needs_training(&self) -> bool {
        matches!(
            self,
            IndexChoice::IvfFlat { .. } | IndexChoice::IvfPq { .. }
        )
    }
}

/// How long a query phase runs: every query at least once, then until `duration` has passed or,
/// when `count` is set, until that many queries were issued.
#[derive(Debug, Clone, Copy)]
pub struct PhaseLength {
    pub duration: Duration,
    pub count: Option<u64>,
}

impl PhaseLength {
    /// True when query number `issued` (0-based) should not be sent any more.
    pub fn done(&self, issued: u64, nq: usize, started: Instant) -> bool {
        if issued < nq as u64 {
            return false;
        }
        match self.count {
            Some(c) => issued >= c,
            None => started.elapsed() >= self.duration,
        }
    }
}

/// `base`/`queries` must already be normalised for cosine.
pub fn run(
    ds: &Dataset,
    metric: MetricType,
    choice: &IndexChoice,
    k: usize,
    truth: &[Vec<u32>],
    len: PhaseLength,
    warmup: usize,
) -> Result<FaissReport> {
    let dim = ds.dim as u32;
    let factory = choice.factory();
    let mut index = index_factory(dim, &factory, metric)
        .with_context(|| format!("faiss index_factory({factory})"))?;
    let ps = ParameterSpace::new().context("faiss ParameterSpace")?;
    if let IndexChoice::Hnsw {
        ef_construction, ..
    } = choice
    {
        ps.set_index_parameter(&index, "efConstruction", *ef_construction)
            .context("setting efConstruction")?;
    }
    let mut train_s = 0.0;
    if choice.needs_training() {
        eprintln!("faiss: training {factory} on {} vectors", ds.n());
        let t = Instant::now();
        index.train(&ds.base).context("faiss train")?;
        train_s = t.elapsed().as_secs_f64();
    }
    let chunk = 10_000usize;
    let pb = crate::bar(ds.n() as u64, "faiss add");
    let cpu = CpuWindow::start(None);
    let t = Instant::now();
    for part in ds.base.chunks(chunk * ds.dim) {
        index.add(part).context("faiss add")?;
        pb.inc((part.len() / ds.dim) as u64);
    }
    let add_s = t.elapsed().as_secs_f64();
    let add_cpu = cpu.finish();
    pb.finish_and_clear();
    match choice {
        IndexChoice::Hnsw { ef_search, .. } => {
            ps.set_index_parameter(&index, "efSearch", *ef_search)?
        }
        IndexChoice::IvfFlat { nprobe, .. } | IndexChoice::IvfPq { nprobe, .. } => {
            ps.set_index_parameter(&index, "nprobe", *nprobe)?
        }
        IndexChoice::Flat => {}
    }

    let tmp = tempfile::tempdir().context("temp dir for the FAISS index file")?;
    let path = tmp.path().join("reference.faissindex");
    faiss::write_index(&index, path.to_string_lossy().as_ref()).context("faiss write_index")?;
    let index_bytes = std::fs::metadata(&path)?.len();
    drop(tmp);

    let nq = ds.nq();
    for q in 0..warmup.min(nq) {
        index.search(ds.query_row(q), k)?;
    }
    let mut hist = latency_histogram();
    let mut found: Vec<Option<Vec<u32>>> = vec![None; nq];
    let pb = crate::spinner("faiss queries");
    let cpu = CpuWindow::start(None);
    let started = Instant::now();
    let mut issued = 0u64;
    while !len.done(issued, nq, started) {
        let q = (issued % nq as u64) as usize;
        let t = Instant::now();
        let res = index.search(ds.query_row(q), k)?;
        record_latency(&mut hist, t.elapsed());
        if found[q].is_none() {
            found[q] = Some(
                res.labels
                    .iter()
                    .filter_map(|l| l.get())
                    .map(|l| l as u32)
                    .collect(),
            );
        }
        issued += 1;
        if issued % 256 == 0 {
            pb.set_position(issued);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let search_cpu = cpu.finish();
    pb.finish_and_clear();
    Ok(FaissReport {
        factory,
        train_s,
        add_s,
        add_vectors_per_s: ds.n() as f64 / add_s.max(1e-9),
        add_cpu_cores: add_cpu.bench,
        add_machine_cpu_cores: add_cpu.machine,
        index_bytes,
        search: QueryPhase {
            name: "faiss-inprocess".into(),
            clients: 1,
            queries: issued,
            errors: 0,
            elapsed_s: elapsed,
            qps: issued as f64 / elapsed.max(1e-9),
            recall_at_k: recall_at_k(truth, &found, k),
            latency: LatencyStats::from_histogram_us(&hist),
            server_cpu_cores: None,
            bench_cpu_cores: search_cpu.bench,
            machine_cpu_cores: search_cpu.machine,
            first_error: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factory_strings_and_specs() {
        let h = IndexChoice::Hnsw {
            m: 32,
            ef_construction: 200,
            ef_search: 64,
        };
        assert_eq!(h.factory(), "HNSW32,Flat");
        assert_eq!(
            h.spec(),
            IndexSpec::Hnsw {
                m: 32,
                ef_construction: 200,
                ef_search: 64
            }
        );
        assert_eq!(h.search_params().and_then(|p| p.ef_search), Some(64));
        let p = IndexChoice::IvfPq {
            nlist: 100,
            m: 16,
            nbits: 8,
            nprobe: 4,
        };
        assert_eq!(p.factory(), "IVF100,PQ16x8np");
        assert_eq!(p.search_params().and_then(|p| p.nprobe), Some(4));
        assert_eq!(IndexChoice::Flat.search_params(), None);
    }

    #[test]
    fn phase_length_runs_every_query_once_then_until_the_limit() {
        let started = Instant::now();
        let by_count = PhaseLength {
            duration: Duration::ZERO,
            count: Some(30),
        };
        assert!(!by_count.done(19, 20, started));
        assert!(!by_count.done(29, 20, started));
        assert!(by_count.done(30, 20, started));
        let by_time = PhaseLength {
            duration: Duration::ZERO,
            count: None,
        };
        assert!(!by_time.done(5, 20, started));
        assert!(by_time.done(20, 20, started));
        let long = PhaseLength {
            duration: Duration::from_secs(3600),
            count: None,
        };
        assert!(!long.done(1000, 20, started));
    }
}
