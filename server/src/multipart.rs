//! Forms that carry files arrive as `multipart/form-data` at plain axum handlers (server functions take no
//! files without JavaScript). What those handlers share: reading the form, and answering a browser with a
//! redirect or a script with a status and the error as JSON.

use app::error::AppError;
use axum::{
    extract::{Multipart, multipart::MultipartError},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::workspace::attachments::{self, Upload};
use std::collections::HashMap;

/// A posted form: its text fields, and its files by field name (empty file inputs left out).
#[derive(Default)]
pub struct Posted {
    pub fields: HashMap<String, String>,
    pub files: Vec<(String, Upload)>,
}

impl Posted {
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    /// The files of one input.
    pub fn files_of(&self, name: &str) -> Vec<Upload> {
        self.files
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, upload)| upload.clone())
            .collect()
    }

    /// The text fields, for a refused form's draft (files cannot be kept: a browser never sends them back).
    pub fn kept(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|name| ((*name).to_owned(), self.text(name).to_owned()))
            .collect()
    }
}

/// Reads the whole form; `file_fields` names the inputs that carry files.
pub async fn read(mut multipart: Multipart, file_fields: &[&str]) -> Result<Posted, AppError> {
    let mut form = Posted::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if file_fields.contains(&name.as_str()) {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            // A browser sends an empty part when no file was chosen.
            if !(file_name.is_empty() && bytes.is_empty()) {
                form.files.push((
                    name,
                    Upload {
                        file_name,
                        bytes: bytes.to_vec(),
                    },
                ));
            }
        } else if !name.is_empty() {
            let text = field.text().await.map_err(multipart_error)?;
            form.fields.insert(name, text);
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

pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

pub fn status_of(error: &AppError) -> StatusCode {
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

pub fn json_error(error: AppError) -> Response {
    (status_of(&error), axum::Json(error)).into_response()
}

/// A download's query: `?inline=1` asks for an image to be shown rather than saved.
#[derive(serde::Deserialize)]
pub struct FileQuery {
    inline: Option<String>,
}

/// An attachment as a download, inline only for an image asked for so.
pub fn attachment_response(attachment: &attachments::Attachment, bytes: Vec<u8>, query: &FileQuery) -> Response {
    let inline = query.inline.is_some() && attachment.is_image();
    file_response(&attachment.file_name, &attachment.content_type, bytes, inline)
}

/// A stored file as a response: `attachment` with a safe name (images inline only when asked), `nosniff`
/// and a sandboxing CSP, so no file can run in the site's origin whatever a browser makes of it.
pub fn file_response(file_name: &str, content_type: &str, bytes: Vec<u8>, inline: bool) -> Response {
    let content_type = match content_type {
        "text/plain" => "text/plain; charset=utf-8".to_owned(),
        other => other.to_owned(),
    };
    let disposition = attachments::content_disposition(file_name, inline);
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

/// The team member posting a form to `back`'s workspace: a browser without a sign-in is sent to sign in and
/// come back; anything else refused answers with its status.
pub async fn agent(
    services: &app::server::Services,
    session: &tower_sessions::Session,
    slug: &str,
    back: &str,
    html: bool,
) -> Result<(app::server::Current, domain::auth::accounts::MembershipOf), Response> {
    match app::server::member_in(services, session, slug, domain::auth::accounts::Role::Agent).await {
        Ok(found) => Ok(found),
        Err(AppError::Unauthorized) if html => Err(axum::response::Redirect::to(&format!(
            "/signin?next={}",
            app::tickets::api::encode(back)
        ))
        .into_response()),
        Err(error) => Err(json_error(error)),
    }
}
