//! The config file an AkiCluster renders is accepted by the real data plane.

use akidb_operator::config::render;
use akidb_operator::testing::fixtures::cluster;
use akidb_testkit::DataPlane;

#[tokio::test]
async fn the_rendered_config_starts_the_real_data_plane() {
    let rendered = render(&cluster("a")).expect("render");
    let dp = DataPlane::start_scratch_with_config(&rendered.toml)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(dp.client.ready().await.expect("readyz"));
}
