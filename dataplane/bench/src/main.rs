//! `akidb-bench`: one run measures FAISS used directly in this process and the `akidb-dataplane`
//! server over HTTP on the same data and index parameters, against exact ground truth. See
//! `docs/benchmarks.md`.

mod dataset;
mod faiss_ref;
mod http_run;
mod report;
mod server;
mod truth;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use akidb_client::{AkiClient, CreateCollection, Metric, Tiering};
use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use faiss::MetricType;
use indicatif::{ProgressBar, ProgressStyle};

use dataset::{Dataset, GenParams};
use faiss_ref::{IndexChoice, PhaseLength};
use http_run::QueryCtx;
use report::{DatasetInfo, Report, RestartStats, ServerReport};
use server::ServerProcess;
use truth::Similarity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MetricArg {
    L2,
    Ip,
    Cosine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IndexArg {
    Hnsw,
    Flat,
    #[value(name = "ivf_flat", alias = "ivf-flat")]
    IvfFlat,
    #[value(name = "ivf_pq", alias = "ivf-pq")]
    IvfPq,
}

/// Benchmark of the AkiDB data plane over HTTP beside FAISS used directly, in one run.
#[derive(Debug, Clone, Parser)]
#[command(name = "akidb-bench", version)]
struct Args {
    /// Base vectors to generate [default: 200000], or to take from --data [default: all rows].
    #[arg(long)]
    n: Option<usize>,
    /// Dimension of generated vectors (a --data file brings its own).
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Query vectors.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Clusters of the generated data.
    #[arg(long, default_value_t = 100)]
    clusters: usize,
    /// Per-coordinate standard deviation of the generated clusters (centres are uniform in [-1,1)).
    #[arg(long, default_value_t = 0.25)]
    cluster_std: f32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, value_enum, default_value = "l2")]
    metric: MetricArg,
    #[arg(long, value_enum, default_value = "hnsw")]
    index: IndexArg,
    /// HNSW neighbours per node.
    #[arg(long, default_value_t = 32)]
    m: u32,
    #[arg(long, default_value_t = 200)]
    ef_construction: u32,
    #[arg(long, default_value_t = 64)]
    ef_search: u32,
    /// IVF lists [default: 4·sqrt(n)].
    #[arg(long)]
    nlist: Option<u32>,
    #[arg(long, default_value_t = 16)]
    nprobe: u32,
    /// PQ sub-quantisers for ivf_pq [default: dim/8].
    #[arg(long)]
    pq_m: Option<u32>,
    #[arg(long, default_value_t = 8)]
    pq_nbits: u32,
    /// Concurrent HTTP clients of the second server query phase.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Records per upsert request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Upsert requests in flight during ingest.
    #[arg(long, default_value_t = 4)]
    ingest_concurrency: usize,
    /// Length of each query phase; every query is sent at least once.
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Instead of --duration-secs, send this many queries per phase (at least --queries).
    #[arg(long)]
    query_count: Option<u64>,
    /// Unmeasured queries before each measured series.
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    /// Base vectors from a .fvecs or .npy file instead of generating them.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Query vectors from a .fvecs or .npy file [default with --data: the last --queries rows of
    /// --data, held out of the base set].
    #[arg(long)]
    queries_file: Option<PathBuf>,
    /// The server binary [default: akidb-dataplane next to this executable].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results.json")]
    json: PathBuf,
    /// Keep the server's temporary data directory (and its log) instead of deleting it.
    #[arg(long)]
    keep_data_dir: bool,
    /// Only the FAISS in-process reference; no server.
    #[arg(long)]
    skip_server: bool,
    /// Do not measure restart-to-ready.
    #[arg(long)]
    skip_restart: bool,
    /// Call POST /admin/flush before the restart (by default the server is stopped as it is).
    #[arg(long)]
    flush_before_restart: bool,
    /// Give up waiting for /readyz after this long.
    #[arg(long, default_value_t = 600)]
    ready_timeout_secs: u64,
    /// Tiny configuration that runs in seconds (n=2000, dim 16, 50 queries, one pass per phase).
    #[arg(long)]
    smoke: bool,
}

impl Args {
    fn apply_smoke(&mut self) {
        if self.smoke {
            self.n = Some(2000);
            self.dim = 16;
            self.queries = 50;
            self.clusters = 10;
            self.duration_secs = 0.0;
            self.query_count = None;
            self.warmup = 10;
            self.batch = 500;
            self.clients = self.clients.min(4);
            self.ready_timeout_secs = self.ready_timeout_secs.min(60);
        }
    }

    fn index_choice(&self, n: usize, dim: usize) -> Result<IndexChoice> {
        let nlist = self
            .nlist
            .unwrap_or(((4.0 * (n as f64).sqrt()).round() as u32).max(1));
        Ok(match self.index {
            IndexArg::Flat => IndexChoice::Flat,
            IndexArg::Hnsw => IndexChoice::Hnsw {
                m: self.m,
                ef_construction: self.ef_construction,
                ef_search: self.ef_search,
            },
            IndexArg::IvfFlat => IndexChoice::IvfFlat {
                nlist,
                nprobe: self.nprobe,
            },
            IndexArg::IvfPq => {
                let m = self.pq_m.unwrap_or((dim / 8).max(1) as u32);
                ensure!(
                    dim % m as usize == 0,
                    "--pq-m {m} must divide the dimension {dim}"
                );
                IndexChoice::IvfPq {
                    nlist,
                    m,
                    nbits: self.pq_nbits,
                    nprobe: self.nprobe,
                }
            }
        })
    }

    fn phase_length(&self) -> PhaseLength {
        PhaseLength {
            duration: Duration::from_secs_f64(self.duration_secs.max(0.0)),
            count: self.query_count,
        }
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn bar(len: u64, msg: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{msg:<16} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len)
        .with_style(style)
        .with_message(msg.to_string())
}

/// A counter without a known end, for query phases.
pub fn spinner(msg: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} {msg:<18} [{elapsed_precise}] {pos} queries ({per_sec})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let pb = ProgressBar::new_spinner()
        .with_style(style)
        .with_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    args.apply_smoke();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(report) if report.problems.is_empty() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<Report> {
    let server_bin = if args.skip_server {
        None
    } else {
        let bin = match &args.server_bin {
            Some(p) => p.clone(),
            None => std::env::current_exe()?
                .parent()
                .context("executable has no directory")?
                .join("akidb-dataplane"),
        };
        ensure!(
            bin.is_file(),
            "server binary {} not found (use --server-bin or --skip-server)",
            bin.display()
        );
        Some(bin)
    };

    let load_average_at_start = server::load_average();
    let t = Instant::now();
    eprintln!("dataset: preparing");
    let ds = load_dataset(&args)?;
    let generate_s = t.elapsed().as_secs_f64();
    ensure!(ds.n() > 0 && ds.nq() > 0, "empty dataset or no queries");
    let k = args.k.max(1);
    let choice = args.index_choice(ds.n(), ds.dim)?;
    eprintln!(
        "dataset: {} x {} and {} queries in {generate_s:.2} s ({})",
        ds.n(),
        ds.dim,
        ds.nq(),
        ds.source
    );

    // FAISS and the ground truth see cosine as inner product over normalised vectors; the server
    // gets the raw vectors and normalises them itself.
    let normalized;
    let reference: &Dataset = if args.metric == MetricArg::Cosine {
        let mut d = ds.clone();
        dataset::normalize_rows(&mut d.base, d.dim);
        dataset::normalize_rows(&mut d.queries, d.dim);
        normalized = d;
        &normalized
    } else {
        &ds
    };
    let (sim, faiss_metric) = match args.metric {
        MetricArg::L2 => (Similarity::L2, MetricType::L2),
        MetricArg::Ip | MetricArg::Cosine => (Similarity::Ip, MetricType::InnerProduct),
    };

    let t = Instant::now();
    let pb = bar(reference.nq() as u64, "ground truth");
    let gt = truth::ground_truth(
        &reference.base,
        &reference.queries,
        reference.dim,
        k,
        sim,
        &pb,
    );
    pb.finish_and_clear();
    let ground_truth_s = t.elapsed().as_secs_f64();
    eprintln!("ground truth: exact top-{k} in {ground_truth_s:.2} s");

    let faiss = faiss_ref::run(
        reference,
        faiss_metric,
        &choice,
        k,
        &gt,
        args.phase_length(),
        args.warmup,
    )?;
    eprintln!(
        "faiss: add {:.0} vec/s, {:.1} QPS, recall@{k} {:.4}",
        faiss.add_vectors_per_s, faiss.search.qps, faiss.search.recall_at_k
    );

    let mut report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        metric: format!("{:?}", args.metric).to_lowercase(),
        index: faiss.factory.clone(),
        k,
        search_params: choice.describe_search(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        load_average_at_start,
        dataset: DatasetInfo {
            source: ds.source.clone(),
            n: ds.n(),
            queries: ds.nq(),
            dim: ds.dim,
            raw_vector_bytes: ds.base_bytes(),
            generate_s,
            ground_truth_s,
        },
        faiss,
        ..Default::default()
    };

    if let Some(bin) = server_bin {
        let mut sr = ServerReport {
            binary: bin.display().to_string(),
            ..Default::default()
        };
        let mut problems = Vec::new();
        let ctx = Ctx {
            args: &args,
            bin: &bin,
            ds: Arc::new(ds),
            truth: Arc::new(gt),
            choice: &choice,
            k,
        };
        if let Err(e) = run_server(&ctx, &mut sr, &mut problems).await {
            problems.push(format!("server benchmark aborted: {e:#}"));
        }
        let faiss_recall = report.faiss.search.recall_at_k;
        for p in &sr.phases {
            if p.queries > 0 && p.recall_at_k < faiss_recall - 0.05 {
                problems.push(format!(
                    "{}: recall@{k} {:.4} is far below FAISS's {:.4} with the same parameters",
                    p.name, p.recall_at_k, faiss_recall
                ));
            }
        }
        report.server = Some(sr);
        report.problems = problems;
    }
    report.fill_ratios();
    print!("{}", report.table());
    report.write_json(&args.json)?;
    eprintln!("wrote {}", args.json.display());
    Ok(report)
}

fn load_dataset(args: &Args) -> Result<Dataset> {
    let Some(path) = &args.data else {
        return dataset::generate(&GenParams {
            n: args.n.unwrap_or(200_000),
            nq: args.queries,
            dim: args.dim,
            clusters: args.clusters,
            cluster_std: args.cluster_std,
            seed: args.seed,
        });
    };
    let (dim, mut base) = dataset::read_vectors(path)?;
    let queries = match &args.queries_file {
        Some(qp) => {
            let (qdim, mut q) = dataset::read_vectors(qp)?;
            ensure!(qdim == dim, "queries have dimension {qdim}, data {dim}");
            q.truncate(args.queries * dim);
            q
        }
        None => {
            let rows = base.len() / dim;
            ensure!(
                rows > args.queries,
                "{} has {rows} rows, not more than --queries",
                path.display()
            );
            base.split_off((rows - args.queries) * dim)
        }
    };
    if let Some(n) = args.n {
        base.truncate(n * dim);
    }
    if base.iter().chain(&queries).any(|x| !x.is_finite()) {
        bail!("{} contains non-finite values", path.display());
    }
    Ok(Dataset {
        dim,
        base,
        queries,
        source: format!("file {}", path.display()),
    })
}

struct Ctx<'a> {
    args: &'a Args,
    bin: &'a Path,
    ds: Arc<Dataset>,
    truth: Arc<Vec<Vec<u32>>>,
    choice: &'a IndexChoice,
    k: usize,
}

/// Summarises a list of anomalies into at most one problem line.
fn note(problems: &mut Vec<String>, what: &str, anomalies: &[String]) {
    if let Some(first) = anomalies.first() {
        problems.push(format!(
            "{what}: {} anomalies, first: {first}",
            anomalies.len()
        ));
    }
}

async fn run_server(c: &Ctx<'_>, sr: &mut ServerReport, problems: &mut Vec<String>) -> Result<()> {
    let args = c.args;
    let mut tmp = tempfile::Builder::new().prefix("akidb-bench-").tempdir()?;
    if args.keep_data_dir {
        tmp.disable_cleanup(true);
    }
    let data_dir = tmp.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let log_path = tmp.path().join("server.log");
    sr.data_dir = data_dir.display().to_string();
    let ready_timeout = Duration::from_secs(c.args.ready_timeout_secs);

    eprintln!(
        "server: starting {} (log {})",
        c.bin.display(),
        log_path.display()
    );
    let mut proc = ServerProcess::spawn(c.bin, &data_dir, &log_path)?;
    let client = AkiClient::new(&proc.base_url())?;
    sr.startup_to_ready_s = proc.wait_ready(&client, ready_timeout).await?.as_secs_f64();

    let metric = match args.metric {
        MetricArg::L2 => Metric::L2,
        MetricArg::Ip => Metric::Ip,
        MetricArg::Cosine => Metric::Cosine,
    };
    client
        .create_collection(&CreateCollection {
            name: http_run::COLLECTION.into(),
            dimension: c.ds.dim as u32,
            metric,
            index: c.choice.spec(),
            tiering: Tiering::Memory,
        })
        .await
        .context("creating the collection")?;

    let n = c.ds.n() as u64;
    let (mut ingest, anomalies) = http_run::ingest(
        &client,
        c.ds.clone(),
        args.batch,
        args.ingest_concurrency,
        proc.pid(),
    )
    .await?;
    note(problems, "ingest", &anomalies);
    let (records, waited) = http_run::wait_records(&client, n, Duration::from_secs(120)).await?;
    ingest.visible_after_s = Some(waited.as_secs_f64());
    sr.records_after_ingest = Some(records);
    if records != n {
        problems.push(format!(
            "after ingest the collection reports {records} records, expected {n}"
        ));
    }
    eprintln!(
        "server: ingest {:.0} vec/s ({} retries), {records} records visible",
        ingest.vectors_per_s, ingest.retries
    );
    sr.ingest = ingest;

    let ctx = QueryCtx {
        client: client.clone(),
        ds: c.ds.clone(),
        truth: c.truth.clone(),
        k: c.k,
        metric,
        params: c.choice.search_params(),
    };
    http_run::warm_up(&ctx, args.warmup).await?;
    let len = args.phase_length();
    let n_name = format!("server-{}-clients", args.clients);
    for (name, clients) in [("server-1-client", 1), (n_name.as_str(), args.clients)] {
        let (phase, anomalies) =
            http_run::query_phase(&ctx, name, clients, len, proc.pid()).await?;
        eprintln!(
            "{name}: {:.1} QPS, recall@{} {:.4}, p50 {:.3} ms, p99 {:.3} ms, server CPU {:.2} cores",
            phase.qps,
            c.k,
            phase.recall_at_k,
            phase.latency.p50_ms,
            phase.latency.p99_ms,
            phase.server_cpu_cores.unwrap_or(f64::NAN)
        );
        if phase.errors > 0 {
            problems.push(format!(
                "{name}: {} of {} queries failed, first: {}",
                phase.errors,
                phase.errors + phase.queries,
                phase.first_error.as_deref().unwrap_or("?")
            ));
        }
        note(problems, name, &anomalies);
        sr.phases.push(phase);
    }

    (sr.rss_bytes, sr.rss_peak_bytes) = server::rss_bytes(proc.pid())?;
    let info = client.get_collection(http_run::COLLECTION).await?;
    sr.collection_bytes = serde_json::to_value(&info.bytes)?;

    if !args.skip_restart {
        let mut rs = RestartStats::default();
        if args.flush_before_restart {
            client.flush().await.context("POST /admin/flush")?;
            rs.flushed_before = true;
        }
        eprintln!("server: SIGTERM and restart on the same data dir");
        let (shutdown, clean, status) = proc.terminate(Duration::from_secs(120)).await?;
        rs.shutdown_s = shutdown.as_secs_f64();
        rs.exit_status = status.clone();
        if !clean {
            problems.push(format!("server exit after SIGTERM: {status}"));
        }
        let spawned = Instant::now();
        proc = ServerProcess::spawn(c.bin, &data_dir, &log_path)?;
        let client = AkiClient::new(&proc.base_url())?;
        let ready = proc.wait_ready(&client, ready_timeout).await?;
        rs.start_to_ready_s = ready.as_secs_f64();
        rs.total_s = rs.shutdown_s + spawned.elapsed().as_secs_f64();
        eprintln!("server: ready {:.2} s after restart", rs.start_to_ready_s);
        let records = client.get_collection(http_run::COLLECTION).await?.records;
        rs.records_after_restart = Some(records);
        if records != n {
            problems.push(format!(
                "after restart the collection reports {records} records, expected {n}"
            ));
        }
        let ctx = QueryCtx { client, ..ctx };
        let one_pass = PhaseLength {
            duration: Duration::ZERO,
            count: None,
        };
        let (phase, anomalies) =
            http_run::query_phase(&ctx, "after-restart", args.clients, one_pass, proc.pid())
                .await?;
        rs.recall_after_restart = Some(phase.recall_at_k);
        if phase.errors > 0 {
            problems.push(format!(
                "after restart {} queries failed, first: {}",
                phase.errors,
                phase.first_error.as_deref().unwrap_or("?")
            ));
        }
        note(problems, "after restart", &anomalies);
        let before = sr.phases.first().map_or(0.0, |p| p.recall_at_k);
        if (phase.recall_at_k - before).abs() > 0.02 {
            problems.push(format!(
                "recall@{} changed across the restart: {before:.4} -> {:.4}",
                c.k, phase.recall_at_k
            ));
        }
        rs.rss_after_restart_bytes = server::rss_bytes(proc.pid()).ok().map(|r| r.0);
        sr.restart = Some(rs);
    }
    let (_, clean, status) = proc.terminate(Duration::from_secs(60)).await?;
    if args.keep_data_dir {
        eprintln!("server: kept {}", tmp.path().display());
    }
    if !clean {
        problems.push(format!("server exit after SIGTERM: {status}"));
    }
    Ok(())
}
