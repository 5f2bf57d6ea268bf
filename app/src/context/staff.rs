//! A staff member's call in one of their workspaces: membership and role checks, and the workspace's
//! database.

use super::{Current, Services, current, current_in, fail, memberships, services};
use crate::error::AppError;
use domain::auth::accounts::{MembershipOf, Role};
use tower_sessions::Session;

/// The signed-in person and their membership of the workspace `slug`, which must grant at least `needed`.
/// Not being a member answers 404, exactly as for a workspace that does not exist; the workspace always
/// comes from the person's own memberships, never from anything else in the request.
pub async fn require_member(slug: &str, needed: Role) -> Result<(Current, MembershipOf), AppError> {
    let Some(current) = current().await? else {
        return fail(AppError::Unauthorized);
    };
    let services = services()?;
    let memberships = memberships(&services, current.account.id).await?;
    member_of(current, memberships, slug, needed)
}

/// A staff member's call in one of their workspaces: who is calling, their membership (the workspace always
/// comes from it, never from anything else in the request), the services, and the workspace's database.
/// What every workspace server function starts with:
/// `let Staff { current, membership, services, ws } = Staff::require(&slug, Role::Agent).await?;`
pub struct Staff {
    pub current: Current,
    pub membership: MembershipOf,
    pub services: Services,
    pub ws: domain::WorkspaceDb,
}

impl Staff {
    /// The caller must be signed in (else 401) and a member of `slug` (else 404, as for a workspace that
    /// does not exist) with at least the role `needed` (else 403); then the workspace's database is opened.
    pub async fn require(slug: &str, needed: Role) -> Result<Staff, AppError> {
        let (current, membership) = require_member(slug, needed).await?;
        let services = services()?;
        let ws = open_workspace(&services, &membership).await?;
        Ok(Staff {
            current,
            membership,
            services,
            ws,
        })
    }
}

/// The database of the workspace `membership` is of, through the tenant router.
pub async fn open_workspace(services: &Services, membership: &MembershipOf) -> Result<domain::WorkspaceDb, AppError> {
    Ok(services
        .tenants
        .open(domain::WorkspaceId::from_row(membership.workspace_id))
        .await?)
}

/// [`require_member`] for a handler outside Leptos.
pub async fn member_in(
    services: &Services,
    session: &Session,
    slug: &str,
    needed: Role,
) -> Result<(Current, MembershipOf), AppError> {
    let Some(current) = current_in(services, session).await? else {
        return fail(AppError::Unauthorized);
    };
    let memberships = current.memberships.clone();
    member_of(current, memberships, slug, needed)
}

fn member_of(
    current: Current,
    memberships: Vec<MembershipOf>,
    slug: &str,
    needed: Role,
) -> Result<(Current, MembershipOf), AppError> {
    let membership = memberships.into_iter().find(|m| m.slug == slug);
    let Some(membership) = membership else {
        tracing::warn!(event = "authorization_denied", account = current.account.id, workspace = ?slug, "not a member");
        return fail(AppError::NotFound);
    };
    if rank(membership.role) < rank(needed) {
        tracing::warn!(event = "authorization_denied", account = current.account.id, workspace = ?slug, role = membership.role.as_str(), needed = needed.as_str(), "role too low");
        return fail(AppError::Forbidden);
    }
    Ok((current, membership))
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Agent => 1,
        Role::Admin => 2,
        Role::Owner => 3,
    }
}
