//! `ferrodesk`: the server binary and its admin commands.

use clap::{Parser, Subcommand};
use domain::{Landlord, TenantRouter};
use indicatif::{ProgressBar, ProgressStyle};
use server::{Application, Settings, telemetry};
use std::{path::PathBuf, process::ExitCode, sync::Arc};

/// mimalloc: glibc's malloc cost ~17 % of a list page's CPU (arena locks, consolidation). Its `override`
/// feature (server/Cargo.toml) sends the C libraries' `malloc` there too: SQLite's allocations were another
/// ~7 % of a list page's CPU in glibc (100k list pages/s, interleaved: 1,629-1,657 before, 1,663-1,789 after).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ferrodesk", version, about = "A self-hostable, multi-tenant help desk")]
struct Cli {
    /// A TOML settings file; environment variables (FERRODESK_*, DATABASE_URL) override it.
    #[arg(long, env = "FERRODESK_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Migrate the landlord and every workspace database to this build's schema.
    Migrate,
    /// List, create or delete workspaces.
    #[command(subcommand)]
    Workspaces(WorkspacesCommand),
    /// Suspend or resume a staff account, or end its sessions.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Re-seal every stored secret under the current master key (with the generated key file: make a new
    /// key first). Run it with the server stopped.
    RotateKey,
    /// Fill a workspace with realistic tickets (about three messages each) for demos and benchmarks.
    Seed {
        /// The workspace's address.
        #[arg(long)]
        workspace: String,
        /// How many tickets to add.
        #[arg(long, default_value_t = 1000)]
        tickets: u64,
        /// Spread them over at least this many agents (agent accounts are added when the team is smaller).
        #[arg(long, default_value_t = 8)]
        agents: usize,
    },
}

#[derive(Subcommand)]
enum WorkspacesCommand {
    /// List every workspace.
    List,
    /// Create a workspace with its own database.
    Create {
        /// The address: 3–40 lowercase letters, digits and hyphens.
        slug: String,
        /// The organization's name.
        name: String,
    },
    /// Delete a workspace, its database, its files and its key. This cannot be undone.
    Delete {
        slug: String,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Stop the account from signing in and end every session it has, at once.
    Suspend { email: String },
    /// Let a suspended account sign in again.
    Resume { email: String },
    /// End every session of the account (it can sign in again).
    EndSessions { email: String },
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

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => return serve(settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::Workspaces(command) => workspaces(&settings, command).await,
        Command::RotateKey => rotate_key(&settings).await,
        Command::Accounts(command) => accounts(&settings, command).await,
        Command::Seed {
            workspace,
            tickets,
            agents,
        } => seed(&settings, &workspace, tickets, agents).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ferrodesk: {message}");
            ExitCode::FAILURE
        }
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

async fn router(settings: &Settings) -> Result<TenantRouter, String> {
    let landlord = Landlord::open(settings.storage())
        .await
        .map_err(|e| format!("cannot open the landlord: {e}"))?;
    TenantRouter::new(Arc::new(landlord)).map_err(|e| e.to_string())
}

async fn seed(settings: &Settings, slug: &str, tickets: u64, agents: usize) -> Result<(), String> {
    let router = router(settings).await?;
    let bar = ProgressBar::new(tickets).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} tickets ({per_sec}, {eta} left)")
            .expect("a valid template"),
    );
    bar.set_message("seeding");
    let started = std::time::Instant::now();
    let report =
        server::seeding::seed_workspace(&router, slug, tickets, agents, |done, _| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!(
        "{slug}: {} tickets, {} messages, {} requesters added in {:.1} s",
        report.tickets,
        report.messages,
        report.customers,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn migrate(settings: &Settings) -> Result<(), String> {
    let router = router(settings).await?;
    let total = router.landlord().workspaces().await.map_err(|e| e.to_string())?.len();
    let bar = ProgressBar::new(total as u64)
        .with_style(ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} workspaces").expect("a valid template"));
    bar.set_message("migrating");
    let migrated = router
        .migrate_all(|done, _| bar.set_position(done as u64))
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    bar.finish_and_clear();
    println!("landlord up to date; {migrated} of {total} workspaces migrated, the others were current");
    Ok(())
}

async fn workspaces(settings: &Settings, command: WorkspacesCommand) -> Result<(), String> {
    let router = router(settings).await?;
    match command {
        WorkspacesCommand::List => {
            let all = router.landlord().workspaces().await.map_err(|e| e.to_string())?;
            println!("{:>6}  {:<40}  {:<18}  {:<8}  name", "id", "slug", "status", "schema");
            for ws in all {
                println!(
                    "{:>6}  {:<40}  {:<18}  {:<8}  {}",
                    ws.id,
                    ws.slug,
                    ws.status.as_str(),
                    ws.schema_version,
                    ws.name
                );
            }
        }
        WorkspacesCommand::Create { slug, name } => {
            let ws = router.create_workspace(&slug, &name).await.map_err(|e| e.to_string())?;
            println!("created workspace {} ({}) with id {}", ws.slug, ws.name, ws.id);
        }
        WorkspacesCommand::Delete { slug, yes } => {
            let ws = router.landlord().workspace_by_slug(&slug).await.map_err(|e| match e {
                domain::Error::NotFound => format!("there is no workspace {slug}"),
                other => other.to_string(),
            })?;
            if !yes {
                return Err(format!(
                    "deleting {slug} destroys its database, files and key for good; repeat with --yes to confirm"
                ));
            }
            router.delete_workspace(ws.id).await.map_err(|e| e.to_string())?;
            println!("deleted workspace {slug}");
        }
    }
    Ok(())
}

async fn accounts(settings: &Settings, command: AccountsCommand) -> Result<(), String> {
    use domain::auth::{accounts, sign_ins};
    let landlord = Landlord::open(settings.storage())
        .await
        .map_err(|e| format!("cannot open the landlord: {e}"))?;
    let (AccountsCommand::Suspend { email }
    | AccountsCommand::Resume { email }
    | AccountsCommand::EndSessions { email }) = &command;
    let account = accounts::by_email(&landlord, email).await.map_err(|e| match e {
        domain::Error::NotFound => format!("there is no account {email}"),
        other => other.to_string(),
    })?;
    let now = chrono::Utc::now();
    match command {
        AccountsCommand::Suspend { .. } => {
            sign_ins::disable_account(&landlord, account.id, now)
                .await
                .map_err(|e| e.to_string())?;
            tracing::warn!(
                event = "account_suspended",
                account = account.id,
                "suspended by an operator"
            );
            println!("suspended {}; its sessions have ended", account.email);
        }
        AccountsCommand::Resume { .. } => {
            sign_ins::enable_account(&landlord, account.id, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("{} can sign in again", account.email);
        }
        AccountsCommand::EndSessions { .. } => {
            let ended = sign_ins::end_all(&landlord, account.id, None)
                .await
                .map_err(|e| e.to_string())?;
            tracing::warn!(
                event = "sessions_terminated",
                account = account.id,
                ended,
                "sessions ended by an operator"
            );
            println!("ended {ended} sessions of {}", account.email);
        }
    }
    Ok(())
}

async fn rotate_key(settings: &Settings) -> Result<(), String> {
    let rotation = domain::config::rotate_master_key(&settings.storage())
        .await
        .map_err(|e| format!("rotation failed (run it again to finish): {e}"))?;
    println!(
        "master key {} is current; {} secrets re-sealed",
        rotation.key_id, rotation.resealed
    );
    Ok(())
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
