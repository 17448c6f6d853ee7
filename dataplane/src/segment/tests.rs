use super::*;
use serde_json::json;

fn meta(v: serde_json::Value) -> Metadata {
    v.as_object().cloned().unwrap_or_default()
}

fn seg_with(n: usize, spec: &IndexSpec) -> Segment {
    let mut s = Segment::new(1, spec, Metric::L2, 4).expect("segment");
    for i in 0..n {
        let v = [i as f32, 0.0, 0.0, 0.0];
        s.push(
            format!("r{i}"),
            i as u64 + 1,
            &v,
            meta(json!({"even": i % 2 == 0, "i": i})),
        );
    }
    s
}

fn ids(s: &Segment, c: &[Candidate]) -> Vec<String> {
    c.iter().map(|(_, r)| s.ids[*r].clone()).collect()
}

#[test]
fn search_covers_rows_the_index_has_not_caught_up_with() {
    let mut s = seg_with(100, &IndexSpec::Flat);
    s.index.catch_up(0, &s.vectors[..50 * 4]).expect("add");
    s.push("late".into(), 999, &[60.3, 0.0, 0.0, 0.0], Metadata::new());
    let r = s
        .search(&[60.1, 0.0, 0.0, 0.0], 3, None, &SearchParams::default())
        .expect("search");
    assert_eq!(ids(&s, &r[0]), vec!["r60", "late", "r61"]);
}

#[test]
fn killed_rows_never_come_back() {
    let mut s = seg_with(20, &IndexSpec::Flat);
    s.index.catch_up(0, &s.vectors).expect("add");
    assert!(s.kill(5));
    assert!(!s.kill(5), "a dead row cannot die twice");
    let r = s
        .search(&[5.0, 0.0, 0.0, 0.0], 2, None, &SearchParams::default())
        .expect("search");
    assert_eq!(ids(&s, &r[0]), vec!["r4", "r6"]);
    assert_eq!(s.live_count, 19);
}

#[test]
fn filtered_search_returns_only_matching_rows_on_hnsw() {
    let s = seg_with(3000, &IndexSpec::default());
    s.index.catch_up(0, &s.vectors).expect("add");
    let f = Filter::parse(&json!({"even": true})).expect("filter");
    let r = s
        .search(
            &[101.0, 0.0, 0.0, 0.0],
            4,
            Some(&f),
            &SearchParams::default(),
        )
        .expect("search");
    let got = ids(&s, &r[0]);
    assert_eq!(got.len(), 4);
    assert!(
        got.iter().all(|id| id[1..]
            .parse::<usize>()
            .map(|i| i % 2 == 0)
            .unwrap_or(false)),
        "{got:?}"
    );
    let sel = Filter::parse(&json!({"i": {"$in": [7, 2999]}})).expect("filter");
    let r = s
        .search(&[0.0; 4], 10, Some(&sel), &SearchParams::default())
        .expect("search");
    assert_eq!(
        ids(&s, &r[0]),
        vec!["r7", "r2999"],
        "a selective filter still finds every match"
    );
}

#[test]
fn parquet_roundtrip_keeps_rows_order_and_tombstones() {
    let mut s = seg_with(10, &IndexSpec::Flat);
    s.tombstones.push(("gone".into(), 77));
    let bytes = parquet::encode(&s).expect("encode");
    let back = parquet::decode(bytes.into(), 4).expect("decode");
    assert_eq!(back.ids, s.ids);
    assert_eq!(back.lsns, s.lsns);
    assert_eq!(back.vectors, s.vectors);
    assert_eq!(back.metadata, s.metadata);
    assert_eq!(back.tombstones, vec![("gone".to_string(), 77)]);
}

#[test]
fn decoding_with_the_wrong_dimension_is_an_error() {
    let s = seg_with(3, &IndexSpec::Flat);
    let bytes = parquet::encode(&s).expect("encode");
    assert!(parquet::decode(bytes.into(), 8).is_err());
    assert!(parquet::decode(bytes::Bytes::from_static(b"not parquet"), 4).is_err());
}
