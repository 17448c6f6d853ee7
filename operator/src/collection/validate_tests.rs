use super::*;
use crate::testing::fixtures::{collection, CollectionFixture};

fn live(c: &CreateCollection) -> CollectionInfo {
    CollectionInfo {
        name: c.name.clone(),
        dimension: c.dimension,
        metric: c.metric,
        index: c.index.clone(),
        tiering: c.tiering,
        records: 0,
        segments: 0,
        bytes: Default::default(),
    }
}

#[test]
fn create_request_fills_index_defaults_and_the_cluster_tiering() {
    let req = create_request(&collection("docs", "c"), Tiering::MemoryS3).expect("valid");
    assert_eq!(req.name, "docs");
    assert_eq!(req.dimension, 4);
    assert_eq!(req.metric, akidb_client::Metric::Cosine);
    assert_eq!(req.index, WireIndex::default());
    assert_eq!(req.tiering, akidb_client::Tiering::MemoryS3);
}

#[test]
fn an_ivf_index_without_nlist_is_refused() {
    let mut c = collection("docs", "c");
    c.spec.index.type_ = IndexType::IvfFlat;
    let e = create_request(&c, Tiering::Memory).expect_err("invalid");
    assert_eq!(e.reason, "InvalidSpec");
    c.spec.index.nlist = Some(16);
    let req = create_request(&c, Tiering::Memory).expect("valid");
    assert_eq!(
        req.index,
        WireIndex::IvfFlat {
            nlist: 16,
            nprobe: 8
        }
    );
}

#[test]
fn a_name_that_is_not_a_dns_label_is_refused() {
    let mut c = collection("docs", "c");
    c.spec.collection_name = Some("Docs_1".into());
    assert_eq!(
        create_request(&c, Tiering::Memory)
            .expect_err("invalid")
            .reason,
        "InvalidSpec"
    );
}

#[test]
fn an_identical_collection_is_in_sync() {
    let want = create_request(&collection("docs", "c"), Tiering::Memory).expect("valid");
    assert_eq!(diff(&want, &live(&want)), Diff::InSync);
}

#[test]
fn a_changed_dimension_is_an_immutable_change() {
    let want =
        create_request(&collection("docs", "c").with_dimension(8), Tiering::Memory).expect("valid");
    let mut l = live(&want);
    l.dimension = 4;
    let Diff::Immutable(msg) = diff(&want, &l) else {
        panic!("expected an immutable change");
    };
    assert!(
        msg.contains("dimension is 4 in the data plane but 8"),
        "{msg}"
    );
}

#[test]
fn a_changed_metric_or_index_type_is_an_immutable_change() {
    let want = create_request(&collection("docs", "c"), Tiering::Memory).expect("valid");
    let mut l = live(&want);
    l.metric = akidb_client::Metric::L2;
    assert!(matches!(diff(&want, &l), Diff::Immutable(_)));
    let mut l = live(&want);
    l.index = WireIndex::Flat;
    assert!(matches!(diff(&want, &l), Diff::Immutable(_)));
}

#[test]
fn search_parameters_and_tiering_are_patched() {
    let mut c = collection("docs", "c");
    c.spec.index.ef_search = Some(128);
    c.spec.tiering = Some(Tiering::MemoryS3);
    let want = create_request(&c, Tiering::Memory).expect("valid");
    let mut l = live(&want);
    l.index = WireIndex::default();
    l.tiering = akidb_client::Tiering::Memory;
    let Diff::Update(u) = diff(&want, &l) else {
        panic!("expected an update");
    };
    assert_eq!(u.tiering, Some(akidb_client::Tiering::MemoryS3));
    assert!(matches!(
        u.index,
        Some(WireIndex::Hnsw { ef_search: 128, .. })
    ));
    assert_eq!((u.dimension, u.metric), (None, None));
}
