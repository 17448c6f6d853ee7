//! The server side of the benchmark over HTTP: batched concurrent ingest and query phases with one
//! or many concurrent clients, through `akidb_client::AkiClient`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use akidb_client::{AkiClient, ClientError, Metric, QueryRequest, Record, SearchParams};
use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;

use crate::dataset::Dataset;
use crate::faiss_ref::PhaseLength;
use crate::report::{latency_histogram, record_latency, IngestStats, LatencyStats, QueryPhase};
use crate::server::CpuWindow;
use crate::truth::recall_at_k;

pub const COLLECTION: &str = "bench";

/// Upserts every base vector (ids `"0"`..`"n-1"`) in batches, `concurrency` requests in flight.
/// 429 and 503 answers are retried after a short pause; any other error aborts. Returns the stats
/// and any anomalies (acknowledged counts that do not match the batch).
pub async fn ingest(
    client: &AkiClient,
    ds: Arc<Dataset>,
    batch: usize,
    concurrency: usize,
    server_pid: u32,
) -> Result<(IngestStats, Vec<String>)> {
    let n = ds.n();
    let batch = batch.max(1);
    let batches = n.div_ceil(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let pb = crate::bar(n as u64, "server ingest");
    let cpu = CpuWindow::start(Some(server_pid));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, ds, next, retries, requests, pb) = (
            client.clone(),
            ds.clone(),
            next.clone(),
            retries.clone(),
            requests.clone(),
            pb.clone(),
        );
        tasks.spawn(async move {
            let mut anomalies = Vec::new();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return Ok::<_, anyhow::Error>(anomalies);
                }
                let rows = b * batch..((b + 1) * batch).min(ds.n());
                let records: Vec<Record> = rows
                    .clone()
                    .map(|i| Record {
                        id: i.to_string(),
                        vector: ds.base_row(i).to_vec(),
                        metadata: Default::default(),
                    })
                    .collect();
                let mut backoff = Duration::from_millis(20);
                loop {
                    requests.fetch_add(1, Ordering::Relaxed);
                    match client.upsert(COLLECTION, records.clone()).await {
                        Ok(r) => {
                            if r.upserted != rows.len() as u64 {
                                anomalies.push(format!(
                                    "upsert of rows {rows:?} acknowledged {} records, expected {}",
                                    r.upserted,
                                    rows.len()
                                ));
                            }
                            break;
                        }
                        Err(e) if matches!(e.status(), Some(429 | 503)) => {
                            retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                        }
                        Err(e) => {
                            return Err(e).with_context(|| format!("upsert of rows {rows:?}"))
                        }
                    }
                }
                pb.inc(rows.len() as u64);
            }
        });
    }
    let mut anomalies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        anomalies.extend(joined.context("ingest task panicked")??);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu.finish();
    pb.finish_and_clear();
    Ok((
        IngestStats {
            vectors: n as u64,
            batch,
            concurrency,
            requests: requests.load(Ordering::Relaxed),
            retries: retries.load(Ordering::Relaxed),
            secs,
            vectors_per_s: n as f64 / secs.max(1e-9),
            visible_after_s: None,
            server_cpu_cores: cpu.server,
            bench_cpu_cores: cpu.bench,
            machine_cpu_cores: cpu.machine,
        },
        anomalies,
    ))
}

/// Polls the collection until it reports `n` records or `timeout` passes; returns the last count and
/// the time waited.
pub async fn wait_records(
    client: &AkiClient,
    n: u64,
    timeout: Duration,
) -> Result<(u64, Duration)> {
    let started = Instant::now();
    loop {
        let info = client
            .get_collection(COLLECTION)
            .await
            .context("GET collection")?;
        if info.records >= n || started.elapsed() > timeout {
            return Ok((info.records, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the query phases need.
#[derive(Clone)]
pub struct QueryCtx {
    pub client: AkiClient,
    pub ds: Arc<Dataset>,
    pub truth: Arc<Vec<Vec<u32>>>,
    pub k: usize,
    pub metric: Metric,
    pub params: Option<SearchParams>,
}

struct TaskOut {
    hist: Histogram<u64>,
    found: Vec<(usize, Vec<u32>)>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    anomalies: Vec<String>,
}

/// Sends queries from `clients` concurrent tasks, each waiting for its answer before the next.
/// Returns the phase figures and anomalies in the answers.
pub async fn query_phase(
    ctx: &QueryCtx,
    name: &str,
    clients: usize,
    len: PhaseLength,
    server_pid: u32,
) -> Result<(QueryPhase, Vec<String>)> {
    let nq = ctx.ds.nq();
    if nq == 0 {
        bail!("no queries");
    }
    let next = Arc::new(AtomicU64::new(0));
    let pb = crate::spinner(name);
    let cpu = CpuWindow::start(Some(server_pid));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (ctx, next, pb) = (ctx.clone(), next.clone(), pb.clone());
        tasks.spawn(async move {
            let mut out = TaskOut {
                hist: latency_histogram(),
                found: Vec::new(),
                ok: 0,
                errors: 0,
                first_error: None,
                anomalies: Vec::new(),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if len.done(i, nq, started) {
                    return out;
                }
                let q = (i % nq as u64) as usize;
                let mut req = QueryRequest::new(ctx.ds.query_row(q).to_vec(), ctx.k as u32);
                req.params = ctx.params.clone();
                let t = Instant::now();
                let res = ctx.client.query(COLLECTION, &req).await;
                let took = t.elapsed();
                pb.inc(1);
                match res {
                    Ok(resp) => {
                        record_latency(&mut out.hist, took);
                        out.ok += 1;
                        if (i as usize) < nq {
                            if let Some(a) =
                                check_answer(&resp.results, ctx.k.min(ctx.ds.n()), ctx.metric)
                            {
                                out.anomalies.push(format!("query {q}: {a}"));
                            }
                            let ids = resp
                                .results
                                .iter()
                                .filter_map(|h| h.id.parse::<u32>().ok())
                                .collect();
                            out.found.push((q, ids));
                        }
                    }
                    Err(e) => {
                        out.errors += 1;
                        if out.first_error.is_none() {
                            out.first_error = Some(describe(&e));
                        }
                    }
                }
            }
        });
    }
    let mut hist = latency_histogram();
    let mut found: Vec<Option<Vec<u32>>> = vec![None; nq];
    let (mut ok, mut errors, mut first_error, mut anomalies) = (0, 0, None, Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let t = joined.context("query task panicked")?;
        hist.add(&t.hist).context("merging histograms")?;
        for (q, ids) in t.found {
            found[q] = Some(ids);
        }
        ok += t.ok;
        errors += t.errors;
        first_error = first_error.or(t.first_error);
        anomalies.extend(t.anomalies);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu.finish();
    pb.finish_and_clear();
    Ok((
        QueryPhase {
            name: name.to_string(),
            clients,
            queries: ok,
            errors,
            elapsed_s: elapsed,
            qps: ok as f64 / elapsed.max(1e-9),
            recall_at_k: recall_at_k(&ctx.truth, &found, ctx.k),
            latency: LatencyStats::from_histogram_us(&hist),
            server_cpu_cores: cpu.server,
            bench_cpu_cores: cpu.bench,
            machine_cpu_cores: cpu.machine,
            first_error,
        },
        anomalies,
    ))
}

/// Sends the first `count` queries once, unmeasured (page in the index, open connections).
pub async fn warm_up(ctx: &QueryCtx, count: usize) -> Result<()> {
    for q in 0..count.min(ctx.ds.nq()) {
        let mut req = QueryRequest::new(ctx.ds.query_row(q).to_vec(), ctx.k as u32);
        req.params = ctx.params.clone();
        ctx.client
            .query(COLLECTION, &req)
            .await
            .map_err(|e| anyhow::anyhow!("warm-up query {q}: {}", describe(&e)))?;
    }
    Ok(())
}

fn describe(e: &ClientError) -> String {
    e.to_string()
}

/// Checks an answer's shape: `expected` hits, distinct ids, best first for the metric.
fn check_answer(hits: &[akidb_client::Hit], expected: usize, metric: Metric) -> Option<String> {
    if hits.len() != expected {
        return Some(format!("{} hits, expected {expected}", hits.len()));
    }
    let mut ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != hits.len() {
        return Some("duplicate ids in one answer".into());
    }
    let ordered = hits.windows(2).all(|w| {
        if metric.higher_is_better() {
            w[0].score >= w[1].score
        } else {
            w[0].score <= w[1].score
        }
    });
    if !ordered {
        return Some(format!("scores not best-first for {metric:?}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use akidb_client::Hit;

    fn hit(id: &str, score: f32) -> Hit {
        Hit {
            id: id.into(),
            score,
            metadata: None,
            vector: None,
        }
    }

    #[test]
    fn answers_are_checked() {
        let good = [hit("1", 0.1), hit("2", 0.5)];
        assert_eq!(check_answer(&good, 2, Metric::L2), None);
        assert!(check_answer(&good, 2, Metric::Ip).is_some());
        assert!(check_answer(&good, 3, Metric::L2).is_some());
        assert!(check_answer(&[hit("1", 0.1), hit("1", 0.2)], 2, Metric::L2).is_some());
    }
}
