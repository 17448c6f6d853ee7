//! The config file an AkiCluster renders is accepted by the real data plane.

use akidb_operator::config::render;
use akidb_operator::testing::dataplane::DataPlane;
use akidb_operator::testing::fixtures::cluster;

#[tokio::test]
async fn the_rendered_config_starts_the_real_data_plane() {
    let rendered = render(&cluster("a")).expect("render");
    let dp = DataPlane::start_with_config(&rendered.toml)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(dp.client().expect("client").ready().await.expect("readyz"));
}
