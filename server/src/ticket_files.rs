//! A ticket's reply-and-note composer (a multipart form, because it carries files) and attachment
//! downloads. Plain axum handlers, since server functions take no files without JavaScript; they check the
//! session and the membership exactly as the server functions do.

use crate::{
    multipart::{self, json_error, wants_html},
    startup::AppState,
};
use app::{context, error::AppError, tickets::api};
use axum::{
    extract::{Multipart, Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use domain::{
    auth::accounts::Role,
    client_ip::ClientIp,
    workspace::{
        attachments,
        tickets::{self, Kind, Status},
    },
};
use tower_sessions::Session;

/// `POST /w/{slug}/tickets/{number}/reply`: a reply or an internal note, with files.
///
/// A browser is sent back to the ticket: on success to the new message, on refusal to the composer, which
/// shows the error and what was written (kept in the session). Other clients get 201 or the error's status
/// with the error as JSON (413 for files over the limits).
pub async fn reply(
    State(state): State<AppState>,
    session: Session,
    client: Option<axum::Extension<ClientIp>>,
    Path((slug, number)): Path<(String, i64)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let services = &state.services;
    let back = format!("/w/{slug}/tickets/{number}");
    let (current, membership) = match multipart::agent(services, &session, &slug, &back, html).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = multipart::read(multipart, &["files"]).await;
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        let kind = match form.text("kind") {
            "note" => Kind::Note,
            "reply" | "" => Kind::Reply,
            _ => return Err(AppError::field("kind", "Choose a public reply or an internal note.")),
        };
        let status = match form.text("status") {
            "" => None,
            s => Some(Status::parse(s).ok_or_else(|| AppError::field("status", "Choose a status."))?),
        };
        let ws = context::open_workspace(services, &membership).await?;
        let ticket = tickets::get(&ws, tickets::TicketNumber(number)).await?;
        let ip = client.map(|c| c.0.0.to_string());
        let actor = api::support::actor(services, &current, &membership, ip);
        let id = attachments::add_message_with_files(
            &ws,
            services.files.as_ref(),
            &actor,
            ticket.id,
            kind,
            form.text("body"),
            status,
            &form.files_of("files"),
            services.attachment_limits,
            context::now(),
        )
        .await?;
        api::support::relay(services, &ws).await;
        Ok(id)
    }
    .await;
    match (result, html) {
        (Ok(id), true) => Redirect::to(&format!("{back}#m{id}")).into_response(),
        (Ok(id), false) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "message_id": id }))).into_response(),
        (Err(AppError::NotFound), true) => Redirect::to(&back).into_response(),
        (Err(error), true) => {
            let (body, kind) = form
                .map(|f| (f.text("body").to_owned(), f.text("kind").to_owned()))
                .unwrap_or_default();
            let mut message = error.to_string();
            if matches!(error, AppError::TooLarge(_)) || message.contains("attached") {
                message.push_str(" Your message is kept; choose the files again.");
            }
            let draft = api::Draft {
                body,
                kind,
                error: message,
            };
            if let Err(error) = session.insert(&api::draft_key(&slug, number), draft).await {
                tracing::error!(%error, "could not keep a refused reply's draft");
            }
            Redirect::to(&format!("{back}#reply")).into_response()
        }
        (Err(error), false) => json_error(error),
    }
}

/// `GET /w/{slug}/tickets/{number}/files/{id}`: an attachment, for members of the workspace only.
///
/// Always `attachment` with a safe name, except images (never SVG) asked for `?inline=1` as thumbnails;
/// `nosniff` and a sandboxing CSP keep any file inert even if a browser tried to render it.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((slug, number, id)): Path<(String, i64, i64)>,
    Query(query): Query<multipart::FileQuery>,
) -> Response {
    let services = &state.services;
    let result = async {
        let (_, membership) = context::member_in(services, &session, &slug, Role::Agent).await?;
        let ws = context::open_workspace(services, &membership).await?;
        let ticket = tickets::get(&ws, tickets::TicketNumber(number)).await?;
        attachments::open(&ws, services.files.as_ref(), ticket.id, id)
            .await
            .map_err(AppError::from)
    }
    .await;
    let (attachment, bytes) = match result {
        Ok(found) => found,
        Err(error) => return (error.status(), error.to_string()).into_response(),
    };
    multipart::attachment_response(&attachment, bytes, &query)
}
