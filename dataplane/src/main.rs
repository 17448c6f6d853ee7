//! `akidb-dataplane`: parses flags, sets up logging, runs the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use akidb_dataplane::config::Config;

#[derive(Parser)]
#[command(name = "akidb-dataplane", version, about = "AkiDB vector data plane")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Directory for WALs and the embedded object store (default ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => cli.serve,
    };
    let mut cfg = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("akidb-dataplane: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(l) = args.listen {
        cfg.server.listen = l;
    }
    if let Some(d) = args.data_dir {
        cfg.storage.data_dir = d;
    }
    init_logging(&cfg.server.log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("akidb-dataplane: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(akidb_dataplane::server::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            eprintln!("akidb-dataplane: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "text" {
        builder.init();
    } else {
        builder.json().init();
    }
}
