//! The customer side's handlers that are not server functions: the portal's forms with files (new request,
//! answer, feedback with a screenshot), its file downloads, the team's feedback form, screenshots, and the
//! workspace's brand stylesheet.
//!
//! Portal handlers check the portal sign-in of the workspace in the path (never a staff sign-in); what the
//! customer may not see answers 404 exactly like what does not exist.

use crate::{
    multipart::{self, Posted, file_response, json_error, wants_html},
    startup::AppState,
};
use app::{
    context::{self, PortalCurrent},
    error::AppError,
    portal::api::{PortalDraft, draft_key},
    tickets::api::{self as tickets_api},
};
use axum::{
    extract::{Multipart, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use domain::{
    auth::accounts::Role,
    client_ip::ClientIp,
    workspace::{
        attachments,
        feedback::{self, NewItem, Voice},
        portal,
        tickets::{Kind, NewTicket},
    },
};
use tower_sessions::Session;

type Client = Option<axum::Extension<ClientIp>>;

fn ip(client: &Client) -> Option<String> {
    client.as_ref().map(|c| c.0.0.to_string())
}

/// The portal sign-in for `slug`, or the answer for a visitor without one.
async fn customer(state: &AppState, session: &Session, slug: &str, html: bool) -> Result<PortalCurrent, Response> {
    match context::portal_in(&state.services, session, slug).await {
        Ok(Some(me)) => Ok(me),
        Ok(None) if html => Err(Redirect::to(&format!("/p/{}", tickets_api::encode(slug))).into_response()),
        Ok(None) => Err(json_error(AppError::Unauthorized)),
        Err(error) => Err(json_error(error)),
    }
}

/// Answers a refused form: a browser goes back to `back` with the error and the typed text kept in the
/// session under `key`; a script gets the status and the error.
async fn refused(
    session: &Session,
    key: &str,
    form: &str,
    kept: Vec<(String, String)>,
    error: AppError,
    back: &str,
    html: bool,
) -> Response {
    if !html {
        return json_error(error);
    }
    let field = match &error {
        AppError::Form { field, .. } => field.clone(),
        _ => None,
    };
    let mut message = error.to_string();
    if matches!(error, AppError::TooLarge(_)) || message.contains("attached") || field.as_deref() == Some("screenshot")
    {
        message.push_str(" Your text is kept; choose the files again.");
    }
    let draft = PortalDraft {
        form: form.to_owned(),
        fields: kept,
        field,
        error: message,
    };
    if let Err(error) = session.insert(key, draft).await {
        tracing::error!(%error, "could not keep a refused form's draft");
    }
    Redirect::to(back).into_response()
}

/// `POST /p/{slug}/tickets`: a customer's new request, with files.
pub async fn new_ticket(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let me = match customer(&state, &session, &slug, html).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    let services = &state.services;
    let form = multipart::read(form, &["files"]).await;
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        let new = NewTicket {
            requester_email: me.customer.email.clone(),
            requester_name: me.customer.name.clone(),
            subject: form.text("subject").to_owned(),
            body: form.text("body").to_owned(),
            ..Default::default()
        };
        let actor = me.actor(services, ip(&client));
        let ticket = attachments::create_with_files(
            &me.ws,
            services.files.as_ref(),
            &actor,
            &new,
            &form.files_of("files"),
            services.attachment_limits,
            context::now(),
        )
        .await?;
        services.relayer.soon(&me.ws);
        Ok::<_, AppError>(ticket.number)
    }
    .await;
    let home = format!("/p/{}", me.workspace.slug);
    match result {
        Ok(number) if html => Redirect::to(&format!("{home}/tickets/{number}")).into_response(),
        Ok(number) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "number": number }))).into_response(),
        Err(error) => {
            let kept = form.map(|f| f.kept(&["subject", "body"])).unwrap_or_default();
            refused(
                &session,
                &draft_key(&slug, "home"),
                "new",
                kept,
                error,
                &format!("{home}#new"),
                html,
            )
            .await
        }
    }
}

/// `POST /p/{slug}/tickets/{number}/reply`: the customer answers, with files.
pub async fn reply(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    Path((slug, number)): Path<(String, i64)>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let me = match customer(&state, &session, &slug, html).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    let services = &state.services;
    let form = multipart::read(form, &["files"]).await;
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        let ticket = portal::ticket(&me.ws, &me.customer, &me.portal, number).await?;
        let actor = me.actor(services, ip(&client));
        let id = attachments::add_message_with_files(
            &me.ws,
            services.files.as_ref(),
            &actor,
            ticket.id,
            Kind::Reply,
            form.text("body"),
            None,
            &form.files_of("files"),
            services.attachment_limits,
            context::now(),
        )
        .await?;
        services.relayer.soon(&me.ws);
        Ok::<_, AppError>(id)
    }
    .await;
    let back = format!("/p/{}/tickets/{number}", me.workspace.slug);
    match result {
        Ok(id) if html => Redirect::to(&format!("{back}#m{id}")).into_response(),
        Ok(id) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "message_id": id }))).into_response(),
        Err(AppError::NotFound) if html => Redirect::to(&format!("/p/{}", me.workspace.slug)).into_response(),
        Err(error) => {
            let kept = form.map(|f| f.kept(&["body"])).unwrap_or_default();
            let key = draft_key(&slug, &format!("ticket-{number}"));
            refused(&session, &key, "reply", kept, error, &format!("{back}#reply"), html).await
        }
    }
}

/// `GET /p/{slug}/tickets/{number}/files/{id}`: a file of a public message of the customer's ticket.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((slug, number, id)): Path<(String, i64, i64)>,
    Query(query): Query<multipart::FileQuery>,
) -> Response {
    let me = match customer(&state, &session, &slug, false).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    let found = portal::open_attachment(
        &me.ws,
        state.services.files.as_ref(),
        &me.customer,
        &me.portal,
        number,
        id,
    )
    .await;
    match found {
        Ok((attachment, bytes)) => multipart::attachment_response(&attachment, bytes, &query),
        Err(error) => {
            let error = AppError::from(error);
            (error.status(), error.to_string()).into_response()
        }
    }
}

fn new_item(form: &Posted) -> NewItem {
    NewItem {
        kind: form.text("kind").to_owned(),
        title: form.text("title").to_owned(),
        description: form.text("description").to_owned(),
        screenshot: form.files_of("screenshot").into_iter().next(),
    }
}

const FEEDBACK_FIELDS: [&str; 3] = ["kind", "title", "description"];

/// `POST /p/{slug}/feedback`: a customer's bug report or feature request.
pub async fn portal_feedback(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let me = match customer(&state, &session, &slug, html).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    let form = multipart::read(form, &["screenshot"]).await;
    let voice = Voice::Customer {
        customer_id: me.customer.id,
        name: me.customer.name.clone(),
    };
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        feedback::submit(
            &me.ws,
            state.services.files.as_ref(),
            &voice,
            &new_item(form),
            context::now(),
        )
        .await
        .map_err(AppError::from)
    }
    .await;
    let back = format!("/p/{}#feedback", me.workspace.slug);
    match result {
        Ok(_) if html => Redirect::to(&back).into_response(),
        Ok(item) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "id": item.id }))).into_response(),
        Err(error) => {
            let kept = form.map(|f| f.kept(&FEEDBACK_FIELDS)).unwrap_or_default();
            refused(
                &session,
                &draft_key(&slug, "home"),
                "feedback",
                kept,
                error,
                &back,
                html,
            )
            .await
        }
    }
}

/// `POST /w/{slug}/feedback`: a team member's bug report or feature request.
pub async fn staff_feedback(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let services = &state.services;
    let back = format!("/w/{slug}/feedback");
    let (current, membership) = match multipart::agent(services, &session, &slug, &back, html).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = multipart::read(form, &["screenshot"]).await;
    let voice = Voice::Staff {
        account_id: current.account.id,
        name: current.account.name.clone(),
    };
    let result = async {
        let form = form.as_ref().map_err(Clone::clone)?;
        let ws = context::open_workspace(services, &membership).await?;
        feedback::submit(&ws, services.files.as_ref(), &voice, &new_item(form), context::now())
            .await
            .map_err(AppError::from)
    }
    .await;
    match result {
        Ok(item) if html => Redirect::to(&format!("{back}#f{}", item.id)).into_response(),
        Ok(item) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "id": item.id }))).into_response(),
        Err(error) => {
            let kept = form.map(|f| f.kept(&FEEDBACK_FIELDS)).unwrap_or_default();
            let key = app::insights::api::draft_key(&membership.slug);
            refused(
                &session,
                &key,
                "feedback",
                kept,
                error,
                &format!("{back}#send-title"),
                html,
            )
            .await
        }
    }
}

/// `GET /w/{slug}/feedback/{id}/screenshot`: for the team only.
pub async fn screenshot(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id)): Path<(String, i64)>,
) -> Response {
    let services = &state.services;
    let result = async {
        let (_, membership) = context::member_in(services, &session, &slug, Role::Agent).await?;
        let ws = context::open_workspace(services, &membership).await?;
        let item = feedback::get(&ws, id).await?;
        feedback::screenshot(services.files.as_ref(), &item)
            .await
            .map_err(AppError::from)
    }
    .await;
    match result {
        Ok((content_type, bytes)) => file_response(&format!("screenshot-{id}"), &content_type, bytes, true),
        Err(error) => (error.status(), error.to_string()).into_response(),
    }
}

/// `GET /p/{slug}/brand.css`: the workspace's colour as a CSS variable (a stylesheet, since the pages'
/// CSP allows no inline styles).
pub async fn brand_css(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let color = async {
        let (_, ws) = context::public_workspace(&state.services, &slug).await.ok()?;
        portal::portal_settings(&ws).await.ok()?.brand_color
    }
    .await;
    // Only `#rrggbb` is ever stored, so nothing else can reach the stylesheet.
    let body = match color.and_then(|c| portal::parse_color(&c).ok().flatten()) {
        Some(color) => format!(":root {{ --brand: {color}; }}\n"),
        None => String::from("/* the default colours */\n"),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}
