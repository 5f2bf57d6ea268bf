//! Server functions of what the team learns from customers: the satisfaction report, the feedback inbox,
//! and the portal's settings.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekView {
    /// `YYYY-MM-DD`, the Monday.
    pub starts: String,
    pub good: i64,
    pub bad: i64,
    pub percent_good: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionReport {
    pub slug: String,
    pub workspace: String,
    pub weeks: Vec<WeekView>,
    pub good: i64,
    pub bad: i64,
}

/// Satisfaction over the last 12 weeks.
#[server(endpoint = "w/reports/satisfaction")]
pub async fn satisfaction(slug: String) -> Result<SatisfactionReport, AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    let Staff { membership, ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let weeks = domain::workspace::ratings::weekly(&ws, 12, now()).await?;
    Ok(SatisfactionReport {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        good: weeks.iter().map(|w| w.good).sum(),
        bad: weeks.iter().map(|w| w.bad).sum(),
        weeks: weeks
            .into_iter()
            .map(|w| WeekView {
                starts: w.starts.format("%Y-%m-%d").to_string(),
                good: w.good,
                bad: w.bad,
                percent_good: w.percent_good(),
            })
            .collect(),
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub author: String,
    /// Whether a customer (not a team member) sent it.
    pub from_customer: bool,
    pub votes: i64,
    pub voted: bool,
    pub screenshot: Option<String>,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxView {
    pub slug: String,
    pub workspace: String,
    pub items: Vec<InboxItem>,
    pub status: Option<String>,
    /// A refused submission (kept in the session).
    pub draft: Option<crate::portal::api::PortalDraft>,
}

/// The session key of the staff feedback form's refused draft.
pub fn draft_key(slug: &str) -> String {
    format!("feedback-draft:{slug}")
}

/// The feedback inbox, most voted first, optionally one status.
#[server(endpoint = "w/feedback")]
pub async fn inbox(slug: String, status: Option<String>) -> Result<InboxView, AppError> {
    use crate::context::{Staff, internal, session};
    use domain::{
        auth::accounts::Role,
        workspace::feedback::{self, State, Voice},
    };
    let Staff {
        current,
        membership,
        ws,
        ..
    } = Staff::require(&slug, Role::Agent).await?;
    let state = status.as_deref().filter(|s| !s.is_empty()).and_then(State::parse);
    let items = feedback::inbox(&ws, state).await?;
    let voice = Voice::Staff {
        account_id: current.account.id,
        name: current.account.name.clone(),
    };
    let voted = feedback::voted(&ws, &voice).await?;
    let draft = session()
        .await?
        .remove(&draft_key(&membership.slug))
        .await
        .map_err(internal)?;
    Ok(InboxView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        status: state.map(|s| s.as_str().to_owned()),
        draft,
        items: items
            .into_iter()
            .map(|i| InboxItem {
                id: i.id,
                voted: voted.contains(&i.id),
                screenshot: i
                    .screenshot_key
                    .is_some()
                    .then(|| format!("/w/{}/feedback/{}/screenshot", membership.slug, i.id)),
                kind: i.kind,
                title: i.title,
                description: i.description,
                status: i.status,
                author: i.author_name,
                from_customer: i.author_customer_id.is_some(),
                votes: i.votes,
                created: i.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    })
}

/// Moves a feedback item to another status.
#[server(endpoint = "w/feedback/status")]
pub async fn set_feedback_status(slug: String, id: i64, status: String) -> Result<(), AppError> {
    use crate::context::{Staff, fail, now};
    use domain::{auth::accounts::Role, workspace::feedback};
    let Staff { ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let Some(state) = feedback::State::parse(&status) else {
        return fail(AppError::field("status", "Choose new, planned, done or declined."));
    };
    feedback::set_status(&ws, id, state, now())
        .await
        .map_err(AppError::from)
}

/// Adds or takes back the agent's vote.
#[server(endpoint = "w/feedback/vote")]
pub async fn vote(slug: String, id: i64) -> Result<i64, AppError> {
    use crate::context::{Staff, now};
    use domain::{
        auth::accounts::Role,
        workspace::feedback::{self, Voice},
    };
    let Staff { current, ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let voice = Voice::Staff {
        account_id: current.account.id,
        name: current.account.name.clone(),
    };
    feedback::toggle_vote(&ws, id, &voice, now())
        .await
        .map_err(AppError::from)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSettingsView {
    pub slug: String,
    pub is_admin: bool,
    pub brand_color: String,
    pub shared_domains: String,
    /// The public addresses: portal, enquiry form, embeddable form.
    pub portal_url: String,
    pub contact_url: String,
    pub embed_snippet: String,
}

/// The public addresses of a workspace's portal and of its contact form, on the site at `base_url`.
#[cfg(feature = "ssr")]
pub fn portal_addresses(base_url: &str, slug: &str) -> (String, String) {
    let portal = format!("{}/p/{slug}", base_url.trim_end_matches('/'));
    let contact = format!("{portal}/contact");
    (portal, contact)
}

/// The portal's settings and public addresses, for the Settings area.
#[server(endpoint = "w/settings/portal/show")]
pub async fn portal_settings(slug: String) -> Result<PortalSettingsView, AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff {
        membership,
        services,
        ws,
        ..
    } = Staff::require(&slug, Role::Agent).await?;
    let settings = domain::workspace::portal::portal_settings(&ws).await?;
    let base = services.base_url.trim_end_matches('/');
    let embed = format!("{base}/embed/{}/contact", membership.slug);
    let (portal_url, contact_url) = portal_addresses(&services.base_url, &membership.slug);
    Ok(PortalSettingsView {
        slug: membership.slug.clone(),
        is_admin: matches!(membership.role, Role::Owner | Role::Admin),
        brand_color: settings.brand_color.unwrap_or_default(),
        shared_domains: settings.shared_domains.join(", "),
        portal_url,
        contact_url,
        embed_snippet: format!(
            "<iframe src=\"{embed}\" title=\"Contact {}\" style=\"width:100%;min-height:720px;border:0\" loading=\"lazy\"></iframe>",
            crate::portal::api::attr_escape(&membership.name)
        ),
    })
}

/// Saves the portal's colour and the email domains whose customers share tickets (admins).
#[server(endpoint = "w/settings/portal")]
pub async fn save_portal_settings(slug: String, brand_color: String, shared_domains: String) -> Result<(), AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        ws,
        ..
    } = Staff::require(&slug, Role::Admin).await?;
    let keep = |error: AppError| {
        error.keeping(&[
            ("brand_color", brand_color.as_str()),
            ("shared_domains", shared_domains.as_str()),
        ])
    };
    let saved = domain::workspace::portal::set_portal_settings(&ws, &brand_color, &shared_domains)
        .await
        .map_err(|e| keep(AppError::from(e)))?;
    tracing::info!(event = "portal_settings_changed", account = current.account.id, workspace = %membership.workspace_id, shared_domains = saved.shared_domains.len(), "portal settings saved");
    Ok(())
}
