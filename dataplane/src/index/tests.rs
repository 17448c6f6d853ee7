use super::*;

fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn recall(spec: &IndexSpec, n: usize) -> f32 {
    let dim = 16;
    let v = data(n, dim, 7);
    let idx = VectorIndex::new(spec, Metric::L2, dim as u32).expect("index");
    idx.catch_up(0, &v).expect("add");
    assert_eq!(idx.ntotal(), n, "index must hold every row after catch_up");
    let q = data(20, dim, 9);
    let mut hits = 0;
    for qi in q.chunks_exact(dim) {
        let truth: Vec<usize> = exact::search(Metric::L2, &v, dim, qi, 10, |_| true)
            .into_iter()
            .map(|x| x.1)
            .collect();
        let (_, labels) = idx
            .search(qi, 10, None, &SearchParams::default())
            .expect("search");
        hits += labels
            .iter()
            .filter(|l| truth.contains(&(**l as usize)))
            .count();
    }
    hits as f32 / 200.0
}

#[test]
fn hnsw_and_flat_find_the_exact_neighbours() {
    assert!(recall(&IndexSpec::Flat, 2000) > 0.999);
    assert!(recall(&IndexSpec::default(), 2000) >= 0.9);
}

#[test]
fn ivf_stays_untrained_until_enough_rows_then_trains() {
    let spec = IndexSpec::IvfFlat {
        nlist: 8,
        nprobe: 8,
    };
    let dim = 16;
    let idx = VectorIndex::new(&spec, Metric::L2, dim).expect("index");
    let small = data(100, dim as usize, 1);
    idx.catch_up(0, &small).expect("add");
    assert_eq!(idx.ntotal(), 0, "100 rows are below 39*nlist");
    let big = data(400, dim as usize, 1);
    idx.catch_up(0, &big).expect("add");
    assert_eq!(idx.ntotal(), 400);
    assert!(recall(&spec, 1000) > 0.95);
}

#[test]
fn bitmap_restricts_results_to_selected_rows() {
    let dim = 8;
    let v = data(500, dim, 3);
    let idx = VectorIndex::new(&IndexSpec::Flat, Metric::L2, dim as u32).expect("index");
    idx.catch_up(0, &v).expect("add");
    let mut bits = vec![0u8; 500usize.div_ceil(8)];
    for row in (0..500).step_by(7) {
        bits[row / 8] |= 1 << (row % 8);
    }
    let (_, labels) = idx
        .search(&v[..dim], 10, Some(&bits), &SearchParams::default())
        .expect("search");
    assert!(labels.iter().all(|l| *l >= 0 && *l % 7 == 0), "{labels:?}");
}

#[test]
fn serialized_index_loads_without_rebuild_and_answers_the_same() {
    let dim = 16;
    let v = data(1000, dim, 5);
    let spec = IndexSpec::default();
    let idx = VectorIndex::new(&spec, Metric::Ip, dim as u32).expect("index");
    idx.catch_up(0, &v).expect("add");
    let bytes = idx.to_bytes().expect("write");
    let back = VectorIndex::from_bytes(&spec, dim as u32, &bytes).expect("read");
    assert_eq!(back.ntotal(), 1000);
    let p = SearchParams::default();
    let a = idx.search(&v[..dim], 5, None, &p).expect("a");
    let b = back.search(&v[..dim], 5, None, &p).expect("b");
    assert_eq!(a.1, b.1);
}

#[test]
fn invalid_specs_are_rejected() {
    let bad = IndexSpec::Factory {
        description: "NoSuchIndex42".into(),
    };
    assert!(matches!(
        validate_spec(&bad, 16),
        Err(IndexError::InvalidSpec(_))
    ));
    let pq = IndexSpec::IvfPq {
        nlist: 4,
        m: 5,
        nbits: 8,
        nprobe: 1,
    };
    assert!(validate_spec(&pq, 16).is_err(), "m must divide dim");
    assert!(validate_spec(&IndexSpec::default(), 16).is_ok());
}

#[test]
fn ivf_factory_search_with_a_selector_keeps_its_nprobe() {
    let dim = 8;
    let v = data(2500, dim, 4);
    let spec = IndexSpec::Factory {
        description: "IVF8,Flat".into(),
    };
    let idx = VectorIndex::new(&spec, Metric::L2, dim as u32).expect("index");
    idx.catch_up(0, &v).expect("add");
    assert_eq!(idx.ntotal(), 2500);
    let all = vec![0xffu8; 313];
    let p = SearchParams {
        nprobe: Some(8),
        ..Default::default()
    };
    let (_, labels) = idx
        .search(&v[..dim], 5, Some(&all), &p)
        .expect("search with selector");
    assert_eq!(labels[0], 0, "nprobe=8 of 8 lists is exact");
    let (_, labels) = idx
        .search(&v[..dim], 5, Some(&all), &SearchParams::default())
        .expect("selector without nprobe");
    assert!(labels.iter().all(|l| *l >= 0));
}
