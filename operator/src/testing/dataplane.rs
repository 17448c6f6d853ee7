//! A real `akidb-dataplane` process on a free loopback port with a throw-away data directory,
//! ready (its `/readyz` answered 200) when [`DataPlane::start`] returns and killed on drop.
//!
//! The binary comes from `AKIDB_DATAPLANE_BIN`, else from the test executable's target directory
//! (`<exe dir>/../akidb-dataplane`, which `cargo test --workspace` builds before running tests).
//! A missing binary is an error, never a silent skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use akidb_client::AkiClient;

/// Environment variable naming the data-plane binary.
pub const BIN_ENV: &str = "AKIDB_DATAPLANE_BIN";
/// How long a start may take before it counts as failed.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a data plane could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "akidb-dataplane binary not found (looked at {0}); build it with `cargo build -p akidb-dataplane` \
         or set AKIDB_DATAPLANE_BIN to its path"
    )]
    BinaryMissing(String),
    #[error("could not start {bin}: {source}")]
    Spawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("akidb-dataplane exited before it was ready ({status}); its log:\n{log}")]
    Exited { status: String, log: String },
    #[error("akidb-dataplane was not ready within {0:?}; its log:\n{1}")]
    NotReady(Duration, String),
    #[error("client: {0}")]
    Client(#[from] akidb_client::ClientError),
}

/// A running data plane; killed when dropped.
pub struct DataPlane {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl DataPlane {
    /// Finds the binary (see the module doc).
    pub fn binary() -> Result<PathBuf, HarnessError> {
        if let Ok(p) = std::env::var(BIN_ENV) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(HarnessError::BinaryMissing(format!(
                    "{BIN_ENV}={}",
                    p.display()
                )))
            };
        }
        let exe = std::env::current_exe()?;
        let candidate = exe
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("akidb-dataplane"))
            .ok_or_else(|| HarnessError::BinaryMissing(exe.display().to_string()))?;
        if candidate.is_file() {
            Ok(candidate)
        } else {
            Err(HarnessError::BinaryMissing(candidate.display().to_string()))
        }
    }

    /// Starts the data plane and waits (bounded) until `/readyz` answers 200.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_with_env(&[]).await
    }

    /// Like [`start`](Self::start), with extra environment (e.g. `AKIDB_DLQ__MAX_SIZE`).
    pub async fn start_with_env(env: &[(&str, &str)]) -> Result<Self, HarnessError> {
        Self::spawn(env, None).await
    }

    /// Like [`start`](Self::start), with `config` as the `--config` file (the command line's
    /// `--listen` and `--data-dir` still win).
    pub async fn start_with_config(config: &str) -> Result<Self, HarnessError> {
        Self::spawn(&[], Some(config)).await
    }

    async fn spawn(env: &[(&str, &str)], config: Option<&str>) -> Result<Self, HarnessError> {
        let bin = Self::binary()?;
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let log = std::fs::File::create(dir.path().join("dataplane.log"))?;
        let data = dir.path().join("data");
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data);
        if let Some(cfg) = config {
            let path = dir.path().join("akidb.toml");
            std::fs::write(&path, cfg)?;
            cmd.arg("--config").arg(path);
        }
        let child = cmd
            // The data plane reads every AKIDB_* variable as config and refuses unknown keys.
            .env_remove(BIN_ENV)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| HarnessError::Spawn {
                bin: bin.display().to_string(),
                source,
            })?;
        let mut dp = DataPlane {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        dp.wait_ready().await?;
        Ok(dp)
    }

    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let client = AkiClient::with_timeout(&self.url, Duration::from_secs(2))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(HarnessError::Exited {
                    status: status.to_string(),
                    log: self.log(),
                });
            }
            if let Ok(true) = client.ready().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady(READY_TIMEOUT, self.log()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client for this data plane.
    pub fn client(&self) -> Result<AkiClient, HarnessError> {
        Ok(AkiClient::new(&self.url)?)
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dataplane.log")).unwrap_or_default()
    }

    /// Kills the process now (a crash, from the operator's point of view).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
