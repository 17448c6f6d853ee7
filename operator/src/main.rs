//! `akidb-operator`: wires the controllers, leader election, the HTTP endpoints and shutdown.
//! Settings come from the environment (the Helm chart sets them):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AKIDB_OPERATOR_HTTP_ADDR` | `0.0.0.0:8080` | `/metrics`, `/healthz`, `/readyz` |
//! | `AKIDB_OPERATOR_WATCH_NAMESPACE` | (all) | watch one namespace only |
//! | `AKIDB_OPERATOR_LEADER_ELECTION` | `true` | hold a Lease before reconciling |
//! | `AKIDB_OPERATOR_LEASE_NAME` | `akidb-operator` | name of that Lease |
//! | `POD_NAMESPACE` / `POD_NAME` | `default` / hostname | where the Lease lives / who holds it |
//! | `AKIDB_OPERATOR_CLUSTER_DOMAIN` | `cluster.local` | DNS suffix of client Services |
//! | `AKIDB_OPERATOR_DATAPLANE_URL` | (unset) | fixed data-plane URL (outside a cluster) |

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use akidb_operator::context::{Context, DataPlaneResolver};
use akidb_operator::http::{router, Health};
use akidb_operator::leader::LeaseLock;
use akidb_operator::metrics::Metrics;
use akidb_operator::{cluster, collection, telemetry};
use anyhow::Context as _;
use kube::Api;
use tokio::sync::watch;

const LEASE_DURATION: Duration = Duration::from_secs(15);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    // kube and reqwest may both enable a rustls backend; pick one explicitly so TLS never panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr: SocketAddr = env("AKIDB_OPERATOR_HTTP_ADDR")
        .unwrap_or_else(|| "0.0.0.0:8080".into())
        .parse()
        .context("AKIDB_OPERATOR_HTTP_ADDR")?;
    let namespace = env("AKIDB_OPERATOR_WATCH_NAMESPACE");
    let leader_election = env("AKIDB_OPERATOR_LEADER_ELECTION").is_none_or(|v| v != "false");
    let resolver = match env("AKIDB_OPERATOR_DATAPLANE_URL") {
        Some(url) => DataPlaneResolver::Fixed(url),
        None => DataPlaneResolver::ClusterDns {
            domain: env("AKIDB_OPERATOR_CLUSTER_DOMAIN").unwrap_or_else(|| "cluster.local".into()),
        },
    };

    let metrics = Metrics::new()?;
    let health = Health::new(metrics.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .context("binding the HTTP address")?;
    let app = router(health.clone());
    let server_stop = stopped();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(server_stop)
            .await
    });
    tokio::spawn(signal_shutdown(stop_tx.clone()));

    let client = kube::Client::try_default()
        .await
        .context("connecting to the Kubernetes API")?;
    tracing::info!(%addr, namespace = namespace.as_deref().unwrap_or("*"), leader_election, "akidb-operator starting");
    health.set_ready(true);

    let lock = if leader_election {
        let lease_ns = env("POD_NAMESPACE").unwrap_or_else(|| "default".into());
        let identity = env("POD_NAME")
            .or_else(|| env("HOSTNAME"))
            .unwrap_or_else(|| "akidb-operator".into());
        let lock = LeaseLock::new(
            Api::namespaced(client.clone(), &lease_ns),
            &env("AKIDB_OPERATOR_LEASE_NAME").unwrap_or_else(|| "akidb-operator".into()),
            &identity,
            LEASE_DURATION,
        );
        if !acquire(&lock, stopped()).await {
            let _ = stop_tx.send(true);
            server.await??;
            return Ok(());
        }
        tracing::info!(identity = lock.identity(), "became leader");
        Some(Arc::new(lock))
    } else {
        None
    };

    let ctx = Context::new(client, metrics, resolver);
    let mut lost = false;
    {
        let clusters = cluster::run(ctx.clone(), namespace.clone(), stopped());
        let collections = collection::run(ctx.clone(), namespace, stopped());
        let controllers = async { tokio::join!(clusters, collections) };
        let renew = async {
            match &lock {
                Some(l) => keep_lease(l).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = controllers => {}
            () = renew => {
                tracing::error!("lost the leader lease; stopping so a fresh process can compete again");
                lost = true;
                let _ = stop_tx.send(true);
            }
        }
    }
    if let Some(l) = &lock {
        if !lost {
            if let Err(e) = l.release().await {
                tracing::warn!(error = %e, "could not release the lease");
            }
        }
    }
    let _ = stop_tx.send(true);
    server.await??;
    tracing::info!("akidb-operator stopped");
    if lost {
        std::process::exit(1);
    }
    Ok(())
}

/// Waits for the lease; false when shutdown came first.
async fn acquire(lock: &LeaseLock, stopped: impl std::future::Future<Output = ()>) -> bool {
    tokio::pin!(stopped);
    loop {
        match lock.try_acquire_or_renew().await {
            Ok(true) => return true,
            Ok(false) => tracing::debug!("lease held by another instance; standing by"),
            Err(e) => tracing::warn!(error = %e, "lease check failed"),
        }
        tokio::select! {
            () = &mut stopped => return false,
            () = tokio::time::sleep(lock.renew_interval()) => {}
        }
    }
}

/// Renews the lease until it is lost (taken over, or not renewed within its duration).
async fn keep_lease(lock: &LeaseLock) {
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(lock.renew_interval()).await;
        match lock.try_acquire_or_renew().await {
            Ok(true) => last_ok = Instant::now(),
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "lease renewal failed");
                if last_ok.elapsed() >= lock.duration() {
                    return;
                }
            }
        }
    }
}

/// Flips `stop` on SIGTERM or Ctrl-C.
async fn signal_shutdown(stop: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "no SIGTERM handler");
                    let _ = ctrl_c.await;
                    let _ = stop.send(true);
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
    let _ = stop.send(true);
}
