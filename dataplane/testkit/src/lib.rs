//! Starts real `akidb-dataplane` processes on loopback for tests: each on a port the server picks
//! itself (`--listen 127.0.0.1:0`, read back from its "listening" log line), with its log kept in
//! the data dir, killed (SIGKILL) when dropped unless stopped gracefully (SIGTERM) first.

pub mod data;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use akidb_client::AkiClient;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Where the data-plane binary is: `$AKIDB_DATAPLANE_BIN`, else next to the running test's
/// target directory (`target/<profile>/akidb-dataplane`).
pub fn dataplane_bin() -> PathBuf {
    if let Ok(p) = std::env::var("AKIDB_DATAPLANE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test-binary>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    profile_dir.join("akidb-dataplane")
}

/// A running data-plane process.
pub struct DataPlane {
    child: Child,
    pub addr: String,
    pub data_dir: PathBuf,
    pub client: AkiClient,
    /// A data dir this server owns (see [`DataPlane::start_scratch`]); removed after the kill.
    scratch: Option<tempfile::TempDir>,
}

/// How to start one.
#[derive(Clone, Default)]
pub struct Options {
    pub env: Vec<(String, String)>,
    pub config: Option<PathBuf>,
    pub bin: Option<PathBuf>,
}

impl DataPlane {
    /// Starts a server on `data_dir` and waits until it listens (not necessarily ready).
    pub fn start(data_dir: &Path, opts: &Options) -> Result<DataPlane, String> {
        let bin = opts.bin.clone().unwrap_or_else(dataplane_bin);
        if !bin.exists() {
            return Err(format!(
                "akidb-dataplane binary not found at {} (build it, or set AKIDB_DATAPLANE_BIN)",
                bin.display()
            ));
        }
        std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .env_remove("AKIDB_SERVER__LOG_FORMAT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(c) = &opts.config {
            cmd.arg("--config").arg(c);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let addr = match read_listen_addr(stderr, &data_dir.join("server.log")) {
            Ok(a) => a,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let client = AkiClient::new(&format!("http://{addr}")).map_err(|e| e.to_string())?;
        Ok(DataPlane {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            client,
            scratch: None,
        })
    }

    /// Starts a ready server on a fresh temporary data dir that it owns.
    pub async fn start_scratch(opts: &Options) -> Result<DataPlane, String> {
        let dir = temp_dir();
        let mut dp = Self::start_ready(dir.path(), opts).await?;
        dp.scratch = Some(dir);
        Ok(dp)
    }

    /// Like [`DataPlane::start_scratch`], with `toml` as its `--config` file (the flags still
    /// choose the address and data dir).
    pub async fn start_scratch_with_config(toml: &str) -> Result<DataPlane, String> {
        let dir = temp_dir();
        let cfg = dir.path().join("akidb.toml");
        std::fs::write(&cfg, toml).map_err(|e| e.to_string())?;
        let opts = Options {
            config: Some(cfg),
            ..Options::default()
        };
        let mut dp = Self::start_ready(&dir.path().join("data"), &opts).await?;
        dp.scratch = Some(dir);
        Ok(dp)
    }

    /// Starts a server and waits for `/readyz`.
    pub async fn start_ready(data_dir: &Path, opts: &Options) -> Result<DataPlane, String> {
        let mut dp = Self::start(data_dir, opts)?;
        dp.wait_ready(Duration::from_secs(120)).await?;
        Ok(dp)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `/readyz` until 200, failing if the process exits or the deadline passes.
    pub async fn wait_ready(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(true) = self.client.ready().await {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "server exited ({status}); log: {}",
                    self.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready within {within:?}; log: {}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown path runs. The address stays known, so a test can go on talking to
    /// a dead server.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for exit; returns whether it exited successfully.
    pub fn terminate(mut self) -> Result<bool, String> {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).map_err(|e| e.to_string())?;
        let status = self.child.wait().map_err(|e| e.to_string())?;
        Ok(status.success())
    }

    /// The last part of the server's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        log.get(start..).unwrap_or("").to_string()
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads JSON log lines until the "listening" one; copies all lines to `log` in a thread.
fn read_listen_addr(stderr: std::process::ChildStderr, log: &Path) -> Result<String, String> {
    let (tx, rx) = mpsc::channel::<Result<String, String>>();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(file, "{line}");
            if !sent {
                if let Some(a) = listen_addr(&line) {
                    let _ = tx.send(Ok(a));
                    sent = true;
                }
            }
        }
        if !sent {
            let _ = tx.send(Err("server exited before listening".into()));
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r.map_err(|e| {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            format!("{e}; log: {tail}")
        }),
        Err(_) => Err("server did not report its address within 60 s".into()),
    }
}

fn listen_addr(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = v.get("fields")?;
    if fields.get("message")?.as_str()? != "listening" {
        return None;
    }
    fields.get("addr")?.as_str().map(str::to_string)
}

/// A fresh temporary directory for a server's data.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("akidb-test-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_line_is_recognised() {
        let l = r#"{"timestamp":"t","level":"INFO","fields":{"message":"listening","addr":"127.0.0.1:4321"}}"#;
        assert_eq!(listen_addr(l).as_deref(), Some("127.0.0.1:4321"));
        assert_eq!(listen_addr(r#"{"fields":{"message":"ready"}}"#), None);
        assert_eq!(listen_addr("not json"), None);
    }
}
