//! Server functions of the customer side: the portal (magic-link sign-in, the customer's tickets), the public
//! enquiry form and the rating page. None of them reads a staff sign-in, and no staff function reads a
//! portal sign-in: the two live under different session keys and different checks.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The workspace as its public pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalTicketRow {
    pub number: i64,
    pub subject: String,
    pub status: vocab::Status,
    pub updated: String,
    /// Set when the ticket is a colleague's (organization sharing).
    pub requester: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub votes: i64,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalHomeView {
    pub brand: Brand,
    /// The signed-in customer's name and address; `None` shows the sign-in form.
    pub customer: Option<(String, String)>,
    pub tickets: Vec<PortalTicketRow>,
    pub feedback: Vec<FeedbackRow>,
    /// A refused form of this page (new request, feedback), kept in the session: what was typed and why.
    pub draft: Option<PortalDraft>,
    /// Attachment limits in words.
    pub limits: String,
}

/// A refused multipart form's fields and error, for the page to show again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalDraft {
    pub form: String,
    pub fields: Vec<(String, String)>,
    pub field: Option<String>,
    pub error: String,
}

impl PortalDraft {
    pub fn value(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The error, if it is about `field` (or about the form as a whole when `field` is `None`).
    pub fn error_for(&self, field: Option<&str>) -> Option<String> {
        (self.field.as_deref() == field && !self.error.is_empty()).then(|| self.error.clone())
    }
}

/// The session key of a refused portal form's draft.
pub fn draft_key(slug: &str, form: &str) -> String {
    format!("portal-draft:{slug}:{form}")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalMessage {
    pub id: i64,
    /// A reply or an event; internal notes never reach the portal.
    pub kind: vocab::MessageKind,
    /// The author's name only: agents' addresses stay inside the team.
    pub author: String,
    pub html: String,
    pub at: String,
    pub attachments: Vec<crate::tickets::api::AttachmentView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalTicketView {
    pub brand: Brand,
    pub number: i64,
    pub subject: String,
    pub status: vocab::Status,
    pub requester: String,
    pub messages: Vec<PortalMessage>,
    pub rating: Option<String>,
    pub draft: Option<PortalDraft>,
    pub limits: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingView {
    pub brand: Brand,
    pub number: i64,
    pub subject: String,
    pub rating: Option<String>,
    pub comment: String,
    pub until: String,
}

#[cfg(feature = "ssr")]
fn brand(workspace: &domain::Workspace) -> Brand {
    Brand {
        slug: workspace.slug.clone(),
        name: workspace.name.clone(),
    }
}

#[cfg(feature = "ssr")]
fn feedback_rows(items: Vec<domain::workspace::feedback::Item>) -> Vec<FeedbackRow> {
    items
        .into_iter()
        .map(|i| FeedbackRow {
            id: i.id,
            kind: i.kind,
            title: i.title,
            status: i.status,
            votes: i.votes,
            created: i.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect()
}

/// The portal's front page: the sign-in form, or the signed-in customer's tickets and feedback.
#[server(endpoint = "p/home")]
pub async fn portal_home(slug: String) -> Result<PortalHomeView, AppError> {
    use crate::context::{internal, portal_in, public_workspace, services, session};
    use domain::workspace::{feedback, portal};
    let services = services()?;
    let session = session().await?;
    let limits = crate::tickets::support::limits_text(services.attachment_limits);
    let Some(me) = portal_in(&services, &session, &slug).await? else {
        let (workspace, _) = public_workspace(&services, &slug).await?;
        return Ok(PortalHomeView {
            brand: brand(&workspace),
            customer: None,
            tickets: Vec::new(),
            feedback: Vec::new(),
            draft: None,
            limits,
        });
    };
    let tickets = portal::tickets_of(&me.ws, &me.customer, &me.portal)
        .await?
        .into_iter()
        .map(|t| PortalTicketRow {
            number: t.number,
            subject: t.subject,
            status: t.status,
            updated: t.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            requester: (t.requester_id != me.customer.id).then_some(t.requester_name),
        })
        .collect();
    let items = feedback::of_customer(&me.ws, me.customer.id).await?;
    let draft: Option<PortalDraft> = session.remove(&draft_key(&slug, "home")).await.map_err(internal)?;
    Ok(PortalHomeView {
        brand: brand(&me.workspace),
        customer: Some((me.customer.name.clone(), me.customer.email.clone())),
        tickets,
        feedback: feedback_rows(items),
        draft,
        limits,
    })
}

/// Emails a sign-in link for the portal. The answer is the same for every well-formed address.
#[server(endpoint = "p/signin/link")]
pub async fn portal_request_link(slug: String, email: String, turnstile: Option<String>) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, limit_mail, now, public_workspace, redirect, services};
    let services = services()?;
    let keep = |error: AppError| error.keeping(&[("email", email.as_str())]);
    limit_ip(&services, "portal_link")?;
    crate::context::turnstile(&services, turnstile.as_deref())
        .await
        .map_err(keep)?;
    if let Err(refused) = vocab::EmailAddress::parse(&email) {
        return fail(keep(AppError::field("email", refused.to_string())));
    }
    limit_mail(&services, &email).map_err(keep)?;
    let (workspace, _) = public_workspace(&services, &slug).await?;
    domain::auth::portal::request_link(services.landlord(), &workspace, &email, &services.base_url, now()).await?;
    tracing::info!(event = "link_requested", kind = "portal", workspace = %workspace.id, "portal link requested");
    redirect(&format!("/p/{}?sent=1", workspace.slug));
    Ok(())
}

/// Whether a portal link is still good (the confirm page asks before showing its button).
#[server(endpoint = "p/signin/check")]
pub async fn portal_check_link(slug: String, token: String) -> Result<Brand, AppError> {
    use crate::context::{fail, limit_ip, now, public_workspace, services};
    let services = services()?;
    limit_ip(&services, "portal_link_check")?;
    let (workspace, _) = public_workspace(&services, &slug).await?;
    match domain::auth::portal::peek_link(services.landlord(), workspace.id, &token, now()).await {
        Ok(_) => Ok(brand(&workspace)),
        Err(domain::Error::NotFound) => fail(AppError::form(
            "This link has expired or was used already. Ask for a new one below.",
        )),
        Err(other) => Err(AppError::from(other)),
    }
}

/// Uses a portal link (only this POST from the confirm page does) and signs the customer in.
#[server(endpoint = "p/signin/redeem")]
pub async fn portal_redeem_link(slug: String, token: String) -> Result<(), AppError> {
    use crate::context::{begin_portal, fail, limit_ip, now, public_workspace, redirect, services};
    let services = services()?;
    limit_ip(&services, "portal_link_redeem")?;
    let (workspace, ws) = public_workspace(&services, &slug).await?;
    let email = match domain::auth::portal::redeem_link(services.landlord(), workspace.id, &token, now()).await {
        Ok(email) => email,
        Err(domain::Error::NotFound) => {
            tracing::warn!(event = "portal_link_refused", workspace = %workspace.id, "expired, used or unknown portal link");
            return fail(AppError::form(
                "This link has expired or was used already. Ask for a new one below.",
            ));
        }
        Err(other) => return Err(AppError::from(other)),
    };
    let customer = domain::workspace::portal::customer_for_sign_in(&ws, &email, now()).await?;
    begin_portal(&workspace, customer.id).await?;
    redirect(&format!("/p/{}", workspace.slug));
    Ok(())
}

/// Signs the customer out of the portal.
#[server(endpoint = "p/signout")]
pub async fn portal_sign_out(slug: String) -> Result<(), AppError> {
    use crate::context::{end_portal, redirect};
    end_portal().await?;
    redirect(&format!("/p/{}", crate::tickets::api::encode(&slug)));
    Ok(())
}

/// One of the customer's tickets, public messages only.
#[server(endpoint = "p/ticket")]
pub async fn portal_ticket(slug: String, number: i64) -> Result<PortalTicketView, AppError> {
    use crate::context::{internal, require_portal, services, session};
    use crate::tickets::api::support::size;
    use domain::workspace::{attachments, portal, ratings, tickets};
    let services = services()?;
    let me = require_portal(&slug).await?;
    let ticket = portal::ticket(&me.ws, &me.customer, &me.portal, number).await?;
    let thread = tickets::thread(&me.ws, ticket.id, true).await?;
    let files = attachments::of_ticket(&me.ws, ticket.id, true).await?;
    let rating = ratings::of_ticket(&me.ws, ticket.id).await?.and_then(|r| r.rating);
    let draft: Option<PortalDraft> = session()
        .await?
        .remove(&draft_key(&slug, &format!("ticket-{number}")))
        .await
        .map_err(internal)?;
    let messages = thread
        .into_iter()
        .map(|m| PortalMessage {
            id: m.id,
            kind: m.kind,
            author: m.author_name,
            html: m.html,
            at: m.created_at.format("%Y-%m-%d %H:%M").to_string(),
            attachments: files
                .iter()
                .filter(|a| a.message_id == m.id)
                .map(|a| crate::tickets::api::AttachmentView {
                    id: a.id,
                    name: a.file_name.clone(),
                    size: size(a.size),
                    is_image: a.is_image(),
                    url: format!("/p/{}/tickets/{}/files/{}", me.workspace.slug, number, a.id),
                })
                .collect(),
        })
        .collect();
    Ok(PortalTicketView {
        brand: brand(&me.workspace),
        number: ticket.number,
        subject: ticket.subject,
        status: ticket.status,
        requester: ticket.requester_name,
        messages,
        rating,
        draft,
        limits: crate::tickets::support::limits_text(services.attachment_limits),
    })
}

/// The customer closes one of their tickets.
#[server(endpoint = "p/ticket/close")]
pub async fn portal_close(slug: String, number: i64) -> Result<(), AppError> {
    use crate::context::{client_ip, now, redirect, require_portal, services};
    let services = services()?;
    let me = require_portal(&slug).await?;
    let actor = me.actor(&services, client_ip().map(|ip| ip.to_string()));
    domain::workspace::portal::close(&me.ws, &actor, &me.customer, &me.portal, number, now()).await?;
    services.relayer.soon(&me.ws);
    redirect(&format!("/p/{}/tickets/{number}", me.workspace.slug));
    Ok(())
}

/// The workspace's name for a public page (the enquiry form).
#[server(endpoint = "p/brand")]
pub async fn portal_brand(slug: String) -> Result<Brand, AppError> {
    use crate::context::{public_workspace, services};
    let (workspace, _) = public_workspace(&services()?, &slug).await?;
    Ok(brand(&workspace))
}

/// The public enquiry form. Limits per address (every request, then accepted enquiries per hour and day),
/// Turnstile, the fields, the sender's mail domain (when DNS answers) and the workspace's daily cap are all
/// checked before anything is written; then the enquiry becomes a ticket and the sender gets a
/// confirmation.
#[server(endpoint = "p/enquiry")]
pub async fn submit_enquiry(
    slug: String,
    name: String,
    email: String,
    company: Option<String>,
    phone: Option<String>,
    message: String,
    turnstile: Option<String>,
    embed: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{client_ip, client_ip_key, limit_ip, now, public_workspace, redirect, services};
    use domain::workspace::{enquiries::Rules, portal::Enquiry, tickets::Actor};
    let services = services()?;
    let enquiry = Enquiry {
        name,
        email,
        company: company.unwrap_or_default(),
        phone: phone.unwrap_or_default(),
        message,
    };
    // A refused enquiry keeps what was typed (in the session) for the form to show again.
    let keep = |error: AppError| error.keeping(&enquiry.typed());
    limit_ip(&services, "enquiry")?;
    let rules = Rules {
        limits: &services.enquiry_limits,
        mx: services.mx.as_ref(),
    };
    let ip_key = format!("enquiry:{}", client_ip_key());
    rules.admit(&ip_key, now()).map_err(|e| keep(e.into()))?;
    crate::context::turnstile(&services, turnstile.as_deref())
        .await
        .map_err(keep)?;
    rules.check(&enquiry).await.map_err(|e| keep(e.into()))?;
    let (workspace, ws) = public_workspace(&services, &slug).await?;
    let actor = Actor::system(&workspace, &services.base_url, client_ip().map(|ip| ip.to_string()));
    rules
        .take(&ws, &enquiry, &ip_key, &actor, now())
        .await
        .map_err(|e| keep(e.into()))?;
    services.relayer.soon(&ws);
    let embedded = embed.is_some_and(|e| !e.is_empty());
    if embedded {
        // The owner's checklist ticks "put the contact form on your site".
        domain::workspace::home::note_embedded_form_used(&ws, now()).await?;
    }
    let base = if embedded { "embed" } else { "p" };
    redirect(&format!("/{base}/{}/contact?sent=1", workspace.slug));
    Ok(())
}

/// The rating page: what the token rates, if it is still good.
#[server(endpoint = "p/rate/show")]
pub async fn rating_page(slug: String, token: String) -> Result<RatingView, AppError> {
    use crate::context::{fail, limit_ip, now, public_workspace, services};
    let services = services()?;
    limit_ip(&services, "rating")?;
    let (workspace, ws) = public_workspace(&services, &slug).await?;
    match domain::workspace::ratings::peek(&ws, &token, now()).await {
        Ok(pending) => Ok(RatingView {
            brand: brand(&workspace),
            number: pending.ticket_number,
            subject: pending.subject,
            rating: pending.rating.map(|r| r.as_str().to_owned()),
            comment: pending.comment,
            until: pending.expires_at.format("%Y-%m-%d").to_string(),
        }),
        Err(domain::Error::NotFound) => fail(AppError::form(
            "This rating link has expired or was used already. Links work for 7 days after a request is solved.",
        )),
        Err(other) => Err(AppError::from(other)),
    }
}

/// Records a rating with a live token and goes to the page of the token that can change it.
#[server(endpoint = "p/rate")]
pub async fn rate(slug: String, token: String, rating: String, comment: Option<String>) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, now, public_workspace, redirect, services};
    use domain::workspace::ratings::{self, Score};
    let services = services()?;
    let comment = comment.unwrap_or_default();
    let keep = |error: AppError| error.keeping(&[("comment", comment.as_str())]);
    limit_ip(&services, "rating")?;
    let Some(score) = Score::parse(&rating) else {
        return fail(keep(AppError::field("rating", "Choose good or bad.")));
    };
    let (workspace, ws) = public_workspace(&services, &slug).await?;
    match ratings::rate(&ws, &token, score, &comment, now()).await {
        Ok(next) => {
            tracing::info!(event = "ticket_rated", workspace = %workspace.id, rating = score.as_str(), "rating recorded");
            redirect(&format!("/p/{}/rate/{next}?thanks=1", workspace.slug));
            Ok(())
        }
        Err(domain::Error::NotFound) => fail(AppError::form(
            "This rating link has expired or was used already. Links work for 7 days after a request is solved.",
        )),
        Err(other) => Err(keep(AppError::from(other))),
    }
}

/// Escapes text for an HTML attribute or element (the embed snippet shown to admins).
#[cfg(feature = "ssr")]
pub fn attr_escape(text: &str) -> String {
    domain::workspace::markdown::escape(text)
}
