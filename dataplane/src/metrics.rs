//! Prometheus metrics (`akidb_*`, units in the name). Request metrics are recorded by a
//! middleware; per-collection gauges are refreshed from the engine at scrape time.

use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::engine::Engine;

pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn register<C: prometheus::core::Collector + Clone + 'static>(c: C) -> C {
    // Registration fails only on a duplicate name, which is a programming error caught by tests.
    if let Err(e) = REGISTRY.register(Box::new(c.clone())) {
        tracing::error!(error = %e, "metric registration failed");
    }
    c
}

pub static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "akidb_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

pub static HTTP_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new(
                "akidb_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 18).unwrap_or_default()),
            &["route", "method"],
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

pub static INDEX_BUILD_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    register(
        Histogram::with_opts(
            HistogramOpts::new(
                "akidb_index_build_seconds",
                "Time spent adding vectors to (and training) FAISS indexes, per write batch",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 20).unwrap_or_default()),
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

pub static QUERY_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    register(
        Histogram::with_opts(
            HistogramOpts::new(
                "akidb_query_search_seconds",
                "Time inside the engine per query request (all segments, merge, result building), \
                 without HTTP and JSON",
            )
            .buckets(prometheus::exponential_buckets(0.00002, 2.0, 20).unwrap_or_default()),
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

pub static SEGMENT_WRITE_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    register(
        Histogram::with_opts(
            HistogramOpts::new(
                "akidb_segment_write_seconds",
                "Time to encode a sealed segment as Parquet and serialize its FAISS index",
            )
            .buckets(prometheus::exponential_buckets(0.001, 2.0, 18).unwrap_or_default()),
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

static RECORDS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("akidb_collection_records", "Live records per collection"),
            &["collection"],
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

static BYTES: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("akidb_collection_bytes", "Bytes per collection and tier"),
            &["collection", "tier"],
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

static WAL_BYTES: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("akidb_wal_bytes", "WAL bytes on local disk per collection"),
            &["collection"],
        )
        .unwrap_or_else(|e| panic!("static metric definition: {e}")),
    )
});

/// Forces registration of every metric so the first scrape lists them all.
pub fn init() {
    LazyLock::force(&HTTP_REQUESTS);
    LazyLock::force(&HTTP_SECONDS);
    LazyLock::force(&INDEX_BUILD_SECONDS);
    LazyLock::force(&QUERY_SECONDS);
    LazyLock::force(&SEGMENT_WRITE_SECONDS);
    LazyLock::force(&RECORDS);
    LazyLock::force(&BYTES);
    LazyLock::force(&WAL_BYTES);
}

/// The text exposition, with collection gauges refreshed from `engine`.
pub fn render(engine: &Engine) -> String {
    init();
    RECORDS.reset();
    BYTES.reset();
    WAL_BYTES.reset();
    for c in engine.all() {
        let i = c.info();
        RECORDS.with_label_values(&[&i.name]).set(i.records as i64);
        BYTES
            .with_label_values(&[&i.name, "memory"])
            .set(i.bytes.memory as i64);
        BYTES
            .with_label_values(&[&i.name, "disk"])
            .set(i.bytes.disk as i64);
        BYTES
            .with_label_values(&[&i.name, "object_store"])
            .set(i.bytes.object_store as i64);
        WAL_BYTES
            .with_label_values(&[&i.name])
            .set(i.bytes.disk as i64);
    }
    let mut buf = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&REGISTRY.gather(), &mut buf) {
        tracing::error!(error = %e, "metrics encoding failed");
    }
    String::from_utf8_lossy(&buf).into_owned()
}
