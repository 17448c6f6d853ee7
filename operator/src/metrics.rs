//! Prometheus metrics of the operator, per controller: reconciles, their duration, and failures by
//! error kind. Served on `/metrics` by [`crate::http`].

use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use crate::Error;

/// The operator's metrics; cheap to clone handles into the controllers.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    reconciles: IntCounterVec,
    failures: IntCounterVec,
    duration: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let reconciles = IntCounterVec::new(
            Opts::new(
                "akidb_operator_reconcile_total",
                "Reconciles started, per controller",
            ),
            &["controller"],
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "akidb_operator_reconcile_errors_total",
                "Reconciles that failed, per controller and error kind",
            ),
            &["controller", "error"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "akidb_operator_reconcile_duration_seconds",
                "Duration of a reconcile, per controller",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["controller"],
        )?;
        // Series exist from the start, so rate() and absent() work before the first reconcile.
        for controller in ["akicluster", "akicollection"] {
            reconciles.with_label_values(&[controller]);
            duration.with_label_values(&[controller]);
        }
        registry.register(Box::new(reconciles.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Metrics {
            registry,
            reconciles,
            failures,
            duration,
        })
    }

    /// Counts a reconcile and times it until the returned guard drops.
    pub fn reconcile_started(&self, controller: &'static str) -> ReconcileTimer {
        self.reconciles.with_label_values(&[controller]).inc();
        ReconcileTimer {
            start: Instant::now(),
            histogram: self.duration.with_label_values(&[controller]),
        }
    }

    pub fn reconcile_failed(&self, controller: &'static str, e: &Error) {
        self.failures
            .with_label_values(&[controller, e.metric_label()])
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_default()
    }
}

/// Observes the reconcile duration on drop.
pub struct ReconcileTimer {
    start: Instant,
    histogram: prometheus::Histogram,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}
