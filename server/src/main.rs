//! `ferrodesk`: the server binary. Parses the command line, loads settings, sets up logging, runs.

use clap::{Parser, Subcommand};
use server::{Application, Settings, telemetry};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(name = "ferrodesk", version, about = "A self-hostable, multi-tenant help desk")]
struct Cli {
    /// A TOML settings file; environment variables (FERRODESK_*) override it.
    #[arg(long, env = "FERRODESK_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default).
    Serve,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ferrodesk: invalid settings: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = application.port(), "listening");
    match application.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what service managers and orchestrators send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
