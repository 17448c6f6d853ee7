//! The Helm chart: `helm lint` and a render with the default and a full values file (Helm's Go SDK
//! through the PyPI package `helm-python-sdk`), every rendered object, the chart's CRDs and every
//! sample in `config/samples/` validated against the Kubernetes and CRD schemas.
//! The Python side is `tests/chart/validate.py`; `.ci/operator-deps.sh` installs what it needs.

use std::path::Path;
use std::process::Command;

#[test]
fn chart_lints_renders_and_every_object_and_sample_validates() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chart/validate.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .arg(&script)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {python} {}: {e}; run .ci/operator-deps.sh",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") {
        panic!("Python modules missing; run .ci/operator-deps.sh\n{stderr}");
    }
    assert!(
        out.status.success(),
        "chart validation failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("0 problem(s)"), "{stdout}");
}
