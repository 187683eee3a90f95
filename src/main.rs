//! The rsproxy command line: parse arguments, check the configuration, start the runtime.
//!
//! `rsproxy --check -c haproxy.cfg [-k keepalived.conf]` validates and exits 0 (valid) or 1
//! (invalid), with diagnostics on stderr in the style of the tool whose file they concern.
//! Usage errors exit 2.
#![forbid(unsafe_code)]

use clap::{ArgAction, Parser, ValueEnum};
use rsproxy_parser::{check, CheckInput, Env};
use std::path::PathBuf;
use std::process::ExitCode;

// The data path allocates per request (hyper's heads, bodies' frames); mimalloc's thread-local
// free lists make those allocations markedly cheaper than glibc's malloc (bench/http.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "rsproxy",
    version,
    disable_version_flag = true,
    about = "A drop-in replacement for HAProxy + keepalived, in one memory-safe binary.",
    long_about = "rsproxy reads the haproxy.cfg and keepalived.conf you already have.\n\n\
        Validate them (as `haproxy -c` and `keepalived -t` do):\n  \
        rsproxy --check -c /etc/haproxy/haproxy.cfg -k /etc/keepalived/keepalived.conf\n\n\
        Run them:\n  \
        rsproxy -c /etc/haproxy/haproxy.cfg -k /etc/keepalived/keepalived.conf",
    after_help = "Exit status: 0 valid/ran cleanly, 1 invalid configuration, 2 usage error.\n\
        Diagnostics name FILE:LINE in the style of the tool whose file it is."
)]
struct Cli {
    /// HAProxy configuration file or directory (its *.cfg files in C-locale order); repeatable.
    #[arg(short = 'c', long = "config", visible_short_alias = 'f', value_name = "FILE|DIR", action = ArgAction::Append)]
    config: Vec<PathBuf>,

    /// keepalived configuration file.
    #[arg(short = 'k', long = "keepalived", value_name = "FILE")]
    keepalived: Option<PathBuf>,

    /// Validate the configuration and exit: 0 valid, 1 invalid.
    #[arg(long)]
    check: bool,

    /// Output format of --check.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Print the normalised, typed configuration (JSON) and exit.
    #[arg(long = "dump-ir")]
    dump_ir: bool,

    /// Run in the background (also when the config says `daemon`).
    #[arg(short = 'D')]
    daemon: bool,

    /// Stay in the foreground whatever the config says (HAProxy's -db).
    #[arg(long = "foreground")]
    foreground: bool,

    /// Write the process id to this file.
    #[arg(short = 'p', value_name = "PIDFILE")]
    pidfile: Option<PathBuf>,

    /// Verbose: show the source line and a caret under each diagnostic, and help lines.
    #[arg(short = 'V')]
    verbose: bool,

    /// Print the modern form of a legacy (HAProxy 1.x) configuration.
    #[arg(long)]
    upgrade: bool,

    /// Run a legacy configuration, with a warning for each legacy line.
    #[arg(long)]
    legacy: bool,

    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Whether this machine has `ip` on one of its interfaces: binding a UDP socket to it
/// succeeds only then (no packet is sent).
fn is_local_address(ip: std::net::IpAddr) -> bool {
    std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// HAProxy's two-letter flags (`-db`) are not clap short options; map them first.
fn normalise_args(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| {
        if a == "-db" {
            "--foreground".to_string()
        } else {
            a
        }
    })
    .collect()
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(normalise_args(std::env::args())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    if cli.config.is_empty() && cli.keepalived.is_none() {
        eprintln!("rsproxy: nothing to do: give a HAProxy config with -c FILE and/or a keepalived config with -k FILE (see --help)");
        return ExitCode::from(2);
    }
    if cli.upgrade || cli.legacy {
        let flag = if cli.upgrade { "--upgrade" } else { "--legacy" };
        eprintln!("rsproxy: {flag} is not implemented yet; `rsproxy --check` reports each legacy keyword with its modern form");
        return ExitCode::from(2);
    }

    let input = CheckInput {
        haproxy: cli.config.clone(),
        keepalived: cli.keepalived.clone(),
        env: Env::from_process(),
        is_local_address: Some(is_local_address),
    };
    let checked = check(&input);
    let valid = checked.is_valid();

    if cli.dump_ir {
        let ir =
            serde_json::json!({ "haproxy": checked.haproxy, "keepalived": checked.keepalived });
        match serde_json::to_string_pretty(&ir) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("rsproxy: cannot serialise the IR: {e}");
                return ExitCode::from(1);
            }
        }
    }

    match cli.format {
        Format::Json => println!("{}", checked.diagnostics.to_json(&checked.sources)),
        Format::Text => {
            eprint!(
                "{}",
                checked
                    .diagnostics
                    .render(&checked.sources, std::process::id(), cli.verbose)
            );
            if !valid {
                eprintln!(
                    "[ALERT]    ({}) : config : Fatal errors found in configuration.",
                    std::process::id()
                );
            }
        }
    }

    if cli.check || cli.dump_ir {
        if valid && cli.format == Format::Text && cli.check {
            println!("Configuration file is valid");
        }
        return if valid {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    if !valid {
        return ExitCode::from(1);
    }
    // Keywords of keepalived.conf the VRRP runtime does not carry out are refused, all of
    // them, before anything starts.
    let vrrp_plans = match checked.keepalived.as_ref().map(rsproxy::vrrp::config::plan) {
        None => None,
        Some(Ok(plans)) => {
            if !plans.warnings.is_empty() {
                let mut d = rsproxy_parser::Diagnostics::new();
                for w in &plans.warnings {
                    d.push(w.clone());
                }
                eprint!(
                    "{}",
                    d.render(&checked.sources, std::process::id(), cli.verbose)
                );
            }
            Some(plans)
        }
        Some(Err(refused)) => {
            let mut d = rsproxy_parser::Diagnostics::new();
            for r in refused {
                d.push(r);
            }
            eprint!(
                "{}",
                d.render(&checked.sources, std::process::id(), cli.verbose)
            );
            eprintln!("rsproxy: keepalived.conf uses what the VRRP runtime does not carry out yet; nothing was started");
            return ExitCode::from(1);
        }
    };
    if cli.daemon || cli.pidfile.is_some() {
        eprintln!("rsproxy: -D and -p are not carried out by the runtime yet; run in the foreground with -db");
        return ExitCode::from(1);
    }
    let Some(haproxy) = checked.haproxy.as_ref() else {
        return match vrrp_plans {
            Some(plans) => run_with_vrrp(None, plans),
            None => ExitCode::from(2),
        };
    };
    let plan = match rsproxy::plan::build(haproxy, cli.foreground) {
        Ok(p) => p,
        Err(d) => {
            eprint!(
                "{}",
                d.render(&checked.sources, std::process::id(), cli.verbose)
            );
            eprintln!(
                "[ALERT]    ({}) : config : Fatal errors found in configuration.",
                std::process::id()
            );
            return ExitCode::from(1);
        }
    };
    if let Some(plans) = vrrp_plans {
        return run_with_vrrp(Some(plan), plans);
    }
    match rsproxy::runtime::run(plan) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            ExitCode::from(1)
        }
    }
}

/// Runs the VRRP instances (each on its own thread, behind a panic boundary) and, with a
/// HAProxy config, the proxy, until SIGTERM, SIGINT or SIGUSR1. On stop the VRRP masters
/// first advertise priority 0 and remove their floating addresses, then the proxy stops.
fn run_with_vrrp(
    proxy: Option<rsproxy::plan::Plan>,
    vrrp: rsproxy::vrrp::config::VrrpPlan,
) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let signals = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rsproxy: cannot start the signal handler: {e}");
            return ExitCode::from(1);
        }
    };
    // Signal handlers first, so a stop signal that arrives during start-up is not lost.
    let stop = signals.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::user_defined1()),
            signal(SignalKind::hangup()),
            signal(SignalKind::user_defined2()),
        )
    });
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut hup), Ok(mut usr2)) = stop else {
        eprintln!("rsproxy: cannot install the signal handlers");
        return ExitCode::from(1);
    };
    let running = match proxy.map(rsproxy::runtime::start).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            return ExitCode::from(1);
        }
    };
    let data_plane = running.as_ref().map(|r| r.state.alive.clone());
    let vrrp = match rsproxy::vrrp::start_beside(vrrp, data_plane) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rsproxy: {e}");
            return ExitCode::from(1);
        }
    };
    // SIGHUP/SIGUSR2 ask for a reload, which is not carried out yet: say so and keep
    // running (their default action would kill the process and leave the floating
    // addresses behind with no goodbye advertisement).
    signals.block_on(async {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = usr1.recv() => break,
                _ = hup.recv() => {}
                _ = usr2.recv() => {}
            }
            tracing::warn!("reload is not carried out yet: the running configuration is kept");
        }
    });
    vrrp.stop();
    drop(running);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_style_flags_are_accepted() {
        let cli = Cli::try_parse_from(normalise_args(
            [
                "rsproxy", "-f", "a.cfg", "-c", "b.cfg", "-db", "-k", "k.conf", "--check",
            ]
            .map(String::from)
            .into_iter(),
        ))
        .unwrap();
        assert_eq!(
            cli.config,
            vec![PathBuf::from("a.cfg"), PathBuf::from("b.cfg")]
        );
        assert!(cli.foreground && cli.check);
        assert_eq!(cli.keepalived, Some(PathBuf::from("k.conf")));
    }
}
