//! The `akidb-dataplane` child process: spawn on a free port, wait for `/readyz`, SIGTERM with a
//! timeout, kill on drop; and RSS / CPU sampling from `/proc`.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use akidb_client::AkiClient;
use anyhow::{bail, ensure, Context, Result};
use rustix::process::{kill_process, Pid, Signal};

/// A running server; killed (SIGKILL) and reaped when dropped, so an error anywhere in the benchmark
/// never leaves it behind.
pub struct ServerProcess {
    child: Option<Child>,
    pid: u32,
    pub addr: SocketAddr,
    pub log_path: PathBuf,
}

impl ServerProcess {
    /// Starts `bin serve --listen 127.0.0.1:<free port> --data-dir <data_dir>`, appending stdout and
    /// stderr to `log_path`.
    pub fn spawn(bin: &Path, data_dir: &Path, log_path: &Path) -> Result<Self> {
        let addr = free_port()?;
        let log = File::options()
            .create(true)
            .append(true)
            .open(log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log2 = log.try_clone()?;
        let child = Command::new(bin)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(ServerProcess {
            pid: child.id(),
            child: Some(child),
            addr,
            log_path: log_path.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `/readyz` every 10 ms until it answers 200; fails if the process exits or `timeout`
    /// passes. Returns the time waited.
    pub async fn wait_ready(&mut self, client: &AkiClient, timeout: Duration) -> Result<Duration> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_wait()? {
                bail!(
                    "server exited with {status} before becoming ready; log tail:\n{}",
                    log_tail(&self.log_path, 30)
                );
            }
            if let Ok(true) = client.ready().await {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!(
                    "server not ready after {timeout:?}; log tail:\n{}",
                    log_tail(&self.log_path, 30)
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(c) => Ok(c.try_wait()?),
            None => bail!("server process already reaped"),
        }
    }

    /// Sends SIGTERM and waits for the exit; after `timeout` sends SIGKILL. Returns the time from
    /// SIGTERM to exit, whether it exited with status 0 on its own, and how it exited.
    pub async fn terminate(&mut self, timeout: Duration) -> Result<(Duration, bool, String)> {
        let child = self
            .child
            .as_mut()
            .context("server process already reaped")?;
        let started = Instant::now();
        kill_process(Pid::from_child(child), Signal::TERM).context("sending SIGTERM")?;
        loop {
            if let Some(status) = child.try_wait()? {
                let took = started.elapsed();
                self.child = None;
                return Ok((took, status.success(), status.to_string()));
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let status = child.wait()?;
                self.child = None;
                return Ok((
                    started.elapsed(),
                    false,
                    format!("did not exit within {timeout:?} of SIGTERM; killed ({status})"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?)
}

/// The last `lines` lines of a log file (best effort, for error messages).
pub fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// `VmRSS` and `VmHWM` of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Result<(u64, u64)> {
    let text =
        fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/<pid>/status")?;
    parse_status_rss(&text)
}

fn parse_status_rss(text: &str) -> Result<(u64, u64)> {
    let field = |name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc status"))?;
        let kb = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .with_context(|| format!("bad {name} line {line:?}"))?;
        Ok(kb * 1024)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Where a CPU sample is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuSource {
    /// A process by pid (all its threads).
    Process(u32),
    /// This process.
    Myself,
    /// The whole machine (`/proc/stat`, busy time of all CPUs).
    Machine,
}

/// CPU time (user + system, or the machine's busy time) at an instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    cpu_s: f64,
    at: Instant,
}

impl CpuSample {
    pub fn take(src: CpuSource) -> Result<Self> {
        let path = match src {
            CpuSource::Process(p) => format!("/proc/{p}/stat"),
            CpuSource::Myself => "/proc/self/stat".to_string(),
            CpuSource::Machine => "/proc/stat".to_string(),
        };
        let text = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let ticks = match src {
            CpuSource::Machine => parse_machine_busy_ticks(&text)?,
            _ => parse_stat_ticks(&text)?,
        };
        Ok(CpuSample {
            cpu_s: ticks as f64 / rustix::param::clock_ticks_per_second() as f64,
            at: Instant::now(),
        })
    }

    /// Average number of cores busy between `self` and `later`; `None` for windows under a
    /// second, where the 10 ms tick granularity of `/proc` would dominate.
    pub fn cores_until(&self, later: &CpuSample) -> Option<f64> {
        let wall = later.at.duration_since(self.at).as_secs_f64();
        (wall >= 1.0).then(|| (later.cpu_s - self.cpu_s) / wall)
    }
}

/// utime + stime (fields 14 and 15 of `/proc/<pid>/stat`), in clock ticks. The command name (field
/// 2) may contain spaces and parentheses, so fields are counted after its closing `)`.
fn parse_stat_ticks(text: &str) -> Result<u64> {
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    let get = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .context("short /proc stat")?
            .parse::<u64>()
            .context("bad /proc stat number")
    };
    Ok(get(14)? + get(15)?)
}

/// Busy ticks of all CPUs from the `cpu` line of `/proc/stat`: user + nice + system + irq +
/// softirq + steal (idle and iowait excluded; guest time is already inside user).
fn parse_machine_busy_ticks(text: &str) -> Result<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse::<u64>().context("bad /proc/stat number"))
        .collect::<Result<_>>()?;
    ensure!(v.len() >= 8, "short cpu line in /proc/stat");
    Ok(v[0] + v[1] + v[2] + v[5] + v[6] + v[7])
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU cores used over a window, by source.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub server: Option<f64>,
    pub bench: Option<f64>,
    pub machine: Option<f64>,
}

/// CPU samples of the server (if any), this process and the machine around a phase.
pub struct CpuWindow {
    pid: Option<u32>,
    server: Option<CpuSample>,
    bench: Option<CpuSample>,
    machine: Option<CpuSample>,
}

impl CpuWindow {
    pub fn start(pid: Option<u32>) -> Self {
        CpuWindow {
            pid,
            server: pid.and_then(|p| CpuSample::take(CpuSource::Process(p)).ok()),
            bench: CpuSample::take(CpuSource::Myself).ok(),
            machine: CpuSample::take(CpuSource::Machine).ok(),
        }
    }

    pub fn finish(&self) -> CpuUse {
        let over = |a: Option<CpuSample>, src: CpuSource| {
            a.and_then(|a| CpuSample::take(src).ok().and_then(|b| a.cores_until(&b)))
        };
        CpuUse {
            server: self
                .pid
                .and_then(|p| over(self.server, CpuSource::Process(p))),
            bench: over(self.bench, CpuSource::Myself),
            machine: over(self.machine, CpuSource::Machine),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_handles_odd_command_names() {
        let line =
            "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_stat_ticks(line).expect("parse"), 325);
        assert!(parse_stat_ticks("garbage").is_err());
    }

    #[test]
    fn machine_stat_parsing() {
        let text = "cpu  100 5 20 1000 7 1 2 3 50 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n";
        assert_eq!(parse_machine_busy_ticks(text).expect("parse"), 131);
        assert!(parse_machine_busy_ticks("cpu0 1 2\n").is_err());
    }

    #[test]
    fn status_parsing() {
        let s = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(
            parse_status_rss(s).expect("parse"),
            (1024 * 1024, 2048 * 1024)
        );
        assert!(parse_status_rss("Name: x\n").is_err());
    }

    #[test]
    fn own_process_can_be_sampled() {
        let a = CpuSample::take(CpuSource::Myself).expect("sample");
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = CpuSample::take(CpuSource::Myself).expect("sample");
        assert_eq!(a.cores_until(&b), None);
        let earlier = CpuSample {
            cpu_s: a.cpu_s - 1.5,
            at: a.at.checked_sub(Duration::from_secs(2)).expect("instant"),
        };
        let cores = earlier.cores_until(&b).expect("window over a second");
        assert!((0.7..2.0).contains(&cores), "{cores}");
        assert!(rss_bytes(std::process::id()).expect("rss").0 > 0);
        assert!(CpuSample::take(CpuSource::Machine).is_ok());
        assert!(load_average().is_some());
    }
}
