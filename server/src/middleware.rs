//! Middleware every response passes through: security headers, caching rules, and the cross-site request
//! check on every unsafe method.

use crate::startup::AppState;
use axum::extract::ConnectInfo;
use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use domain::client_ip::{ClientIp, client_ip};
use std::net::SocketAddr;
use url::Url;

/// For responses that are not pages (JSON, files, errors from layers): nothing may load from them.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// Two years, as the HSTS preload list asks.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds the headers every response carries. Pages set their own nonce'd CSP and `no-store`; everything
/// else gets the restrictive default and `no-cache` (revalidate; ETags keep that cheap).
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Server functions answer for the signed-in person (their sessions, their team): never stored.
    let personal = request.uri().path().starts_with("/api/");
    // The enquiry form made for other sites' iframes: the one page any site may frame.
    let embeddable = request.uri().path().starts_with("/embed/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if embeddable {
        let framed = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|csp| csp.to_str().ok())
            .map(|csp| csp.replace("frame-ancestors 'none'", "frame-ancestors *"))
            .and_then(|csp| HeaderValue::from_str(&csp).ok());
        if let Some(csp) = framed {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    } else {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    // Same-origin requests keep their Referer: a form posted without JavaScript is sent back to its page.
    // Pages whose address holds a token set `no-referrer` themselves.
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    if state.https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DEFAULT_CSP));
    }
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

/// Works out the client's address (the socket's peer, or what a trusted proxy says) and puts it in the
/// request's extensions for rate limits and logs.
pub async fn client_address(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let ip = client_ip(peer.ip(), request.headers(), &state.settings.trusted_proxies);
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

/// A server function whose arguments are missing or malformed never runs, so it cannot set its status, and
/// the framework answers 500. That is the client's mistake: answer 400 instead, body unchanged. Every other
/// error status is set by the function itself.
pub async fn client_errors_are_4xx(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_api || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // A function returning `AppError` serializes it as JSON; one returning the framework's own
    // `ServerFnError` writes `Kind|message`, and for arguments that kind is `Args`, `MissingArg` or
    // `Deserialization`.
    let framework_args = ["Args|", "MissingArg|", "Deserialization|"]
        .iter()
        .any(|kind| bytes.starts_with(kind.as_bytes()));
    if framework_args
        || matches!(
            serde_json::from_slice::<app::error::AppError>(&bytes),
            Ok(app::error::AppError::Form { .. } | app::error::AppError::Request(_))
        )
    {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Files under `/pkg` carry a content hash in their name when the build hashes them: cache them for a year.
pub async fn immutable_when_hashed(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.assets.hashed() && response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

/// Refuses unsafe requests that a browser sent on behalf of another site (CSRF), login included.
///
/// Browsers send `Sec-Fetch-Site` (all current ones) or at least `Origin` on every POST. A request with
/// neither comes from a non-browser client, which holds no victim's cookies, and passes.
pub async fn reject_cross_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_same_site(request.headers(), &state.origins) {
        return next.run(request).await;
    }
    tracing::warn!(
        event = "csrf_rejected",
        method = %request.method(),
        path = %request.uri().path(),
        "cross-site request refused"
    );
    (StatusCode::FORBIDDEN, "Cross-site requests are not allowed.").into_response()
}

/// The origins this server answers to: the configured public URL, or, when none is configured, the
/// loopback names of the address it listens on (so `localhost` and `127.0.0.1` both work in development).
pub fn allowed_origins(base_url: Option<&Url>, port: u16) -> Vec<String> {
    match base_url {
        Some(url) => vec![url.origin().ascii_serialization()],
        None => ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|host| format!("http://{host}:{port}"))
            .collect(),
    }
}

fn is_same_site(headers: &HeaderMap, origins: &[String]) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(|site| site.as_bytes());
    if let Some(site) = fetch_site {
        // `none`: the user typed or bookmarked the URL; there is no other site involved.
        if !matches!(site, b"same-origin" | b"none") {
            return false;
        }
    }
    match headers.get(header::ORIGIN) {
        // A page with `Referrer-Policy: no-referrer` (the ones whose address holds a token) posts its forms
        // with `Origin: null`. The browser's own `Sec-Fetch-Site: same-origin`, which no page can forge,
        // still vouches for it; without that header, `null` is refused.
        Some(origin) if origin.as_bytes() == b"null" => fetch_site == Some(b"same-origin"),
        Some(origin) => origins.iter().any(|allowed| origin.as_bytes() == allowed.as_bytes()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass_and_cross_site_ones_do_not() {
        let origins = allowed_origins(Some(&"https://help.example.com".parse().unwrap()), 443);
        assert!(is_same_site(
            &headers(&[
                ("origin", "https://help.example.com"),
                ("sec-fetch-site", "same-origin")
            ]),
            &origins
        ));
        assert!(!is_same_site(
            &headers(&[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")]),
            &origins
        ));
        assert!(!is_same_site(&headers(&[("sec-fetch-site", "same-site")]), &origins));
        assert!(!is_same_site(&headers(&[("origin", "null")]), &origins));
        assert!(!is_same_site(
            &headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            &origins
        ));
        // A same-origin page with `Referrer-Policy: no-referrer` posts with `Origin: null`.
        assert!(is_same_site(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            &origins
        ));
        assert!(!is_same_site(
            &headers(&[("origin", "http://help.example.com")]),
            &origins
        ));
    }

    #[test]
    fn a_client_that_is_not_a_browser_passes() {
        assert!(is_same_site(&HeaderMap::new(), &allowed_origins(None, 3000)));
    }

    #[test]
    fn without_a_base_url_the_loopback_names_of_the_port_are_allowed() {
        let origins = allowed_origins(None, 3000);
        assert!(origins.contains(&"http://localhost:3000".to_owned()));
        assert!(origins.contains(&"http://127.0.0.1:3000".to_owned()));
        assert!(!origins.contains(&"http://127.0.0.1:3001".to_owned()));
    }
}
