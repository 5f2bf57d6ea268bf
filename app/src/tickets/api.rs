//! Server functions of the agents' ticket pages. Each one resolves the workspace from the signed-in
//! person's memberships (a ticket number of another workspace is simply not found) and works only in that
//! workspace's own database.
// Form posts arrive as one argument per field; the functions the `server` macro generates for the browser
// take the same list.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use super::types::*;

#[cfg(feature = "ssr")]
pub use super::support;
#[cfg(feature = "ssr")]
use domain::form;

/// The ticket list: a view's page of tickets (or search results) and what the filters offer. The views'
/// counts and the saved views are the navigation's ([`crate::layout::api::shell_state`]).
#[server(endpoint = "w/tickets")]
pub async fn ticket_list(slug: String, #[server(default)] query: ListQuery) -> Result<ListView, AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let me = current.account.id;
    let listing = domain::workspace::views::listing(&ws, &query, vocab::AccountId(me)).await?;
    let agents = support::agents(&services, &membership).await?;
    Ok(support::list_view(&membership, listing, agents, me))
}

/// The built-in views' counts alone, as data (the navigation shows them as HTML, [`crate::layout::api::shell_state`]).
#[server(endpoint = "w/tickets/counts")]
pub async fn ticket_counts(slug: String) -> Result<ViewCounts, AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    let Staff { current, ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let counts = domain::workspace::views::counts(&ws, current.account.id, now()).await?;
    Ok(support::counts(counts))
}

/// One ticket with its whole thread (notes included: this is the agents' page).
#[server(endpoint = "w/ticket")]
pub async fn ticket_page(slug: String, number: i64) -> Result<TicketView, AppError> {
    use crate::context::{Staff, internal, now, session};
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let me = current.account.id;
    let page =
        domain::workspace::ticket_page::page(&ws, vocab::TicketNumber(number), vocab::AccountId(me), now()).await?;
    let agents = support::agents(&services, &membership).await?;
    let session = session().await?;
    let draft: Option<Draft> = session
        .remove(&draft_key(&membership.slug, number))
        .await
        .map_err(internal)?;
    Ok(support::ticket_view(
        &membership,
        page,
        agents,
        me,
        draft,
        services.attachment_limits,
    ))
}

/// Opens a ticket for a requester (found or created by address) and goes to it.
#[server(endpoint = "w/tickets/create")]
pub async fn create_ticket(
    slug: String,
    requester_email: String,
    requester_name: Option<String>,
    subject: String,
    body: String,
    priority: Option<String>,
    category: Option<String>,
    assignee: Option<String>,
    tags: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{Staff, now, redirect};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, NewTicket};
    let keep = |error: AppError| {
        error.keeping(&[
            ("requester_email", requester_email.as_str()),
            ("requester_name", requester_name.as_deref().unwrap_or("")),
            ("subject", subject.as_str()),
            ("body", body.as_str()),
            ("tags", tags.as_deref().unwrap_or("")),
        ])
    };
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let members = support::agents(&services, &membership).await?;
    let checked = (|| -> Result<NewTicket, domain::Error> {
        Ok(NewTicket {
            requester_email: requester_email.clone(),
            requester_name: requester_name.clone().unwrap_or_default(),
            subject: subject.clone(),
            body: body.clone(),
            priority: priority
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| form::priority(p, "priority"))
                .transpose()?,
            category_id: form::category(category.as_deref().unwrap_or(""))?,
            tags: form::tags(tags.as_deref().unwrap_or(""), "tags")?,
            assignee: form::assignee(
                assignee.as_deref().unwrap_or(""),
                vocab::AccountId(current.account.id),
                &members,
                "assignee",
            )?,
        })
    })();
    let new = match checked {
        Ok(new) => new,
        Err(error) => return Err(keep(error.into())),
    };
    let actor = support::request_actor(&services, &current, &membership);
    let ticket = match tickets::create(&ws, &actor, &new, now()).await {
        Ok(ticket) => ticket,
        Err(error) => return Err(keep(error.into())),
    };
    support::relay(&services, &ws).await;
    redirect(&format!("/w/{}/tickets/{}", membership.slug, ticket.number));
    Ok(())
}

/// Changes a ticket's fields from its side panel; each real change becomes an event in the thread.
#[server(endpoint = "w/ticket/update")]
pub async fn update_ticket(
    slug: String,
    number: i64,
    status: String,
    priority: String,
    assignee: String,
    category: String,
    tags: String,
    subject: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let members = support::agents(&services, &membership).await?;
    let changes = Changes {
        subject: subject.filter(|s| !s.trim().is_empty()),
        status: Some(form::status(&status, "status")?),
        priority: Some(form::priority(&priority, "priority")?),
        assignee: Some(form::assignee(
            &assignee,
            vocab::AccountId(current.account.id),
            &members,
            "assignee",
        )?),
        category_id: Some(form::category(&category)?),
        tags: Some(form::tags(&tags, "tags").map_err(|e| AppError::from(e).keeping(&[("tags", tags.as_str())]))?),
        add_tags: Vec::new(),
    };
    let ticket = tickets::get(&ws, vocab::TicketNumber(number)).await?;
    let actor = support::request_actor(&services, &current, &membership);
    tickets::update(&ws, &actor, ticket.id, &changes, now()).await?;
    support::relay(&services, &ws).await;
    Ok(())
}

/// Assigns the ticket to the caller.
#[server(endpoint = "w/ticket/take")]
pub async fn assign_to_me(slug: String, number: i64) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let members = support::agents(&services, &membership).await?;
    let me = form::assignee("me", vocab::AccountId(current.account.id), &members, "assignee")?;
    let ticket = tickets::get(&ws, vocab::TicketNumber(number)).await?;
    let actor = support::request_actor(&services, &current, &membership);
    let changes = Changes {
        assignee: Some(me),
        ..Changes::default()
    };
    tickets::update(&ws, &actor, ticket.id, &changes, now()).await?;
    support::relay(&services, &ws).await;
    Ok(())
}

/// Applies one change to the selected tickets of the list (all or none), then goes back to the list.
#[server(endpoint = "w/tickets/bulk")]
pub async fn bulk_update(
    slug: String,
    ids: Option<Vec<i64>>,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    add_tag: Option<String>,
    back: Option<String>,
) -> Result<usize, AppError> {
    use crate::context::{Staff, fail, now, redirect, safe_next};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let ids = ids.unwrap_or_default();
    if ids.is_empty() {
        return fail(AppError::field("ids", "Select at least one ticket."));
    }
    let members = support::agents(&services, &membership).await?;
    let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let changes = Changes {
        status: some(&status).map(|s| form::status(&s, "bulk_status")).transpose()?,
        priority: some(&priority)
            .map(|p| form::priority(&p, "bulk_priority"))
            .transpose()?,
        assignee: some(&assignee)
            .map(|a| form::assignee(&a, vocab::AccountId(current.account.id), &members, "bulk_assignee"))
            .transpose()?,
        add_tags: form::tags(add_tag.as_deref().unwrap_or(""), "add_tag")?,
        ..Changes::default()
    };
    if changes.status.is_none()
        && changes.priority.is_none()
        && changes.assignee.is_none()
        && changes.add_tags.is_empty()
    {
        return fail(AppError::form("Choose what to change."));
    }
    let actor = support::request_actor(&services, &current, &membership);
    let changed = tickets::update_many(&ws, &actor, &ids, &changes, now()).await?;
    support::relay(&services, &ws).await;
    if let Some(back) = safe_next(back.as_deref()).filter(|b| b.starts_with(&format!("/w/{}/tickets", membership.slug)))
    {
        redirect(&back);
    }
    Ok(changed)
}

/// Corrects one of the caller's own messages within the edit window.
#[server(endpoint = "w/ticket/edit")]
pub async fn edit_message(slug: String, number: i64, message_id: i64, body: String) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    // The message must belong to this ticket: the domain looks it up by both ids.
    let ticket = tickets::get(&ws, vocab::TicketNumber(number)).await?;
    let actor = support::request_actor(&services, &current, &membership);
    tickets::edit_message(&ws, &actor, ticket.id, message_id, &body, now())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("body", body.as_str())]))?;
    Ok(())
}

/// Saves the list's current filters under a name, for the caller only.
#[server(endpoint = "w/views/save")]
pub async fn save_view(slug: String, name: String, query: String) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    use domain::workspace::views;
    let Staff { current, ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let query = ListQuery::filters_of(&query);
    views::save_view(&ws, current.account.id, &name, &query, now())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("name", name.as_str())]))?;
    Ok(())
}

#[server(endpoint = "w/views/delete")]
pub async fn delete_view(slug: String, id: i64) -> Result<(), AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff { current, ws, .. } = Staff::require(&slug, Role::Agent).await?;
    domain::workspace::views::delete_view(&ws, current.account.id, id)
        .await
        .map_err(AppError::from)
}

/// The workspace's categories, by name.
#[server(endpoint = "w/categories")]
pub async fn categories(slug: String) -> Result<Vec<Choice>, AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff { ws, .. } = Staff::require(&slug, Role::Agent).await?;
    let categories = domain::workspace::tickets::categories(&ws).await?;
    Ok(support::category_choices(categories))
}

/// Adds a category (owners and admins).
#[server(endpoint = "w/categories/create")]
pub async fn create_category(slug: String, name: String) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Admin).await?;
    let actor = support::request_actor(&services, &current, &membership);
    domain::workspace::tickets::create_category(&ws, &actor, &name, now())
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Form { message, .. } => {
                AppError::field("category_name", message).keeping(&[("category_name", name.as_str())])
            }
            other => other,
        })?;
    Ok(())
}

/// Removes a category (owners and admins); its tickets keep no category.
#[server(endpoint = "w/categories/delete")]
pub async fn delete_category(slug: String, id: i64) -> Result<(), AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Admin).await?;
    let actor = support::request_actor(&services, &current, &membership);
    domain::workspace::tickets::delete_category(&ws, &actor, id, now())
        .await
        .map_err(AppError::from)
}

/// What the new-ticket form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicketView {
    pub slug: String,
    pub workspace: String,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub me: i64,
}

#[server(endpoint = "w/tickets/new")]
pub async fn new_ticket_form(slug: String) -> Result<NewTicketView, AppError> {
    use crate::context::Staff;
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let categories = domain::workspace::tickets::categories(&ws).await?;
    let agents = support::agents(&services, &membership).await?;
    Ok(NewTicketView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        agents: support::agent_choices(agents),
        categories: support::category_choices(categories),
        me: current.account.id,
    })
}
