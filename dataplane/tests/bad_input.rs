//! Every kind of bad input gets its own 4xx code with a JSON error body, and changes nothing.

use akidb_client::*;
use akidb_testkit::{temp_dir, DataPlane, Options};
use serde_json::{json, Value};

struct Case {
    what: &'static str,
    method: reqwest::Method,
    path: &'static str,
    body: Body,
    status: u16,
    code: &'static str,
}

enum Body {
    Json(Value),
    Raw(&'static str, &'static str),
    Big(usize),
    None,
}

fn cases() -> Vec<Case> {
    use reqwest::Method as M;
    let v3 = json!([1.0, 2.0, 3.0]);
    let up = |records: Value| Body::Json(json!({ "records": records }));
    vec![
        Case {
            what: "wrong dimension",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!([{"id": "x", "vector": [1.0, 2.0]}])),
            status: 400,
            code: "dimension_mismatch",
        },
        Case {
            what: "infinite value",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!([{"id": "x", "vector": [1.0, 1e39, 3.0]}])),
            status: 400,
            code: "invalid_vector",
        },
        Case {
            what: "NaN literal",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: Body::Raw(
                "application/json",
                r#"{"records":[{"id":"x","vector":[NaN,1,2]}]}"#,
            ),
            status: 400,
            code: "invalid_json",
        },
        Case {
            what: "empty batch",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!([])),
            status: 400,
            code: "invalid_request",
        },
        Case {
            what: "oversized batch",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!((0..6)
                .map(|i| json!({"id": format!("n{i}"), "vector": v3}))
                .collect::<Vec<_>>())),
            status: 400,
            code: "limit_exceeded",
        },
        Case {
            what: "duplicate ids",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!([{"id": "d", "vector": v3}, {"id": "d", "vector": v3}])),
            status: 400,
            code: "duplicate_id",
        },
        Case {
            what: "id too long",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: up(json!([{"id": "x".repeat(257), "vector": v3}])),
            status: 400,
            code: "invalid_id",
        },
        Case {
            what: "unknown collection",
            method: M::POST,
            path: "/v1/collections/nope/upsert",
            body: up(json!([{"id": "x", "vector": v3}])),
            status: 404,
            code: "collection_not_found",
        },
        Case {
            what: "bad filter in query",
            method: M::POST,
            path: "/v1/collections/c/query",
            body: Body::Json(json!({"vector": v3, "k": 3, "filter": {"g": {"$regex": "x"}}})),
            status: 400,
            code: "invalid_filter",
        },
        Case {
            what: "bad filter in delete",
            method: M::POST,
            path: "/v1/collections/c/delete",
            body: Body::Json(json!({"filter": {"$or": []}})),
            status: 400,
            code: "invalid_filter",
        },
        Case {
            what: "delete with both ids and filter",
            method: M::POST,
            path: "/v1/collections/c/delete",
            body: Body::Json(json!({"ids": ["a"], "filter": {"g": 1}})),
            status: 400,
            code: "invalid_request",
        },
        Case {
            what: "delete everything by empty filter",
            method: M::POST,
            path: "/v1/collections/c/delete",
            body: Body::Json(json!({"filter": {}})),
            status: 400,
            code: "invalid_request",
        },
        Case {
            what: "malformed json",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: Body::Raw("application/json", "{\"records\": [ {"),
            status: 400,
            code: "invalid_json",
        },
        Case {
            what: "wrong content type",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: Body::Raw("text/plain", "{}"),
            status: 415,
            code: "unsupported_media_type",
        },
        Case {
            what: "unknown field",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: Body::Json(json!({"records": [], "extra": 1})),
            status: 422,
            code: "invalid_request",
        },
        Case {
            what: "body over the limit",
            method: M::POST,
            path: "/v1/collections/c/upsert",
            body: Body::Big(200_000),
            status: 413,
            code: "payload_too_large",
        },
        Case {
            what: "query k zero",
            method: M::POST,
            path: "/v1/collections/c/query",
            body: Body::Json(json!({"vector": v3, "k": 0})),
            status: 400,
            code: "limit_exceeded",
        },
        Case {
            what: "query wrong dimension",
            method: M::POST,
            path: "/v1/collections/c/query",
            body: Body::Json(json!({"vector": [1.0], "k": 1})),
            status: 400,
            code: "dimension_mismatch",
        },
        Case {
            what: "query vector and vectors",
            method: M::POST,
            path: "/v1/collections/c/query",
            body: Body::Json(json!({"vector": v3, "vectors": [v3], "k": 1})),
            status: 400,
            code: "invalid_request",
        },
        Case {
            what: "query bad ef_search",
            method: M::POST,
            path: "/v1/collections/c/query",
            body: Body::Json(json!({"vector": v3, "k": 1, "params": {"ef_search": 0}})),
            status: 400,
            code: "invalid_request",
        },
        Case {
            what: "create with bad name",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(json!({"name": "Bad_Name", "dimension": 3, "metric": "l2"})),
            status: 400,
            code: "invalid_collection",
        },
        Case {
            what: "create with dimension 0",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(json!({"name": "z", "dimension": 0, "metric": "l2"})),
            status: 400,
            code: "invalid_collection",
        },
        Case {
            what: "create with dimension 5000",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(json!({"name": "z", "dimension": 5000, "metric": "l2"})),
            status: 400,
            code: "invalid_collection",
        },
        Case {
            what: "create with unknown metric",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(json!({"name": "z", "dimension": 3, "metric": "hamming"})),
            status: 422,
            code: "invalid_request",
        },
        Case {
            what: "create with bad factory string",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(
                json!({"name": "z", "dimension": 3, "metric": "l2", "index": {"type": "factory", "description": "Bogus99"}}),
            ),
            status: 400,
            code: "invalid_index",
        },
        Case {
            what: "create with bad hnsw m",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(
                json!({"name": "z", "dimension": 3, "metric": "l2", "index": {"type": "hnsw", "m": 1}}),
            ),
            status: 400,
            code: "invalid_index",
        },
        Case {
            what: "create existing",
            method: M::POST,
            path: "/v1/collections",
            body: Body::Json(json!({"name": "c", "dimension": 3, "metric": "l2"})),
            status: 409,
            code: "collection_exists",
        },
        Case {
            what: "unknown route",
            method: M::GET,
            path: "/v1/nothing",
            body: Body::None,
            status: 404,
            code: "not_found",
        },
        Case {
            what: "wrong method",
            method: M::PUT,
            path: "/v1/collections/c",
            body: Body::None,
            status: 405,
            code: "method_not_allowed",
        },
        Case {
            what: "missing record",
            method: M::GET,
            path: "/v1/collections/c/records/nope",
            body: Body::None,
            status: 404,
            code: "record_not_found",
        },
    ]
}

async fn send(http: &reqwest::Client, base: &str, c: &Case) -> reqwest::Response {
    let req = http.request(c.method.clone(), format!("{base}{}", c.path));
    let req = match &c.body {
        Body::Json(v) => req.json(v),
        Body::Raw(ct, s) => req.header("content-type", *ct).body(*s),
        Body::Big(n) => req.header("content-type", "application/json").body(format!(
            "{{\"records\":[{{\"id\":\"big\",\"vector\":[{}]}}]}}",
            vec!["1.0"; *n / 4].join(",")
        )),
        Body::None => req,
    };
    req.send().await.expect("send")
}

#[tokio::test]
async fn bad_input_gets_a_specific_4xx_and_changes_nothing() {
    let dir = temp_dir();
    let opts = Options {
        env: vec![
            ("AKIDB_LIMITS__MAX_UPSERT_BATCH".into(), "5".into()),
            ("AKIDB_SERVER__MAX_BODY_BYTES".into(), "100000".into()),
        ],
        ..Default::default()
    };
    let dp = DataPlane::start_ready(dir.path(), &opts)
        .await
        .expect("start");
    let c = &dp.client;
    c.create_collection(&CreateCollection {
        name: "c".into(),
        dimension: 3,
        metric: Metric::L2,
        index: IndexSpec::default(),
        tiering: Tiering::Memory,
    })
    .await
    .expect("create");
    let a = Record {
        id: "a".into(),
        vector: vec![1.0, 2.0, 3.0],
        metadata: json!({"g": 1}).as_object().cloned().unwrap_or_default(),
    };
    c.upsert("c", vec![a.clone()]).await.expect("seed");
    let before = c.list_collections().await.expect("list");

    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in cases() {
        let resp = send(&http, &dp.url(), &case).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or("<no json error body>");
        let has_message = body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty());
        if status != case.status || code != case.code || !has_message {
            failures.push(format!(
                "{}: got {status} {code} ({body}), want {} {}",
                case.what, case.status, case.code
            ));
        }
        assert_eq!(
            c.get_record("c", "a").await.expect("a survives"),
            a,
            "after {}",
            case.what
        );
        assert_eq!(
            c.list_collections().await.expect("list"),
            before,
            "after {}",
            case.what
        );
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
