//! Customers on a workspace's portal: the public workspace by its slug, and portal sign-ins on this
//! session.

use super::{ClientInfo, PORTAL, Services, fail, internal, now, reject, services, session, sign_in::carry};
use crate::error::AppError;
use tower_sessions::Session;

/// A customer signed in to a workspace's portal, with what every portal page needs.
#[derive(Clone)]
pub struct PortalCurrent {
    pub workspace: domain::Workspace,
    pub ws: domain::WorkspaceDb,
    pub customer: domain::workspace::customers::Customer,
    pub portal: domain::workspace::portal::PortalSettings,
    pub sign_in_id: String,
}

impl PortalCurrent {
    /// The customer as the author of a change.
    pub fn actor(&self, services: &Services, ip: Option<String>) -> domain::workspace::tickets::Actor {
        domain::workspace::tickets::Actor {
            author: domain::workspace::tickets::Author::Customer {
                customer_id: self.customer.id,
                name: self.customer.name.clone(),
            },
            ip,
            base_url: services.base_url.clone(),
            workspace_slug: self.workspace.slug.clone(),
            workspace_name: self.workspace.name.clone(),
        }
    }
}

/// An active workspace by its slug, for the public pages (portal, enquiry form, ratings); anything else,
/// including a suspended workspace, is `NotFound`.
pub async fn public_workspace(
    services: &Services,
    slug: &str,
) -> Result<(domain::Workspace, domain::WorkspaceDb), AppError> {
    let workspace = match services.landlord().workspace_by_slug(slug).await {
        Ok(found) if found.status == domain::WorkspaceStatus::Active => found,
        Ok(_) | Err(domain::Error::NotFound) => return fail(AppError::NotFound),
        Err(other) => return Err(AppError::from(other)),
    };
    let ws = services.tenants.open(workspace.id).await.map_err(|e| match e {
        domain::Error::Unavailable(_) => reject(AppError::NotFound),
        other => AppError::from(other),
    })?;
    Ok((workspace, ws))
}

/// The customer signed in to the portal of `slug` on this session, if any. A portal sign-in of another
/// workspace counts as none here.
pub async fn portal_in(services: &Services, session: &Session, slug: &str) -> Result<Option<PortalCurrent>, AppError> {
    let Some(id) = session.get::<String>(PORTAL).await.map_err(internal)? else {
        return Ok(None);
    };
    let Some(sign_in) = domain::auth::portal::check(services.landlord(), &id, services.session_policy, now()).await?
    else {
        session.remove::<String>(PORTAL).await.map_err(internal)?;
        return Ok(None);
    };
    let (workspace, ws) = public_workspace(services, slug).await?;
    if workspace.id != sign_in.workspace() {
        return Ok(None);
    }
    let customer = match domain::workspace::customers::get(&ws, sign_in.customer_id).await {
        Ok(customer) => customer,
        Err(domain::Error::NotFound) => return Ok(None),
        Err(other) => return Err(AppError::from(other)),
    };
    let portal = domain::workspace::portal::portal_settings(&ws).await?;
    Ok(Some(PortalCurrent {
        workspace,
        ws,
        customer,
        portal,
        sign_in_id: id,
    }))
}

/// The signed-in customer of the portal of `slug`, or 401.
pub async fn require_portal(slug: &str) -> Result<PortalCurrent, AppError> {
    match portal_in(&services()?, &session().await?, slug).await? {
        Some(found) => Ok(found),
        None => fail(AppError::Unauthorized),
    }
}

/// Signs a customer in to a workspace's portal on this session. Like a staff sign-in it gets a new session
/// id and an empty session: one browser session is one person, staff or customer.
pub async fn begin_portal(workspace: &domain::Workspace, customer_id: i64) -> Result<(), AppError> {
    let services = services()?;
    let client = ClientInfo::of_request();
    let id =
        domain::auth::portal::start(services.landlord(), workspace.id, customer_id, client.device(), now()).await?;
    if let Some(session_id) = carry(&services, PORTAL, &id).await? {
        domain::auth::portal::attach_session(services.landlord(), &id, &session_id).await?;
    }
    tracing::info!(event = "portal_sign_in_succeeded", workspace = %workspace.id, customer = customer_id, ip = ?client.ip, "customer signed in");
    Ok(())
}

/// Ends this session's portal sign-in and deletes the session.
pub async fn end_portal() -> Result<(), AppError> {
    let services = services()?;
    let session = session().await?;
    if let Some(id) = session.get::<String>(PORTAL).await.map_err(internal)? {
        domain::auth::portal::end(services.landlord(), &id).await?;
    }
    session.flush().await.map_err(internal)?;
    Ok(())
}
