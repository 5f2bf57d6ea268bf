//! A ticket's reply-and-note composer (a multipart form, because it carries files) and attachment
//! downloads. Plain axum handlers, since server functions take no files without JavaScript; they check the
//! session and the membership exactly as the server functions do.

use crate::startup::AppState;
use app::{error::AppError, server, tickets::api};
use axum::{
    extract::{Multipart, Path, Query, State, multipart::MultipartError},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use domain::{
    auth::accounts::Role,
    client_ip::ClientIp,
    workspace::{
        attachments::{self, Upload},
        tickets::{self, Kind, Status},
    },
};
use tower_sessions::Session;

/// What the composer posted.
#[derive(Default)]
struct Composed {
    kind: String,
    body: String,
    status: String,
    files: Vec<Upload>,
}

async fn read_form(mut multipart: Multipart) -> Result<Composed, AppError> {
    let mut form = Composed::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or("") {
            "kind" => form.kind = field.text().await.map_err(multipart_error)?,
            "body" => form.body = field.text().await.map_err(multipart_error)?,
            "status" => form.status = field.text().await.map_err(multipart_error)?,
            "files" => {
                let file_name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                // A browser sends an empty part when no file was chosen.
                if !(file_name.is_empty() && bytes.is_empty()) {
                    form.files.push(Upload {
                        file_name,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(form)
}

fn multipart_error(error: MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("These files are larger than a message may carry.".into())
    } else {
        AppError::Request(format!("The form could not be read: {}", error.body_text()))
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Form { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Request(_) => StatusCode::BAD_REQUEST,
    }
}

fn json_error(error: AppError) -> Response {
    (status_of(&error), axum::Json(error)).into_response()
}

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
    let (current, membership) = match server::member_in(services, &session, &slug, Role::Agent).await {
        Ok(found) => found,
        Err(AppError::Unauthorized) if html => {
            return Redirect::to(&format!("/signin?next={}", api::encode(&back))).into_response();
        }
        Err(error) => return json_error(error),
    };
    let form = read_form(multipart).await;
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        let kind = match form.kind.as_str() {
            "note" => Kind::Note,
            "reply" | "" => Kind::Reply,
            _ => return Err(AppError::field("kind", "Choose a public reply or an internal note.")),
        };
        let status = match form.status.as_str() {
            "" => None,
            s => Some(Status::parse(s).ok_or_else(|| AppError::field("status", "Choose a status."))?),
        };
        let ws = api::support::open(services, &membership).await?;
        let ticket = tickets::get(&ws, number).await.map_err(server::from_domain)?;
        let ip = client.map(|c| c.0.0.to_string());
        let actor = api::support::actor(services, &current, &membership, ip);
        let id = attachments::add_message_with_files(
            &ws,
            services.files.as_ref(),
            &actor,
            ticket.id,
            kind,
            &form.body,
            status,
            &form.files,
            services.attachment_limits,
            server::now(),
        )
        .await
        .map_err(server::from_domain)?;
        api::support::relay(services, &ws).await;
        Ok(id)
    }
    .await;
    match (result, html) {
        (Ok(id), true) => Redirect::to(&format!("{back}#m{id}")).into_response(),
        (Ok(id), false) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "message_id": id }))).into_response(),
        (Err(AppError::NotFound), true) => Redirect::to(&back).into_response(),
        (Err(error), true) => {
            let (body, kind) = form.map(|f| (f.body, f.kind)).unwrap_or_default();
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

#[derive(serde::Deserialize)]
pub struct FileQuery {
    inline: Option<String>,
}

/// `GET /w/{slug}/tickets/{number}/files/{id}`: an attachment, for members of the workspace only.
///
/// Always `attachment` with a safe name, except images (never SVG) asked for `?inline=1` as thumbnails;
/// `nosniff` and a sandboxing CSP keep any file inert even if a browser tried to render it.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((slug, number, id)): Path<(String, i64, i64)>,
    Query(query): Query<FileQuery>,
) -> Response {
    let services = &state.services;
    let result = async {
        let (_, membership) = server::member_in(services, &session, &slug, Role::Agent).await?;
        let ws = api::support::open(services, &membership).await?;
        let ticket = tickets::get(&ws, number).await.map_err(server::from_domain)?;
        attachments::open(&ws, services.files.as_ref(), ticket.id, id)
            .await
            .map_err(server::from_domain)
    }
    .await;
    let (attachment, bytes) = match result {
        Ok(found) => found,
        Err(error) => return (status_of(&error), error.to_string()).into_response(),
    };
    let inline = query.inline.is_some() && attachment.is_image();
    let content_type = match attachment.content_type.as_str() {
        "text/plain" => "text/plain; charset=utf-8".to_owned(),
        other => other.to_owned(),
    };
    let disposition = attachments::content_disposition(&attachment.file_name, inline);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let value =
        |v: &str| HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, value(&content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
