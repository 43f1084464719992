//! The issuer as an HTTP service (feature `http`; `dotp issuer serve`): JSON over HTTP/1.1
//! under `/v1/`, described by `docs/openapi.yaml` (OpenAPI 3.1), on axum and tokio, with TLS
//! by rustls. Every `/v1/` call is authenticated by an API key of one institution
//! ([`crate::issuer::api_keys`]); its role decides what it may call. Plain HTTP is served
//! only on a loopback address unless the operator says otherwise (behind a TLS-terminating
//! load balancer). The issuer's calls are synchronous (database transactions): they run on
//! tokio's blocking pool, so that a slow database holds no async worker.
//!
//! Any number of instances may serve one database: every decision (replay, counts, locks)
//! is taken inside one store transaction, so the database, not the instance, keeps them.

mod auth;
mod channel;
mod desk;
mod limits;
mod reply;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

pub use limits::Limits;
pub use reply::ApiError;

use crate::issuer::{Fault, Issuer};

/// Every route the service has, as `(method, path)` in OpenAPI's path syntax: the router
/// is built from the same list of handlers, and a test checks it against `docs/openapi.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/institutions"),
    ("POST", "/v1/institutions/{institution}/registration"),
    ("POST", "/v1/institutions/{institution}/unlock"),
    ("POST", "/v1/institutions/{institution}/customers/{customer}/login-verifications"),
    ("POST", "/v1/institutions/{institution}/customers/{customer}/transaction-verifications"),
    ("POST", "/v1/institutions/{institution}/customers"),
    ("GET", "/v1/institutions/{institution}/customers/{customer}"),
    ("POST", "/v1/institutions/{institution}/customers/{customer}/sms-challenge"),
    ("POST", "/v1/institutions/{institution}/customers/{customer}/registration-codes"),
    ("PUT", "/v1/institutions/{institution}/customers/{customer}/phone"),
    ("PUT", "/v1/institutions/{institution}/customers/{customer}/device"),
    ("DELETE", "/v1/institutions/{institution}/customers/{customer}/device"),
    ("GET", "/v1/institutions/{institution}/devices/{vendor}/{serial}"),
    ("PUT", "/v1/institutions/{institution}/devices/{vendor}/{serial}/accident"),
    ("DELETE", "/v1/institutions/{institution}/devices/{vendor}/{serial}/accident"),
    ("POST", "/v1/institutions/{institution}/devices/{vendor}/{serial}/error-count-reset"),
    ("GET", "/v1/institutions/{institution}/audit"),
];

/// Requests larger than this are refused (413): the largest message, a registration
/// request with an attestation chain, is a few kilobytes.
pub const MAX_BODY: usize = 64 * 1024;

/// The shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    issuer: Arc<Issuer>,
    limits: Arc<limits::Limiters>,
}

impl AppState {
    /// Runs `f` on the issuer, on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Issuer) -> Result<T, Fault> + Send + 'static,
    ) -> Result<T, ApiError> {
        let issuer = self.issuer.clone();
        blocking(move || f(&issuer)).await
    }
}

/// Runs `f` (an issuer call) on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Fault> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )),
    }
}

/// The service's routes over `issuer` (no listener: for [`serve`] and for tests).
pub fn router(issuer: Arc<Issuer>, limits: Limits, body_timeout: Duration) -> Router {
    let state = AppState { issuer, limits: Arc::new(limits::Limiters::new(limits)) };
    let i = "/v1/institutions/{institution}";
    Router::new()
        .route("/healthz", get(channel::healthz))
        .route("/readyz", get(channel::readyz))
        .route("/v1/institutions", post(desk::add_institution))
        .route(&format!("{i}/registration"), post(channel::registration))
        .route(&format!("{i}/unlock"), post(channel::unlock))
        .route(
            &format!("{i}/customers/{{customer}}/login-verifications"),
            post(channel::verify_login),
        )
        .route(
            &format!("{i}/customers/{{customer}}/transaction-verifications"),
            post(channel::verify_transaction),
        )
        .route(&format!("{i}/customers"), post(desk::add_customer))
        .route(&format!("{i}/customers/{{customer}}"), get(desk::customer))
        .route(&format!("{i}/customers/{{customer}}/sms-challenge"), post(desk::send_sms))
        .route(
            &format!("{i}/customers/{{customer}}/registration-codes"),
            post(desk::registration_code),
        )
        .route(&format!("{i}/customers/{{customer}}/phone"), put(desk::change_phone))
        .route(
            &format!("{i}/customers/{{customer}}/device"),
            put(desk::register_device).delete(desk::cancel),
        )
        .route(&format!("{i}/devices/{{vendor}}/{{serial}}"), get(desk::device))
        .route(
            &format!("{i}/devices/{{vendor}}/{{serial}}/accident"),
            put(desk::report_accident).delete(desk::clear_accident),
        )
        .route(
            &format!("{i}/devices/{{vendor}}/{{serial}}/error-count-reset"),
            post(desk::reset_errors),
        )
        .route(&format!("{i}/audit"), get(desk::audit))
        .fallback(|| async {
            ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such route")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take this method",
            )
        })
        .layer(axum::middleware::from_fn(move |request, next| {
            read_body(request, next, body_timeout)
        }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Reads the whole body first, within `timeout` and [`MAX_BODY`] (408 or 413 otherwise),
/// so that a handler never waits on a slow client and the time limit never cuts off an
/// issuer call under way (whose effect would then be unknown to the caller).
async fn read_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
    timeout: Duration,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let too_large = || {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the body is larger than 64 KiB")
    };
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large().into_response();
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request's body did not arrive in time",
        )
        .into_response(),
        Ok(Err(_)) => too_large().into_response(),
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
        }
    }
}

/// TLS: a PEM certificate chain and its PEM private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS, or plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Plain HTTP on an address that is not loopback (behind a TLS-terminating proxy).
    pub allow_plain_http: bool,
    /// Rate limits.
    pub limits: Limits,
    /// How long a client may take to send its request.
    pub timeouts: Timeouts,
}

/// How long a client may take: slow clients (a request's headers or body trickling in)
/// are cut off instead of holding a connection and a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send the request line and headers (then the connection is closed).
    pub header: Duration,
    /// To send the body, once the headers are in (then 408).
    pub body: Duration,
}

impl Default for Timeouts {
    /// 10 s for the headers, 10 s for the body: messages are a few kilobytes.
    fn default() -> Self {
        Timeouts { header: Duration::from_secs(10), body: Duration::from_secs(10) }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Plain HTTP on a non-loopback address without `allow_plain_http`.
    #[error("plain HTTP is served only on loopback: give --tls-cert and --tls-key, or --allow-plain-http behind a TLS proxy")]
    PlainHttpNotLoopback,
    /// The certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound, or the server failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn tls_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |what: &str, e: &dyn std::fmt::Display| ServeError::Tls(format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls("certificate", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls("certificate", &e))?;
    if certs.is_empty() {
        return Err(ServeError::Tls("the certificate file has no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| tls("private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls("certificate and key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `issuer` until `shutdown` completes (then finishes the requests under way).
/// `ready` is called with the bound address once the socket listens.
pub async fn serve(
    issuer: Arc<Issuer>,
    config: ServiceConfig,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if config.tls.is_none() && !config.allow_plain_http && !config.listen.ip().is_loopback() {
        return Err(ServeError::PlainHttpNotLoopback);
    }
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let app = router(issuer, config.limits, config.timeouts.body).into_make_service();
    let listener = std::net::TcpListener::bind(config.listen)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let header_timeout = config.timeouts.header;
    match tls {
        None => {
            let mut server = axum_server::from_tcp(listener)?;
            server.http_builder().http1().header_read_timeout(header_timeout);
            ready(address);
            server.handle(handle).serve(app).await?;
        }
        Some(tls) => {
            let mut server = axum_server::from_tcp_rustls(
                listener,
                axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls)),
            )?;
            server.http_builder().http1().header_read_timeout(header_timeout);
            ready(address);
            server.handle(handle).serve(app).await?;
        }
    }
    Ok(())
}

/// The path's parameters by name (400, not axum's text, if they do not decode).
pub struct Params(std::collections::HashMap<String, String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<std::collections::HashMap<String, String>>::from_request_parts(
            parts, state,
        )
        .await
        .map(|p| Params(p.0))
        .map_err(|_| ApiError::bad_request("the path's parameters must be UTF-8"))
    }
}

impl Params {
    /// The parameter `name` ("" if the route has none: never, for the routes above).
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// The body as `T` (400 with what is wrong, never echoing a value).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        let what = if text.starts_with("missing field") || text.starts_with("unknown field") {
            text.split(" at line").next().unwrap_or("").to_owned()
        } else {
            format!("{:?} error", e.classify()).to_lowercase()
        };
        ApiError::bad_request(format!(
            "the body is not the expected JSON ({what}, line {} column {})",
            e.line(),
            e.column()
        ))
    })
}
