//! `dotp issuer serve` (the issuer as an HTTP service on the data directory's database)
//! and the API keys it authenticates: `add-api-key`, `revoke-api-key`, `api-keys`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use digital_otp::issuer::api_keys::ApiRole;
use digital_otp::issuer::Issuer;
use digital_otp::service::{self, Limits, ServiceConfig, Timeouts, TlsFiles};
use serde_json::json;

use crate::context::{err, iso_time, CliResult, Context, Output};

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Serves the issuer over HTTP (JSON under /v1/, docs/openapi.yaml) until SIGTERM or
    /// Ctrl-C.
    Serve(ServeArgs),
    /// Makes an API key for the HTTP service and prints it once (only its hash is kept).
    AddApiKey {
        /// The institution it acts for.
        #[arg(long)]
        institution: String,
        /// What it may call.
        #[arg(long, value_enum, default_value = "channel")]
        role: RoleArg,
    },
    /// Revokes an API key (by the id `add-api-key` printed).
    RevokeApiKey {
        /// The key's id (16 hex digits).
        key_id: String,
    },
    /// Lists the API keys (ids, institutions, roles; never the keys).
    ApiKeys,
}

/// Runs a service command on `issuer`.
pub fn run(ctx: &Context, issuer: Issuer, command: ServiceCommand) -> CliResult<Output> {
    match command {
        ServiceCommand::Serve(args) => serve(ctx, issuer, args),
        ServiceCommand::AddApiKey { institution, role } => {
            add_api_key(ctx, &issuer, &institution, role)
        }
        ServiceCommand::RevokeApiKey { key_id } => {
            issuer.revoke_api_key(&ctx.actor, &key_id).map_err(err("refused"))?;
            Ok(Output::new(
                format!("API key {key_id} revoked"),
                json!({ "ok": true, "key_id": key_id }),
            ))
        }
        ServiceCommand::ApiKeys => api_keys(&issuer),
    }
}

#[derive(Args)]
pub struct ServeArgs {
    /// The address and port to listen on (port 0: any free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// The TLS certificate chain (PEM); with --tls-key.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM); with --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not loopback (only behind a TLS-terminating
    /// proxy on the same host or network).
    #[arg(long)]
    pub allow_plain_http: bool,
    /// Channel calls per API key per minute.
    #[arg(long, default_value_t = Limits::default().per_key_per_minute)]
    pub rate_per_key: u32,
    /// Verifications per customer, and unlocks per device, per minute.
    #[arg(long, default_value_t = Limits::default().per_customer_per_minute)]
    pub rate_per_customer: u32,
    /// Print the routes served (method and path, one per line) and exit.
    #[arg(long)]
    pub list_routes: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// The bank's app backend: enrollment, unlock, verification.
    Channel,
    /// The institution's service desk.
    Staff,
    /// A central OTP centre's staff: every institution.
    Centre,
}

/// Serves until SIGTERM or Ctrl-C; prints `listening on ADDRESS` once it listens.
fn serve(ctx: &Context, issuer: Issuer, args: ServeArgs) -> CliResult<Output> {
    if args.list_routes {
        let lines: Vec<String> = service::ROUTES.iter().map(|(m, p)| format!("{m} {p}")).collect();
        return Ok(Output::new(lines.join("\n"), json!({ "routes": lines })));
    }
    let issuer = Arc::new(issuer);
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let config = ServiceConfig {
        listen: args.listen,
        tls,
        allow_plain_http: args.allow_plain_http,
        limits: Limits {
            per_key_per_minute: args.rate_per_key,
            per_customer_per_minute: args.rate_per_customer,
        },
        timeouts: Timeouts::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let json_out = ctx.json;
    runtime
        .block_on(service::serve(
            issuer,
            config,
            move |address| {
                if json_out {
                    crate::context::say(
                        &json!({ "listening": format!("{scheme}://{address}") }).to_string(),
                    );
                } else {
                    crate::context::say(&format!("listening on {scheme}://{address}"));
                }
            },
            shutdown_signal(),
        ))
        .map_err(|e| format!("serve: {e}"))?;
    Ok(Output::new("stopped", json!({ "ok": true, "stopped": true })))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Makes an API key and prints it, once.
fn add_api_key(
    ctx: &Context,
    issuer: &Issuer,
    institution: &str,
    role: RoleArg,
) -> CliResult<Output> {
    let role = match role {
        RoleArg::Channel => ApiRole::Channel,
        RoleArg::Staff => ApiRole::Staff,
        RoleArg::Centre => ApiRole::Centre,
    };
    let (key, secret) =
        issuer.add_api_key(&ctx.actor, institution, role).map_err(err("refused"))?;
    let text = format!(
        "{}\n(API key {} for {} as {}: shown once, store it now)",
        secret.as_str(),
        key.key_id,
        key.institution_id,
        key.role.name()
    );
    Ok(Output::new(
        text,
        json!({ "api_key": secret.as_str(), "key_id": key.key_id, "institution": key.institution_id, "role": key.role.name() }),
    ))
}

/// Lists the API keys (never their secrets).
fn api_keys(issuer: &Issuer) -> CliResult<Output> {
    let keys = issuer.api_keys().map_err(err("refused"))?;
    let text = keys
        .iter()
        .map(|k| {
            format!(
                "{} {} {} since {}",
                k.key_id,
                k.institution_id,
                k.role.name(),
                iso_time(k.created_at)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let list: Vec<_> = keys
        .iter()
        .map(|k| json!({ "key_id": k.key_id, "institution": k.institution_id, "role": k.role.name(), "created_at": k.created_at }))
        .collect();
    Ok(Output::new(text, json!({ "api_keys": list })))
}
