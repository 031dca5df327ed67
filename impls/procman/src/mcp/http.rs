//! MCP over Streamable HTTP (`procman serve`): one supervisor shared by every session.
//!
//! rmcp's Streamable HTTP service answers at [`MCP_PATH`]; each session gets its own
//! [`ProcmanServer`], and every one of them drives the same [`Supervisor`], so two agents (or an
//! agent and a human) see and stop the same processes. Sessions come and go without touching
//! the processes; only SIGTERM, SIGINT or SIGHUP stops them.
//!
//! What keeps a browser page or a stranger out:
//! - the `Host` header must name the address served (loopback names by default, more with
//!   `--allow-host`): a DNS-rebinding page reaches the socket under its own host name and is
//!   answered 403 by rmcp;
//! - an `Origin` header, when present, must be a loopback origin or one given with
//!   `--allow-origin` (403 otherwise);
//! - a bearer token is required on every request when one is configured, and a bind to any
//!   address but loopback refuses to start without one (401 for a missing or wrong token).

use std::fmt;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::{ExitReason, ProcmanServer};
use crate::supervisor::{EXIT_STOP_TIMEOUT, EXIT_WAIT, Supervisor};

/// The path the MCP endpoint answers at.
pub const MCP_PATH: &str = "/mcp";

/// The address `procman serve` binds without `--listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7077";

/// How long open connections get to finish after a shutdown signal before the children are
/// stopped anyway.
const DRAIN: Duration = Duration::from_millis(500);

/// A bearer token. Its `Debug` form does not show it.
#[derive(Clone)]
pub struct Token(Arc<str>);

impl Token {
    /// The token `text` (surrounding whitespace removed); `None` when nothing is left.
    pub fn new(text: &str) -> Option<Token> {
        let text = text.trim();
        (!text.is_empty()).then(|| Token(Arc::from(text)))
    }

    /// 32 random bytes from the kernel, as 64 hex digits.
    pub fn generate() -> std::io::Result<Token> {
        use std::io::Read;
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Token(Arc::from(hex)))
    }

    /// The token's text (to print it once at start).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token, in time that does not depend on where they differ.
    fn matches(&self, presented: &[u8]) -> bool {
        let expected = self.0.as_bytes();
        if presented.len() != expected.len() {
            return false;
        }
        presented
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What `procman serve` was asked for, checked.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// The address to bind (port 0: a free one).
    pub listen: SocketAddr,
    /// The bearer token every request must carry, if any.
    pub token: Option<Token>,
    /// Whether the token was generated here (it is printed once at start).
    pub token_generated: bool,
    /// `Host` values accepted (names or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted, with their scheme (`http://localhost:*`).
    pub allowed_origins: Vec<String>,
}

/// Why `procman serve` cannot start. Each names what to change.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A bind beyond loopback without a token.
    #[error(
        "refusing to serve MCP on {addr} without a bearer token: anyone who can reach that \
         address could run this project's scripts. Pass --token-file PATH (a file holding the \
         token clients send as `Authorization: Bearer TOKEN`) or --generate-token, or listen on \
         loopback (--listen 127.0.0.1:{port})"
    )]
    NoToken {
        /// The address asked for.
        addr: SocketAddr,
        /// Its port, for the suggestion.
        port: u16,
    },
    /// The token file could not be read.
    #[error("cannot read the token file {}: {source}", path.display())]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The token file holds nothing but whitespace.
    #[error(
        "the token file {} is empty: write the bearer token clients will send into it",
        path.display()
    )]
    EmptyToken {
        /// The file.
        path: PathBuf,
    },
    /// Both ways of getting a token were asked for.
    #[error("--token-file and --generate-token exclude each other: pass one")]
    TwoTokens,
    /// No randomness for a generated token.
    #[error("cannot generate a token from /dev/urandom: {0} (pass --token-file instead)")]
    Random(std::io::Error),
    /// An `--allow-origin` value without a scheme.
    #[error(
        "--allow-origin {0:?} has no scheme: write it as a browser sends it, e.g. \
         http://localhost:5173 or https://app.example.com (`:*` for any port)"
    )]
    OriginScheme(String),
    /// The socket could not be bound.
    #[error(
        "cannot listen on {addr}: {source} (pick another address with --listen; port 0 takes a \
         free one)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

impl HttpOptions {
    /// Checks the command line's choices: a token from `token_file` or generated, required
    /// beyond loopback; the loopback hosts and origins plus the ones allowed explicitly.
    pub fn resolve(
        listen: SocketAddr,
        token_file: Option<&Path>,
        generate_token: bool,
        allow_hosts: &[String],
        allow_origins: &[String],
    ) -> Result<HttpOptions, ServeError> {
        let token = match (token_file, generate_token) {
            (Some(_), true) => return Err(ServeError::TwoTokens),
            (Some(path), false) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ServeError::TokenFile {
                        path: path.to_owned(),
                        source,
                    })?;
                Some(Token::new(&text).ok_or_else(|| ServeError::EmptyToken {
                    path: path.to_owned(),
                })?)
            }
            (None, true) => Some(Token::generate().map_err(ServeError::Random)?),
            (None, false) => None,
        };
        if token.is_none() && !listen.ip().is_loopback() {
            return Err(ServeError::NoToken {
                addr: listen,
                port: listen.port(),
            });
        }
        if let Some(bad) = allow_origins
            .iter()
            .find(|o| !o.contains("://") && *o != "null")
        {
            return Err(ServeError::OriginScheme(bad.clone()));
        }
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(String::from)
            .collect();
        if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
            allowed_hosts.push(listen.ip().to_string());
        }
        allowed_hosts.extend(allow_hosts.iter().cloned());
        let mut allowed_origins: Vec<String> =
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .into_iter()
                .map(String::from)
                .collect();
        allowed_origins.extend(allow_origins.iter().cloned());
        Ok(HttpOptions {
            listen,
            token_generated: generate_token,
            token,
            allowed_hosts,
            allowed_origins,
        })
    }
}

/// The HTTP application: the MCP endpoint behind the token check (when there is a token).
/// Every session it creates shares `sup`; `cancel` ends them all.
pub fn router(sup: Arc<Supervisor>, options: &HttpOptions, cancel: CancellationToken) -> Router {
    // No SSE priming events (rmcp sends one before each response so that a client can resume
    // a broken stream with Last-Event-ID): procman's answers are one message each, and the
    // extra event cost about 12 µs of the 170 µs a `scripts_status` round trip took here.
    let config = StreamableHttpServerConfig::default()
        .with_sse_retry(None)
        .with_allowed_hosts(options.allowed_hosts.iter().cloned())
        .with_allowed_origins(options.allowed_origins.iter().cloned())
        .enforce_origin_validation()
        .with_cancellation_token(cancel);
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.sse_retry = None;
    let service = StreamableHttpService::new(
        move || Ok(ProcmanServer::new(Arc::clone(&sup))),
        Arc::new(sessions),
        config,
    );
    let router = Router::new()
        .nest_service(MCP_PATH, service)
        .layer(middleware::from_fn(json_rpc_body));
    match &options.token {
        Some(token) => router.layer(middleware::from_fn_with_state(token.clone(), require_token)),
        None => router,
    }
}

/// Answers a POST whose body is not a JSON-RPC message with a JSON-RPC error (-32700 for
/// text that is not JSON, -32600 for JSON that is not a request, notification or response;
/// HTTP 400), where rmcp would answer plain text. A body over [`super::MAX_MESSAGE_BYTES`]
/// gets 413. Everything else goes on unchanged.
async fn json_rpc_body(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, super::MAX_MESSAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return json_rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!(
                    "the request body is over {} bytes, the most procman accepts",
                    super::MAX_MESSAGE_BYTES
                ),
            );
        }
    };
    if let Err(e) = serde_json::from_slice::<rmcp::model::ClientJsonRpcMessage>(&bytes) {
        return match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Err(e) => json_rpc_error(
                StatusCode::BAD_REQUEST,
                -32700,
                format!("parse error: the body is not JSON ({e})"),
            ),
            Ok(_) => json_rpc_error(
                StatusCode::BAD_REQUEST,
                -32600,
                format!(
                    "invalid request: the body is JSON but not a JSON-RPC 2.0 request, \
                     notification or response ({e})"
                ),
            ),
        };
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A JSON-RPC error response with no id (the request's could not be read).
fn json_rpc_error(status: StatusCode, code: i64, message: String) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// Lets a request through only with `Authorization: Bearer TOKEN`; 401 otherwise.
async fn require_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
    if presented.is_some_and(|p| token.matches(p)) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token: send `Authorization: Bearer TOKEN` with the token \
         procman serve was given (--token-file) or printed (--generate-token)\n",
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Binds `options.listen`, prints the endpoint (and a generated token) on stderr, and serves
/// MCP until SIGTERM, SIGINT or SIGHUP; then ends every session, stops every child and
/// returns. Sessions opening and closing never touch the processes.
pub async fn serve_http(
    sup: Arc<Supervisor>,
    options: HttpOptions,
) -> Result<ExitReason, ServeError> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    let cancel = CancellationToken::new();
    let app = router(Arc::clone(&sup), &options, cancel.child_token());
    // On stderr whatever the log level: a launcher reads the port (with --listen …:0) and the
    // token from here.
    eprintln!("procman: serving MCP at http://{local}{MCP_PATH}");
    if let (true, Some(token)) = (options.token_generated, &options.token) {
        eprintln!("procman: bearer token: {}", token.expose());
    }
    tracing::info!(%local, token = options.token.is_some(), "serving MCP over Streamable HTTP");
    let stop = cancel.clone();
    // A response is several small writes (an event stream's priming event, then the message):
    // with Nagle's algorithm on, the second waits for the client's delayed ACK, 40 ms on Linux.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let mut server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .into_future(),
    );
    let reason = tokio::select! {
        signal = crate::signals::terminated() => ExitReason::Signal(signal),
        ended = &mut server => {
            let error = match ended {
                Ok(Ok(())) => std::io::Error::other("the server stopped by itself"),
                Ok(Err(e)) => e,
                Err(e) => std::io::Error::other(e),
            };
            tracing::error!(error = %error, "the HTTP server stopped; stopping every child");
            sup.shutdown(EXIT_STOP_TIMEOUT, EXIT_WAIT).await;
            return Err(ServeError::Serve(error));
        }
    };
    tracing::info!(
        ?reason,
        "ending every session, stopping every child and exiting"
    );
    cancel.cancel();
    if tokio::time::timeout(DRAIN, &mut server).await.is_err() {
        server.abort();
    }
    sup.shutdown(EXIT_STOP_TIMEOUT, EXIT_WAIT).await;
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_needs_no_token_and_anything_else_does() {
        let ok = HttpOptions::resolve(addr("127.0.0.1:0"), None, false, &[], &[]).unwrap();
        assert!(ok.token.is_none());
        assert!(HttpOptions::resolve(addr("[::1]:0"), None, false, &[], &[]).is_ok());
        for bind in ["0.0.0.0:7077", "192.168.1.20:7077", "[::]:7077"] {
            let err = HttpOptions::resolve(addr(bind), None, false, &[], &[]).unwrap_err();
            assert!(matches!(err, ServeError::NoToken { .. }), "{bind}: {err}");
            assert!(err.to_string().contains("--token-file"), "{err}");
        }
        let generated = HttpOptions::resolve(addr("0.0.0.0:7077"), None, true, &[], &[]).unwrap();
        assert_eq!(generated.token.unwrap().expose().len(), 64);
    }

    #[test]
    fn a_token_file_is_read_trimmed_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  s3cret\n").unwrap();
        let options =
            HttpOptions::resolve(addr("0.0.0.0:0"), Some(&path), false, &[], &[]).unwrap();
        let token = options.token.unwrap();
        assert_eq!(token.expose(), "s3cret");
        assert!(token.matches(b"s3cret"));
        assert!(!token.matches(b"s3cres"));
        assert!(!token.matches(b"s3cret "));
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");

        std::fs::write(&path, " \n").unwrap();
        let err = HttpOptions::resolve(addr("127.0.0.1:0"), Some(&path), false, &[], &[]);
        assert!(matches!(err, Err(ServeError::EmptyToken { .. })));
        let missing = dir.path().join("nope");
        let err = HttpOptions::resolve(addr("127.0.0.1:0"), Some(&missing), false, &[], &[]);
        assert!(matches!(err, Err(ServeError::TokenFile { .. })));
        let err = HttpOptions::resolve(addr("127.0.0.1:0"), Some(&path), true, &[], &[]);
        assert!(matches!(err, Err(ServeError::TwoTokens)));
    }

    #[test]
    fn hosts_and_origins_start_from_loopback_and_add_what_was_allowed() {
        let options = HttpOptions::resolve(
            addr("10.0.0.5:7077"),
            None,
            true,
            &["dev.example".into()],
            &["https://app.example".into()],
        )
        .unwrap();
        for host in ["localhost", "127.0.0.1", "::1", "10.0.0.5", "dev.example"] {
            assert!(options.allowed_hosts.iter().any(|h| h == host), "{host}");
        }
        assert!(
            options
                .allowed_origins
                .iter()
                .any(|o| o == "https://app.example")
        );
        assert!(
            options
                .allowed_origins
                .iter()
                .any(|o| o == "http://localhost:*")
        );
        let err = HttpOptions::resolve(
            addr("127.0.0.1:0"),
            None,
            false,
            &[],
            &["app.example".into()],
        );
        assert!(matches!(err, Err(ServeError::OriginScheme(_))));
    }
}
