//! `kubectl pxtoken`: issue Portworx tokens and keep them healthy, with your own kubeconfig.

mod checks;
mod cli;
mod commands;
mod complete;
mod hints;
mod output;
mod printers;
mod rotate_report;
mod signals;
mod token_view;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

use crate::checks::UsageError;
use crate::cli::GlobalArgs;
use crate::commands::{admin, completion, doctor, generate, inspect, list, man, rotate, rotator, storageclass, tenant};

/// Version and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PXTOKEN_GIT_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "kubectl pxtoken",
    bin_name = "kubectl pxtoken",
    version = VERSION,
    about = "Issue Portworx authorization tokens and keep them healthy",
    after_help = "Examples:\n  kubectl pxtoken tenant team-a\n  kubectl pxtoken admin --token-file admin.jwt\n  kubectl pxtoken list -A\n  kubectl pxtoken inspect -n team-a\n  kubectl pxtoken generate --auth-config tenant.yaml --issuer portworx.com --shared-secret-file secret.txt",
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// None: show the help, as kubectl does for a bare command group.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(about = tenant::ABOUT, after_help = tenant::EXAMPLES)]
    Tenant(tenant::TenantArgs),
    #[command(about = admin::ABOUT, after_help = admin::EXAMPLES)]
    Admin(admin::AdminArgs),
    #[command(about = generate::ABOUT, after_help = generate::EXAMPLES)]
    Generate(generate::GenerateArgs),
    #[command(about = inspect::ABOUT, after_help = inspect::EXAMPLES)]
    Inspect(inspect::InspectArgs),
    #[command(about = list::ABOUT, after_help = list::EXAMPLES)]
    List(list::ListArgs),
    #[command(about = rotate::ABOUT, after_help = rotate::EXAMPLES)]
    Rotate(rotate::RotateArgs),
    #[command(about = doctor::ABOUT, after_help = doctor::EXAMPLES)]
    Doctor(doctor::DoctorArgs),
    #[command(name = "storageclass", about = storageclass::ABOUT, after_help = storageclass::EXAMPLES)]
    StorageClass(storageclass::StorageClassArgs),
    #[command(about = rotator::ABOUT, after_help = rotator::EXAMPLES)]
    Rotator(rotator::RotatorArgs),
    #[command(about = completion::ABOUT, after_help = completion::EXAMPLES)]
    Completion(completion::CompletionArgs),
}

/// `-v LEVEL` as kubectl reads it: 0 our warnings only, 1–2 what was found and retried, 3–5
/// requests (and the libraries' own warnings), 6+ more.
/// The HTTP stack is capped below the level that would print headers or bodies, which can hold
/// credentials and the shared secret.
fn init_logging(verbosity: u8) {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let ours = match verbosity {
        0 => LevelFilter::WARN,
        1..=2 => LevelFilter::INFO,
        3..=5 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // Libraries stay silent below -v 3: the error: line already says what failed, and kube
    // would add its own ("failed with error client error (Connect)") before it.
    let (kube, others) =
        if verbosity >= 3 { (LevelFilter::DEBUG, LevelFilter::WARN) } else { (LevelFilter::OFF, LevelFilter::OFF) };
    // A static target list rather than EnvFilter: no regex engine in the binary (size budget).
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(others)
        .with_target("pxtoken", ours)
        .with_target("kubectl_pxtoken", ours)
        .with_target("kube_client", kube)
        .with_target("kube", kube);
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time();
    tracing_subscriber::registry().with(format).with(filter).init();
}

fn main() -> ExitCode {
    // Internal entry points, outside the CLI so that help and completion scripts never show them.
    // `__complete`: every later word is a word of the line being completed, flags included.
    let mut args = std::env::args_os();
    match args.nth(1) {
        Some(first) if first == complete::COMPLETE_COMMAND => {
            complete::main(&args.map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>());
            return ExitCode::SUCCESS;
        }
        Some(first) if first == man::MAN_COMMAND => return man::main(args.collect()),
        _ => {}
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("{}", hints::usage_line(&err));
            return ExitCode::from(2);
        }
    };
    let Some(command) = cli.command else {
        return match Cli::command().print_help() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    };
    init_logging(cli.global.verbosity);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let global = cli.global;
    let result = runtime.block_on(async move {
        match command {
            Command::Tenant(args) => tenant::exec(args, &global).await,
            Command::Admin(args) => admin::exec(args, &global).await,
            Command::Generate(args) => generate::exec(args, &global).await,
            Command::Rotate(args) => rotate::exec(args, &global).await,
            Command::Doctor(args) => doctor::exec(args, &global).await,
            Command::StorageClass(args) => storageclass::exec(args, &global).await,
            Command::Rotator(args) => rotator::exec(args, &global).await,
            Command::Inspect(args) => inspect::exec(args, &global).await,
            Command::List(args) => list::exec(args, &global).await,
            Command::Completion(args) => completion::exec(args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<output::Reported>() => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {}", hints::error_line(err.as_ref()));
            if err.downcast_ref::<UsageError>().is_some() {
                return ExitCode::from(2);
            }
            // Stopped by SIGINT / SIGTERM after reporting: 130 / 143, as a shell reports it.
            match signals::interrupted_by(&err) {
                Some(signal) => ExitCode::from(signal.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}
