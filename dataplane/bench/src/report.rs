//! Result types (serialised as the JSON report), latency percentiles, and the printed table.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

/// A latency histogram in microseconds, 1 µs to 10 min, 3 significant figures.
pub fn latency_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|e| panic!("histogram: {e}"))
}

/// Records a duration in whole microseconds (at least 1).
pub fn record_latency(h: &mut Histogram<u64>, d: std::time::Duration) {
    h.saturating_record((d.as_micros() as u64).max(1));
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LatencyStats {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

impl LatencyStats {
    /// Percentiles of a histogram of microseconds, in milliseconds.
    pub fn from_histogram_us(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencyStats {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            mean_ms: h.mean() / 1000.0,
            max_ms: ms(h.max()),
        }
    }
}

/// One query phase (FAISS loop or HTTP clients).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryPhase {
    pub name: String,
    pub clients: usize,
    /// Queries answered successfully.
    pub queries: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    pub qps: f64,
    /// Recall@k of the first answer to each query against exact ground truth.
    pub recall_at_k: f64,
    pub latency: LatencyStats,
    /// CPU time of the server process over the phase divided by wall time.
    pub server_cpu_cores: Option<f64>,
    /// The same for this benchmark process (the HTTP clients share the machine).
    pub bench_cpu_cores: Option<f64>,
    /// Busy time of all CPUs of the machine over the phase (server + bench + anything else).
    pub machine_cpu_cores: Option<f64>,
    pub first_error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FaissReport {
    pub factory: String,
    pub train_s: f64,
    /// Wall time of `add` (after training) for all base vectors.
    pub add_s: f64,
    pub add_vectors_per_s: f64,
    /// CPU cores this process used during `add` (FAISS's OpenMP threads).
    pub add_cpu_cores: Option<f64>,
    pub add_machine_cpu_cores: Option<f64>,
    /// Size of the index written by `faiss::write_index`.
    pub index_bytes: u64,
    pub search: QueryPhase,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestStats {
    pub vectors: u64,
    pub batch: usize,
    pub concurrency: usize,
    pub requests: u64,
    /// Requests re-sent after 429/503 answers.
    pub retries: u64,
    /// From the first request until the last upsert was acknowledged.
    pub secs: f64,
    pub vectors_per_s: f64,
    /// Seconds after the last acknowledgement until `GET` of the collection reported all records.
    pub visible_after_s: Option<f64>,
    pub server_cpu_cores: Option<f64>,
    pub bench_cpu_cores: Option<f64>,
    pub machine_cpu_cores: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RestartStats {
    pub flushed_before: bool,
    /// SIGTERM until the process exited.
    pub shutdown_s: f64,
    pub exit_status: String,
    /// Spawn of the new process until `/readyz` answered 200.
    pub start_to_ready_s: f64,
    /// SIGTERM until `/readyz` answered 200 on the new process.
    pub total_s: f64,
    pub records_after_restart: Option<u64>,
    pub recall_after_restart: Option<f64>,
    pub rss_after_restart_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerReport {
    pub binary: String,
    pub data_dir: String,
    pub startup_to_ready_s: f64,
    pub ingest: IngestStats,
    pub records_after_ingest: Option<u64>,
    pub phases: Vec<QueryPhase>,
    pub rss_bytes: u64,
    pub rss_peak_bytes: u64,
    /// Per-tier bytes the server reports for the collection.
    pub collection_bytes: serde_json::Value,
    pub restart: Option<RestartStats>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Ratios {
    /// Server single-client QPS / FAISS in-process QPS at the same search parameters.
    pub qps_server_1_client_over_faiss: Option<f64>,
    pub qps_server_n_clients_over_faiss: Option<f64>,
    /// Server ingest vectors/s / FAISS add vectors/s.
    pub ingest_server_over_faiss: Option<f64>,
    /// Server RSS / (raw f32 vector bytes + FAISS index file bytes).
    pub rss_over_raw_plus_index: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DatasetInfo {
    pub source: String,
    pub n: usize,
    pub queries: usize,
    pub dim: usize,
    pub raw_vector_bytes: u64,
    pub generate_s: f64,
    pub ground_truth_s: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub command: String,
    pub metric: String,
    pub index: String,
    pub k: usize,
    pub search_params: String,
    pub cpus: usize,
    /// 1-minute load average when the run started; other work on the machine skews every figure.
    pub load_average_at_start: Option<f64>,
    pub dataset: DatasetInfo,
    pub faiss: FaissReport,
    pub server: Option<ServerReport>,
    pub ratios: Ratios,
    /// Anything the server did wrong (errors, lost records, recall far below FAISS...).
    pub problems: Vec<String>,
}

impl Report {
    pub fn fill_ratios(&mut self) {
        let faiss_qps = self.faiss.search.qps;
        let div = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        if let Some(s) = &self.server {
            self.ratios = Ratios {
                qps_server_1_client_over_faiss: s
                    .phases
                    .first()
                    .and_then(|p| div(p.qps, faiss_qps)),
                qps_server_n_clients_over_faiss: s
                    .phases
                    .get(1)
                    .and_then(|p| div(p.qps, faiss_qps)),
                ingest_server_over_faiss: div(s.ingest.vectors_per_s, self.faiss.add_vectors_per_s),
                rss_over_raw_plus_index: div(
                    s.rss_bytes as f64,
                    (self.dataset.raw_vector_bytes + self.faiss.index_bytes) as f64,
                ),
            };
        }
    }

    pub fn write_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    /// The human-readable summary printed at the end of a run.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let d = &self.dataset;
        let _ = writeln!(
            o,
            "{} x {} ({}), {} queries, metric {}, index {} ({}), k={}, {} CPUs",
            d.n,
            d.dim,
            d.source,
            d.queries,
            self.metric,
            self.index,
            self.search_params,
            self.k,
            self.cpus
        );
        if let Some(l) = self
            .load_average_at_start
            .filter(|l| *l > 0.5 * self.cpus as f64)
        {
            let _ = writeln!(
                o,
                "NOTE: load average {l:.2} on {} CPUs at start: other work shares the machine and skews timings",
                self.cpus
            );
        }
        let _ = writeln!(
            o,
            "\n{:<18} {:>10} {:>10} {:>9} {:>9} {:>8}",
            "phase",
            format!("recall@{}", self.k),
            "QPS",
            "p50 ms",
            "p99 ms",
            "errors"
        );
        let mut row = |p: &QueryPhase| {
            let _ = writeln!(
                o,
                "{:<18} {:>10.4} {:>10.1} {:>9.3} {:>9.3} {:>8}",
                p.name, p.recall_at_k, p.qps, p.latency.p50_ms, p.latency.p99_ms, p.errors
            );
        };
        row(&self.faiss.search);
        if let Some(s) = &self.server {
            s.phases.iter().for_each(&mut row);
        }
        let f = &self.faiss;
        let r = &self.ratios;
        let ratio = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        let _ = writeln!(o);
        let cores = |c: Option<f64>| c.map_or("n/a".to_string(), |c| format!("{c:.2}"));
        let _ = writeln!(
            o,
            "ingest      faiss add {:.0} vec/s (train {:.2} s, add {:.2} s; CPU cores: faiss {}, machine {})",
            f.add_vectors_per_s,
            f.train_s,
            f.add_s,
            cores(f.add_cpu_cores),
            cores(f.add_machine_cpu_cores)
        );
        if let Some(s) = &self.server {
            let i = &s.ingest;
            let _ = writeln!(
                o,
                "            server {:.0} vec/s ({} vectors in {:.2} s, batch {}, {} in flight, {} retries; CPU cores: server {}, bench {}, machine {}); server/faiss = {}",
                i.vectors_per_s,
                i.vectors,
                i.secs,
                i.batch,
                i.concurrency,
                i.retries,
                cores(i.server_cpu_cores),
                cores(i.bench_cpu_cores),
                cores(i.machine_cpu_cores),
                ratio(r.ingest_server_over_faiss)
            );
            let _ = writeln!(
                o,
                "QPS ratio   server-1-client/faiss = {}, server-{}-clients/faiss = {} ({})",
                ratio(r.qps_server_1_client_over_faiss),
                s.phases.get(1).map_or(0, |p| p.clients),
                ratio(r.qps_server_n_clients_over_faiss),
                self.search_params
            );
            for p in &s.phases {
                let _ = writeln!(
                    o,
                    "CPU         during {}: server process {} cores, bench process {} cores, whole machine {} of {} cores",
                    p.name,
                    cores(p.server_cpu_cores),
                    cores(p.bench_cpu_cores),
                    cores(p.machine_cpu_cores),
                    self.cpus
                );
            }
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            let _ = writeln!(
                o,
                "memory      server RSS {:.1} MiB (peak {:.1}); raw vectors {:.1} MiB + FAISS index {:.1} MiB = {:.1} MiB; ratio {}",
                mib(s.rss_bytes),
                mib(s.rss_peak_bytes),
                mib(d.raw_vector_bytes),
                mib(f.index_bytes),
                mib(d.raw_vector_bytes + f.index_bytes),
                ratio(r.rss_over_raw_plus_index)
            );
            match &s.restart {
                Some(rs) => {
                    let _ = writeln!(
                        o,
                        "restart     SIGTERM->exit {:.2} s ({}), start->/readyz 200 {:.2} s, total {:.2} s{}; records after {}, recall@{} after {}",
                        rs.shutdown_s,
                        rs.exit_status,
                        rs.start_to_ready_s,
                        rs.total_s,
                        if rs.flushed_before { " (flushed before)" } else { "" },
                        rs.records_after_restart.map_or("n/a".into(), |v| v.to_string()),
                        self.k,
                        rs.recall_after_restart.map_or("n/a".into(), |v| format!("{v:.4}"))
                    );
                }
                None => {
                    let _ = writeln!(o, "restart     not measured");
                }
            }
        } else {
            let _ = writeln!(o, "server      not run");
        }
        for p in &self.problems {
            let _ = writeln!(o, "PROBLEM     {p}");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_of_uniform_latencies() {
        let mut h = latency_histogram();
        for ms in 1..=100u64 {
            record_latency(&mut h, Duration::from_millis(ms));
        }
        let s = LatencyStats::from_histogram_us(&h);
        // 3 significant figures: within 0.1 %.
        assert!((s.p50_ms - 50.0).abs() <= 0.05, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() <= 0.1, "{s:?}");
        assert!((s.mean_ms - 50.5).abs() <= 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() <= 0.1, "{s:?}");
    }

    #[test]
    fn percentiles_of_a_skewed_distribution() {
        let mut h = latency_histogram();
        for _ in 0..990 {
            record_latency(&mut h, Duration::from_micros(200));
        }
        for _ in 0..10 {
            record_latency(&mut h, Duration::from_millis(50));
        }
        let s = LatencyStats::from_histogram_us(&h);
        assert!((s.p50_ms - 0.2).abs() < 1e-3);
        assert!((s.p99_ms - 0.2).abs() < 1e-3);
        let mut h2 = latency_histogram();
        record_latency(&mut h2, Duration::from_millis(50));
        h.add(&h2).expect("merge");
        let s = LatencyStats::from_histogram_us(&h);
        assert!((s.p99_ms - 50.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn empty_histogram_and_sub_microsecond() {
        let h = latency_histogram();
        assert_eq!(LatencyStats::from_histogram_us(&h), LatencyStats::default());
        let mut h = latency_histogram();
        record_latency(&mut h, Duration::from_nanos(10));
        assert_eq!(h.max(), 1);
    }

    #[test]
    fn ratios_and_table() {
        let mut r = Report {
            k: 10,
            dataset: DatasetInfo {
                raw_vector_bytes: 100,
                ..Default::default()
            },
            faiss: FaissReport {
                add_vectors_per_s: 1000.0,
                index_bytes: 100,
                search: QueryPhase {
                    name: "faiss-inprocess".into(),
                    qps: 200.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            server: Some(ServerReport {
                ingest: IngestStats {
                    vectors_per_s: 500.0,
                    ..Default::default()
                },
                phases: vec![
                    QueryPhase {
                        name: "server-1-client".into(),
                        qps: 50.0,
                        ..Default::default()
                    },
                    QueryPhase {
                        name: "server-8-clients".into(),
                        clients: 8,
                        qps: 100.0,
                        ..Default::default()
                    },
                ],
                rss_bytes: 400,
                ..Default::default()
            }),
            ..Default::default()
        };
        r.fill_ratios();
        assert_eq!(r.ratios.qps_server_1_client_over_faiss, Some(0.25));
        assert_eq!(r.ratios.qps_server_n_clients_over_faiss, Some(0.5));
        assert_eq!(r.ratios.ingest_server_over_faiss, Some(0.5));
        assert_eq!(r.ratios.rss_over_raw_plus_index, Some(2.0));
        let t = r.table();
        assert!(t.contains("server-8-clients"), "{t}");
        assert!(t.contains("server-1-client/faiss = 0.250"), "{t}");
    }
}
