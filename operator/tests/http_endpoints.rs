//! The operator's own `/metrics`, `/healthz` and `/readyz`, served on a loopback port.

use akidb_client::AkiClient;
use akidb_operator::http::{router, Health};
use akidb_operator::metrics::Metrics;

#[tokio::test]
async fn probes_and_metrics_answer_with_per_controller_series() {
    let metrics = Metrics::new().expect("metrics");
    let health = Health::new(metrics.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = router(health.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = AkiClient::new(&url).expect("client");

    assert!(client.healthy().await.expect("healthz"));
    assert!(
        !client.ready().await.expect("readyz"),
        "not ready before the controllers start"
    );
    health.set_ready(true);
    assert!(client.ready().await.expect("readyz"));

    drop(metrics.reconcile_started("akicluster"));
    metrics.reconcile_failed(
        "akicollection",
        &akidb_operator::Error::MissingMetadata("metadata.name"),
    );
    let text = client.metrics_text().await.expect("metrics");
    assert!(
        text.contains(r#"akidb_operator_reconcile_total{controller="akicluster"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"akidb_operator_reconcile_duration_seconds_count{controller="akicluster"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"akidb_operator_reconcile_errors_total{controller="akicollection",error="missing_metadata"} 1"#), "{text}");
    server.abort();
}
