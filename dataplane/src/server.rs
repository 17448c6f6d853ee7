//! Running the server: bind, serve, load collections in the background, stop gracefully.

use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::api;
use crate::config::Config;
use crate::engine::{self, Engine};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open storage: {0}")]
    Storage(#[from] crate::error::DbError),
    #[error("server i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until SIGTERM/SIGINT, then finishes in-flight requests, seals segments and syncs WALs.
pub async fn run(cfg: Config) -> Result<(), ServeError> {
    crate::metrics::init();
    std::fs::create_dir_all(&cfg.storage.data_dir)?;
    let store = engine::object_store(&cfg)?;
    let engine = Engine::new(&cfg, store);
    let listener = TcpListener::bind(cfg.server.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: cfg.server.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %cfg.storage.data_dir.display(), "listening");
    let (fail_tx, mut fail_rx) = tokio::sync::mpsc::channel::<crate::error::DbError>(1);
    let loader = Arc::clone(&engine);
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match loader.load().await {
            Ok(()) => tracing::info!(seconds = started.elapsed().as_secs_f64(), "ready"),
            Err(e) => {
                let _ = fail_tx.send(e).await;
            }
        }
    });
    let app = api::app(
        Arc::clone(&engine),
        cfg.server.max_body_bytes,
        Duration::from_secs(cfg.server.request_timeout_seconds),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Answers are single small writes; Nagle's algorithm would only add latency.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let server = tokio::spawn(async move { server.await });
    let load_error = tokio::select! {
        _ = shutdown_signal() => None,
        Some(e) = fail_rx.recv() => Some(e),
    };
    let _ = stop_tx.send(());
    if let Ok(Err(e)) = server.await {
        tracing::error!(error = %e, "server error");
    }
    if let Some(e) = load_error {
        return Err(ServeError::Storage(e));
    }
    tracing::info!("in-flight requests done; sealing segments and syncing WALs");
    engine.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
