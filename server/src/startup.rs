//! Building the application: settings in, a bound listener and a router out.

use crate::{
    assets::{AssetManifest, OUTPUT_NAME},
    health, middleware, multipart, portal_routes,
    settings::Settings,
    ticket_files,
};
use app::{App, context::Services, shell::SiteContext};
use axum::{
    Router,
    extract::{FromRef, MatchedPath, State},
    handler::Handler,
    http::{HeaderName, HeaderValue, Request, header},
    response::IntoResponse,
    routing::get,
};
use domain::turnstile::Turnstile;
use domain::{
    Landlord, TenantRouter,
    auth::limits::{AuthLimits, SlidingWindow},
};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use secrecy::ExposeSecret;
use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    CompressionLevel,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Everything a handler, a page or a server function may need, cloned cheaply per request.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub leptos_options: LeptosOptions,
    pub assets: Arc<AssetManifest>,
    /// Origins whose form posts are accepted (see [`middleware::reject_cross_site`]).
    pub origins: Arc<Vec<String>>,
    /// The public URL is https: send HSTS and mark cookies `Secure`.
    pub https: bool,
    /// Set once shutdown has begun: `/readyz` answers 503 so load balancers stop sending traffic.
    pub draining: Arc<AtomicBool>,
    /// The landlord and every workspace's database, Turnstile, the auth limits: what server functions use.
    pub services: Services,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open storage: {0}")]
    Storage(#[from] domain::Error),
    #[error("cannot serve: {0}")]
    Serve(#[from] std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    draining: Arc<AtomicBool>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port, as the tests do) and builds the router.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        Application::build_with_assets(settings, AssetManifest::discover()).await
    }

    /// As [`Application::build`], with the front-end build described by `assets` instead of `hash.txt`.
    pub async fn build_with_assets(settings: Settings, assets: AssetManifest) -> Result<Application, StartupError> {
        domain::crypto::create_private_dir(&settings.data_dir).map_err(|source| StartupError::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
        let turnstile = Turnstile::new(
            settings.turnstile_secret.clone(),
            &settings.turnstile_verify_url,
            std::time::Duration::from_secs(5),
        );
        if !turnstile.enabled() {
            tracing::warn!(
                "TURNSTILE IS OFF: no FERRODESK_TURNSTILE_SECRET is set, so public forms accept bots. \
                 Set it (and FERRODESK_TURNSTILE_SITE_KEY) before exposing this server."
            );
        }
        let landlord = Arc::new(Landlord::open(settings.storage()).await?);
        let mailer = domain::mail::Mailer::new(
            settings.smtp_url.as_ref().map(|url| url.expose_secret()),
            &settings.mail_from,
            &settings.data_dir,
        )?;
        if settings.smtp_url.is_none() {
            tracing::info!(dir = %settings.data_dir.join("mail").display(), "no SMTP server configured: mail is written as .eml files");
        }
        domain::mail::spawn_worker(
            landlord.clone(),
            mailer,
            std::time::Duration::from_millis(settings.mail_poll_ms.max(10)),
        );
        let tenants = TenantRouter::new(landlord.clone())?;
        let relayer = domain::workspace::outbox::Relayer::spawn(landlord.clone());
        spawn_housekeeping(landlord, tenants.clone(), settings.session_policy());
        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: settings.addr,
                source,
            })?;
        let local_addr = listener.local_addr()?;

        let leptos_options = LeptosOptions::builder()
            .output_name(OUTPUT_NAME)
            .site_root(settings.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .hash_files(assets.hashed())
            .build();
        let https = settings.base_url.as_ref().is_some_and(|url| url.scheme() == "https");
        let origins = middleware::allowed_origins(settings.base_url.as_ref(), local_addr.port());
        let base_url = match &settings.base_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{local_addr}"),
        };
        let services = Services {
            tenants,
            turnstile,
            limits: Arc::new(AuthLimits {
                requests_per_ip: SlidingWindow::new(
                    settings.auth_requests_per_minute.max(1),
                    chrono::Duration::minutes(1),
                ),
                ..AuthLimits::default()
            }),
            base_url,
            session_policy: settings.session_policy(),
            relayer,
            files: Arc::new(domain::workspace::attachments::FileStore::new(&settings.data_dir)),
            enquiry_limits: Arc::new(domain::auth::limits::EnquiryLimits::new(
                settings.enquiries_per_ip_hour.max(1),
                settings.enquiries_per_ip_day.max(1),
                settings.enquiries_per_workspace_day.max(1),
            )),
            mx: settings
                .check_mx
                .then(|| domain::mx::MxResolver::new(settings.dns_server, std::time::Duration::from_secs(2))),
            attachment_limits: domain::workspace::attachments::Limits {
                per_file: settings.attachment_max_bytes,
                per_message: settings
                    .message_attachments_max_bytes
                    .max(settings.attachment_max_bytes),
                ..Default::default()
            },
        };
        let state = AppState {
            settings: Arc::new(settings),
            leptos_options,
            assets: Arc::new(assets),
            origins: Arc::new(origins),
            https,
            draining: Arc::new(AtomicBool::new(false)),
            services,
        };
        let draining = state.draining.clone();
        let router = router(state);
        Ok(Application {
            listener,
            router,
            draining,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let draining = self.draining;
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        // A response written in more than one piece must not wait for the client's delayed ACK (Nagle's
        // algorithm): on a reused connection that held every static file back by about 40 ms.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp: &mut tokio::net::TcpStream| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY could not be set on a connection");
            }
        });
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                draining.store(true, Ordering::Relaxed);
                tracing::info!("shutting down: finishing requests in flight");
            })
            .await?;
        Ok(())
    }
}

/// The Leptos pages' routes, worked out once per process.
///
/// Working them out renders the app with resource loading switched off through a flag that is global to
/// the process (`leptos_server`'s `SuppressResourceLoad`): a page being rendered meanwhile, for another
/// router in the same process, would find the flag set when its resources first ran and wait for them for
/// ever (leptos issue 4773). Tests start many servers in one process; the list depends only on the app, so
/// it is made once, before any router exists, and every router after that gets a copy.
pub fn route_list() -> Vec<AxumRouteListing> {
    static LISTING: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    LISTING.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route the router adds by hand, as (method, path pattern): the handlers that are neither Leptos
/// pages nor server functions (those are listed from their own registries). The router mounts exactly these,
/// each with the handler [`handler_for`] gives it, so nothing is served that is not listed here;
/// `tests/api/authz/` keeps an expectation for every line (who may call it and what they get) and fails
/// until a new one has its own.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/sw.js"),
    ("POST", "/w/{slug}/tickets/{number}/reply"),
    ("GET", "/w/{slug}/tickets/{number}/files/{id}"),
    ("POST", "/p/{slug}/tickets"),
    ("POST", "/p/{slug}/tickets/{number}/reply"),
    ("GET", "/p/{slug}/tickets/{number}/files/{id}"),
    ("POST", "/p/{slug}/feedback"),
    ("POST", "/w/{slug}/feedback"),
    ("GET", "/w/{slug}/feedback/{id}/screenshot"),
    ("GET", "/p/{slug}/brand.css"),
];

/// The handler of one line of [`ROUTES`]; `upload_limit` and `screenshot_limit` bound the bodies of the
/// routes that take files.
fn handler_for(
    method: &str,
    path: &str,
    upload_limit: u64,
    screenshot_limit: u64,
) -> axum::routing::MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/healthz") => get(health::healthz),
        ("GET", "/readyz") => get(health::readyz),
        ("GET", "/sw.js") => get(service_worker),
        ("POST", "/w/{slug}/tickets/{number}/reply") => multipart::upload(ticket_files::reply, upload_limit),
        ("GET", "/w/{slug}/tickets/{number}/files/{id}") => get(ticket_files::download),
        ("POST", "/p/{slug}/tickets") => multipart::upload(portal_routes::new_ticket, upload_limit),
        ("POST", "/p/{slug}/tickets/{number}/reply") => multipart::upload(portal_routes::reply, upload_limit),
        ("GET", "/p/{slug}/tickets/{number}/files/{id}") => get(portal_routes::download),
        ("POST", "/p/{slug}/feedback") => multipart::upload(portal_routes::portal_feedback, screenshot_limit),
        ("POST", "/w/{slug}/feedback") => multipart::upload(portal_routes::staff_feedback, screenshot_limit),
        ("GET", "/w/{slug}/feedback/{id}/screenshot") => get(portal_routes::screenshot),
        ("GET", "/p/{slug}/brand.css") => get(portal_routes::brand_css),
        (method, path) => unreachable!("ROUTES lists {method} {path} without a handler"),
    }
}

fn router(state: AppState) -> Router {
    let site = SiteContext {
        secure_cookies: state.https,
        stylesheet: state.assets.stylesheet(),
        turnstile_site_key: state
            .services
            .turnstile
            .enabled()
            .then(|| state.settings.turnstile_site_key.clone())
            .flatten(),
    };
    let services = state.services.clone();
    let context = move || {
        provide_context(site.clone());
        provide_context(services.clone());
        provide_context(app::context::RequestCache::default());
    };
    let sessions = session_layer(&state);
    let routes = route_list();
    let pkg_dir = state.settings.site_root.join("pkg");
    let request_id = HeaderName::from_static("x-request-id");
    // A message's files plus room for its text and the form's framing.
    let upload_limit = state.services.attachment_limits.per_message as u64 + 2 * 1024 * 1024;
    let screenshot_limit = domain::workspace::feedback::SCREENSHOT_MAX as u64 + 1024 * 1024;

    let pkg = Router::new()
        .fallback_service(ServeDir::new(pkg_dir).precompressed_br().precompressed_gzip())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::immutable_when_hashed,
        ));

    let hand_made = ROUTES.iter().fold(Router::new(), |router, (method, path)| {
        router.route(path, handler_for(method, path, upload_limit, screenshot_limit))
    });
    hand_made
        .nest("/pkg", pkg)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || app::shell::shell(options.clone())
        })
        // The site's files are served here, and only what no file answers reaches Leptos (its 404 page).
        // Leptos' own file branch serves a file under a new reactive owner that becomes a child of whatever
        // page the worker thread rendered last, finds that page's `ResponseOptions` through it and moves the
        // page's headers (its nonce'd CSP, `no-store`, `no-referrer`) onto the file's response: a page still
        // awaiting its data then went out without them.
        .fallback_service(
            ServeDir::new(&state.settings.site_root)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(
                    file_and_error_handler_with_context::<AppState, _>(context, app::shell::shell)
                        .with_state(state.clone()),
                ),
        )
        .layer(sessions)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|id| id.to_str().ok())
                        .unwrap_or_default();
                    // The route's pattern (`/signin/link/{token}`), never the path: one-time tokens live in
                    // paths, and logs must never hold them. Requests no route matched (static files, 404s)
                    // log their path with every token-like segment cut out.
                    let path = match request.extensions().get::<MatchedPath>() {
                        Some(matched) => matched.as_str().to_owned(),
                        None => loggable_path(request.uri().path()),
                    };
                    tracing::info_span!("request", method = %request.method(), path, request_id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::security_headers,
                ))
                // Pages and server function answers are compressed as they go out, at the fastest level:
                // zstd 1 (Chromium, Firefox) or gzip 1 (everyone else), never brotli. Per 49 KB list
                // page, with what Chromium accepts: brotli 4 (the default) 6.5 KB for 0.4-0.6 ms more
                // CPU than zstd 1's 7.4 KB, zstd 3 7.1 KB for ~0.3 ms more (its larger tables, set up
                // for every response). The static files are compressed once, at build time, with brotli.
                .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::client_address,
                ))
                .layer(axum::middleware::from_fn(middleware::client_errors_are_4xx))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::reject_cross_site,
                )),
        )
        .with_state(state)
}

/// `path` for the log: a segment that could be a token (16 or more characters, all letters, digits, `-` or
/// `_`, as link tokens are) becomes `{redacted}`. File names (with a dot) and short segments stay.
pub fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let token_like = segment.len() >= 16
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%');
            if token_like { "{redacted}" } else { segment }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The service worker, with this build's asset names. Its scope is the whole site.
async fn service_worker(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            // A worker's own CSP governs its fetches: it may fetch from this origin and nothing else.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'self'"),
            ),
        ],
        state.assets.service_worker(),
    )
}

/// The cookie session, stored in the landlord: one cookie, HttpOnly, SameSite=Lax, Path=/; over https it is
/// `Secure` and named `__Host-ferrodesk` (so no subdomain can set or shadow it). A session that is not
/// signed in (waiting for its emailed code) lives 15 minutes unused; signing in sets the cookie to end
/// with the sign-in's absolute lifetime.
fn session_layer(state: &AppState) -> SessionManagerLayer<domain::landlord::SessionStore> {
    let name = if state.https { "__Host-ferrodesk" } else { "ferrodesk" };
    SessionManagerLayer::new(state.services.landlord().session_store())
        .with_name(name)
        .with_http_only(true)
        .with_secure(state.https)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(
            15,
        )))
}

/// At start and every ten minutes: delete ended sign-ins and expired cookie sessions, and relay mail left in
/// workspaces' outboxes.
fn spawn_housekeeping(landlord: Arc<Landlord>, tenants: TenantRouter, policy: domain::auth::sign_ins::SessionPolicy) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match tenants.relay_outboxes(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "mail left in outboxes queued"),
                Err(error) => tracing::warn!(%error, "could not relay outboxes"),
            }
            match domain::auth::sign_ins::purge_expired(&landlord, policy, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "ended sign-ins removed"),
                Err(error) => tracing::warn!(%error, "could not remove ended sign-ins"),
            }
            match domain::auth::portal::purge_expired(&landlord, policy, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "ended portal sign-ins removed"),
                Err(error) => tracing::warn!(%error, "could not remove ended portal sign-ins"),
            }
        }
    });
}
