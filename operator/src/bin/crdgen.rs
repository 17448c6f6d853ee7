//! Writes `crds/*.yaml` from the Rust types: `cargo run -p akidb-operator --bin crdgen [-- OUT_DIR]`.

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "crds".to_string());
    std::fs::create_dir_all(&dir)?;
    for (file, crd) in akidb_operator::crd::all() {
        std::fs::write(format!("{dir}/{file}"), akidb_operator::crd::to_yaml(&crd)?)?;
    }
    Ok(())
}
