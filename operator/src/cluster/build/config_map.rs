//! The ConfigMap holding the data-plane config file.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::child_meta;
use crate::config::RenderedConfig;
use crate::crd::AkiCluster;
use crate::labels::{config_map_name, CONFIG_FILE};
use crate::Result;

pub fn build(cluster: &AkiCluster, rendered: &RenderedConfig) -> Result<ConfigMap> {
    Ok(ConfigMap {
        metadata: child_meta(cluster, config_map_name(cluster))?,
        data: Some(BTreeMap::from([(
            CONFIG_FILE.to_string(),
            rendered.toml.clone(),
        )])),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::render;
    use crate::testing::fixtures::cluster;

    #[test]
    fn config_map_holds_the_rendered_file_under_its_name() {
        let c = cluster("a");
        let rendered = render(&c).expect("render");
        let cm = build(&c, &rendered).expect("build");
        assert_eq!(cm.metadata.name.as_deref(), Some("a-config"));
        let data = cm.data.expect("data");
        assert_eq!(data.get("akidb.toml"), Some(&rendered.toml));
        assert_eq!(data.len(), 1);
    }
}
