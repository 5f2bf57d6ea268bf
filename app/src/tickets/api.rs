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
use super::support::{category_of, priority_of, row, status_of, tags_of};
#[cfg(feature = "ssr")]
use crate::context::reject;

/// The ticket list: a view's page of tickets (or search results), the counts of the built-in views, and
/// what the filters offer.
#[server(endpoint = "w/tickets")]
pub async fn ticket_list(slug: String, #[server(default)] query: ListQuery) -> Result<ListView, AppError> {
    use crate::context::{Staff, fail, now};
    use domain::auth::accounts::Role;
    use domain::workspace::{
        search,
        tickets::Status,
        views::{self, AssigneeFilter, Cursor, Filter, Sort},
    };
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let me = current.account.id;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let statuses = match text(&query.status).as_deref() {
        None => Vec::new(),
        Some("unsolved") => Status::UNSOLVED.to_vec(),
        Some("solved") => vec![Status::Solved, Status::Closed],
        Some(one) => vec![status_of(one, "status")?],
    };
    let assignee = match text(&query.assignee).as_deref() {
        None => None,
        Some("me") => Some(AssigneeFilter::Account(me)),
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some(id) => {
            Some(AssigneeFilter::Account(id.parse().map_err(|_| {
                reject(AppError::field("assignee", "Choose a member of the team."))
            })?))
        }
    };
    let filter = Filter {
        statuses,
        priority: text(&query.priority).map(|p| priority_of(&p, "priority")).transpose()?,
        assignee,
        category_id: text(&query.category).map(|c| category_of(&c)).transpose()?.flatten(),
        tag: text(&query.tag),
        requester: text(&query.requester),
    };
    let sort = match text(&query.sort) {
        Some(sort) => Sort::parse(&sort).ok_or_else(|| reject(AppError::field("sort", "Choose an order.")))?,
        None => Sort::Updated,
    };
    let (rows, next, searching): (Vec<TicketRow>, Option<String>, bool) = match text(&query.q) {
        Some(q) => {
            let hits = search::search(&ws, &q, 50).await?;
            (
                hits.into_iter().map(|h| row(h.ticket, Some(h.snippet))).collect(),
                None,
                true,
            )
        }
        None => {
            let after = match text(&query.after) {
                Some(cursor) => Some(Cursor::parse(&cursor, sort)?),
                None => None,
            };
            let page = views::list(&ws, &filter, sort, after.as_ref(), 50).await?;
            (
                page.tickets.into_iter().map(|t| row(t, None)).collect(),
                page.next,
                false,
            )
        }
    };
    let panel = views::panel(&ws, me, now()).await?;
    let agents = support::agents(&services, &membership).await?;
    if rows.is_empty() && query.after.is_some() && !searching {
        return fail(AppError::NotFound);
    }
    Ok(ListView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        is_admin: membership.role != Role::Agent,
        counts: support::counts(panel.counts),
        rows,
        next,
        searching,
        agents: support::agent_choices(agents),
        categories: support::category_choices(panel.categories),
        tags: panel.tags,
        saved: panel
            .saved
            .into_iter()
            .map(|v| SavedViewItem {
                id: v.id,
                name: v.name,
                query: v.query,
            })
            .collect(),
        me,
    })
}

/// The built-in views' counts alone (for refreshing the side panel).
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
    use domain::workspace::{attachments, tickets};
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let ticket = tickets::get(&ws, number).await?;
    let thread = tickets::thread(&ws, ticket.id, false).await?;
    let files = attachments::of_ticket(&ws, ticket.id, false).await?;
    let tags = tickets::tags(&ws, ticket.id).await?;
    let categories = tickets::categories(&ws).await?;
    let agents = support::agents(&services, &membership).await?;
    let rating = domain::workspace::ratings::of_ticket(&ws, ticket.id)
        .await?
        .and_then(|r| {
            Some(RatingInfo {
                score: r.rating?,
                comment: r.comment,
                at: support::when(r.updated_at),
            })
        });
    let session = session().await?;
    let key = draft_key(&membership.slug, number);
    let draft: Option<Draft> = session.remove(&key).await.map_err(internal)?;
    let now = now();
    let me = current.account.id;
    let limits = services.attachment_limits;
    let thread = thread
        .into_iter()
        .map(|m| {
            let editable =
                m.author_account_id == Some(me) && m.kind != "event" && now - m.created_at <= tickets::EDIT_WINDOW;
            MessageView {
                id: m.id,
                kind: m.kind,
                author: m.author_name,
                html: m.html,
                at_iso: m.created_at.to_rfc3339(),
                edited: m.edited_at.is_some(),
                editable_body: editable.then_some(m.body),
                attachments: files
                    .iter()
                    .filter(|a| a.message_id == m.id)
                    .map(|a| AttachmentView {
                        id: a.id,
                        name: a.file_name.clone(),
                        size: support::size(a.size),
                        is_image: a.is_image(),
                        url: format!("/w/{}/tickets/{}/files/{}", membership.slug, number, a.id),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(TicketView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        requester_name: ticket.requester_name,
        requester_email: ticket.requester_email,
        assignee_id: ticket.assignee_account_id,
        category_id: ticket.category_id,
        tags,
        created: support::when(ticket.created_at),
        thread,
        agents: support::agent_choices(agents),
        categories: support::category_choices(categories),
        me,
        draft,
        limits: format!(
            "Up to {} files, {} each, {} together.",
            limits.files_per_message,
            support::size(limits.per_file as i64),
            support::size(limits.per_message as i64)
        ),
        rating,
    })
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
    use crate::context::{Staff, fail, now, redirect};
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
    let checked = (|| -> Result<NewTicket, AppError> {
        Ok(NewTicket {
            requester_email: requester_email.clone(),
            requester_name: requester_name.clone().unwrap_or_default(),
            subject: subject.clone(),
            body: body.clone(),
            priority: priority
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| priority_of(p, "priority"))
                .transpose()?,
            category_id: category_of(category.as_deref().unwrap_or(""))?,
            tags: tags_of(tags.as_deref().unwrap_or(""), "tags")?,
            assignee: support::assignee(assignee.as_deref().unwrap_or(""), &current, &members, "assignee")?,
        })
    })();
    let new = match checked {
        Ok(new) => new,
        Err(error) => return fail(keep(error)),
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
        status: Some(status_of(&status, "status")?),
        priority: Some(priority_of(&priority, "priority")?),
        assignee: Some(support::assignee(&assignee, &current, &members, "assignee")?),
        category_id: Some(category_of(&category)?),
        tags: Some(tags_of(&tags, "tags").map_err(|e| e.keeping(&[("tags", tags.as_str())]))?),
        add_tags: Vec::new(),
    };
    let ticket = tickets::get(&ws, number).await?;
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
    let me = support::assignee("me", &current, &members, "assignee")?;
    let ticket = tickets::get(&ws, number).await?;
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
        status: some(&status).map(|s| status_of(&s, "bulk_status")).transpose()?,
        priority: some(&priority).map(|p| priority_of(&p, "bulk_priority")).transpose()?,
        assignee: some(&assignee)
            .map(|a| support::assignee(&a, &current, &members, "bulk_assignee"))
            .transpose()?,
        add_tags: tags_of(add_tag.as_deref().unwrap_or(""), "add_tag")?,
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
    let ticket = tickets::get(&ws, number).await?;
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
    // Only the filters a list URL understands are kept.
    let query: String = query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            [
                "status",
                "priority",
                "assignee",
                "category",
                "tag",
                "requester",
                "sort",
                "q",
            ]
            .contains(&key)
        })
        .collect::<Vec<_>>()
        .join("&");
    views::save_view(&ws, current.account.id, &name, &query, now())
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Form { message, .. } => AppError::field("name", message).keeping(&[("name", name.as_str())]),
            other => other,
        })?;
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
