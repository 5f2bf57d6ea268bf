//! What server functions share on the server (never compiled to wasm): the services, the request, the
//! signed-in person, the workspace a staff call acts in ([`Staff`]), limits.

mod limits;
mod portal;
mod redirects;
mod sign_in;
mod staff;

pub use limits::{
    FailureSlot, account_key, client_ip_key, limit_ip, limit_mail, reserve_failure, reserve_sign_in, turnstile,
    typed_hash,
};
pub use portal::{PortalCurrent, begin_portal, end_portal, portal_in, public_workspace, require_portal};
pub use redirects::{landing, safe_next};
pub use sign_in::{
    Current, Pending, RequestCache, begin, current, current_in, end, memberships, pending, renew_session_id, require,
    set_pending,
};
pub use staff::{Staff, member_in, open_workspace, require_member};

use crate::error::AppError;
use chrono::{DateTime, Utc};
use domain::{
    Landlord, TenantRouter,
    auth::{
        limits::AuthLimits,
        sign_ins::{Device, SessionPolicy},
    },
    client_ip::ClientIp,
    turnstile::Turnstile,
};
use http::{HeaderValue, header, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::{net::IpAddr, sync::Arc};
use tower_sessions::Session;

/// The session key holding the id of the `sign_ins` row.
const SIGN_IN: &str = "sign_in";
/// The session key holding a password-checked account that still owes its emailed code.
const PENDING: &str = "pending";
/// The session key holding the id of a customer's `portal_sign_ins` row. Staff checks never read it.
const PORTAL: &str = "portal";

/// The server's parts that server functions use, provided to each request's context.
#[derive(Clone)]
pub struct Services {
    pub tenants: TenantRouter,
    pub turnstile: Turnstile,
    pub limits: Arc<AuthLimits>,
    /// The configured public URL, without a trailing slash: links in emails are built from it, never from
    /// the request's Host header.
    pub base_url: String,
    pub session_policy: SessionPolicy,
    /// Where attachments' bytes are kept.
    pub files: Arc<dyn domain::workspace::attachments::BlobStore>,
    pub attachment_limits: domain::workspace::attachments::Limits,
    /// Moves mail from workspaces' outboxes to the job queue in the background.
    pub relayer: domain::workspace::outbox::Relayer,
    /// The public enquiry form's caps.
    pub enquiry_limits: Arc<domain::auth::limits::EnquiryLimits>,
    /// Checks enquiry senders' mail domains; `None` turns the check off.
    pub mx: Option<domain::mx::MxResolver>,
}

impl Services {
    pub fn landlord(&self) -> &Landlord {
        self.tenants.landlord()
    }
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("the services are not in the context"))
}

/// Logs an unexpected failure and gives the person the generic message (the details stay in the log).
pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    reject(AppError::Internal)
}

/// The current request's parts.
fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The client's address, as the server's middleware worked it out (socket peer or trusted proxy).
pub fn client_ip() -> Option<IpAddr> {
    parts().and_then(|p| p.extensions.get::<ClientIp>().map(|ip| ip.0))
}

fn user_agent() -> Option<String> {
    parts().and_then(|p| {
        p.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// The client of this request as a new sign-in records it: its address and user agent, lent to the
/// sign-in's [`Device`].
struct ClientInfo {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl ClientInfo {
    fn of_request() -> ClientInfo {
        ClientInfo {
            ip: client_ip().map(|ip| ip.to_string()),
            user_agent: user_agent(),
        }
    }

    fn device(&self) -> Device<'_> {
        Device {
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// Whether the request is a plain form post from a page without JavaScript.
pub fn wants_html() -> bool {
    parts().is_some_and(|p| {
        p.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Fails with `error` (see [`reject`]).
pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    Err(reject(error))
}

/// Sets the response status for an error. A plain form post keeps its redirect back to the form (with the
/// error in the URL, as Leptos does it), so only script clients see the status; both see `Retry-After`.
pub fn reject(error: AppError) -> AppError {
    if let Some(response) = use_context::<ResponseOptions>() {
        if let AppError::Limited { retry_after_secs } = &error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if !wants_html() {
            response.set_status(error.status());
        }
    }
    error
}

/// Sends the browser to `path` after the server function (a 302 for plain form posts).
pub fn redirect(path: &str) {
    leptos_axum::redirect(path);
}

/// The time now (one place, so handlers agree).
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal(format!("no session layer: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::FromServerFnError;

    #[test]
    fn an_internal_failure_answers_generically_and_keeps_details_out_of_the_body() {
        let error = AppError::from(domain::Error::Config("connect to db password=hunter2".into()));
        assert_eq!(error, AppError::Internal);
        assert_eq!(error.to_string(), "Something went wrong on our side. Please try again.");
        let body = String::from_utf8(error.ser().to_vec()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
    }
}
