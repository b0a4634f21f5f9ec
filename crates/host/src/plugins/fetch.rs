//! Outbound HTTP for plugins. One dedicated thread owns an actix System and an awc client
//! (rustls, no OpenSSL); `handle` hooks on the blocking pool hand it requests and wait for the
//! answer. The host, not the plugin, enforces the timeouts, the size cap and where requests
//! may go.

use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use awc::http::{Method, Uri};
use datasette_plugin_api::security::is_loopback_host;
use datasette_plugin_api::{FetchRequest, FetchResponse};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect: Duration,
    /// From sending the request to the last byte of the answer.
    pub total: Duration,
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
        }
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the limits, once, before the first fetch.
pub fn configure(limits: Limits) {
    let _ = LIMITS.set(limits);
}

fn limits() -> Limits {
    *LIMITS.get_or_init(Limits::default)
}

struct Job {
    request: FetchRequest,
    reply: mpsc::SyncSender<Result<FetchResponse, String>>,
}

/// Runs one request; blocks the calling thread (a blocking-pool thread) until it is done.
pub fn run(request: FetchRequest) -> Result<FetchResponse, String> {
    check_url(&request.url)?;
    let (reply, answer) = mpsc::sync_channel(1);
    service()
        .send(Job { request, reply })
        .map_err(|_| "the fetch service has stopped".to_string())?;
    // The service times the request out itself; this only guards against it going away.
    answer
        .recv_timeout(limits().total + Duration::from_secs(5))
        .map_err(|_| "the fetch service did not answer".to_string())?
}

/// `https://` anywhere; `http://` only to this machine, so credentials never cross a network
/// in clear text.
pub fn check_url(url: &str) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("'{}' is not a valid URL", without_query(url)))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if is_loopback_host(host) => Ok(()),
        Some("http") => Err(format!(
            "plain http:// is allowed to loopback addresses only, not '{host}': use https://"
        )),
        _ => Err(format!("'{}' is not an https:// URL", without_query(url))),
    }
}

/// URLs in messages lose their query: it may carry something secret.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn service() -> &'static UnboundedSender<Job> {
    static SERVICE: OnceLock<UnboundedSender<Job>> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let (tx, mut rx) = unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("plugin-fetch".into())
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let client = client(limits());
                    while let Some(job) = rx.recv().await {
                        let client = client.clone();
                        actix_rt::spawn(async move {
                            let _ = job.reply.send(send(&client, job.request).await);
                        });
                    }
                })
            })
            .expect("cannot start the plugin fetch thread");
        tx
    })
}

fn client(limits: Limits) -> awc::Client {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    awc::Client::builder()
        .connector(
            awc::Connector::new()
                .rustls_0_23(Arc::new(tls))
                .timeout(limits.connect),
        )
        // The whole exchange, body included, is timed in `send`.
        .disable_timeout()
        // A redirect could lead to a plain-http address elsewhere: plugins follow them
        // themselves, through the same checks.
        .disable_redirects()
        .finish()
}

async fn send(client: &awc::Client, request: FetchRequest) -> Result<FetchResponse, String> {
    let limits = limits();
    let url = without_query(&request.url).to_string();
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|_| format!("'{}' is not an HTTP method", request.method))?;
    let mut req = client.request(method, &request.url);
    for (k, v) in &request.headers {
        req = req.append_header((k.as_str(), v.as_str()));
    }
    let exchange = async {
        let mut resp = req
            .send_body(request.body)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let body = resp
            .body()
            .limit(limits.max_body_bytes)
            .await
            .map_err(|e| format!("{url}: reading the answer: {e}"))?;
        Ok(FetchResponse {
            status: resp.status().as_u16(),
            headers: resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    actix_rt::time::timeout(limits.total, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "{url}: no complete answer within {} ms",
                limits.total.as_millis()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_url("https://example.auth0.com/oauth/token").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://[::1]:8080/x").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://example.com/x").is_err());
        assert!(check_url("http://10.0.0.1/x").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("not a url").is_err());
        let e = check_url("http://example.com/x?secret=1").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
