//! Forms that carry files arrive as `multipart/form-data` at plain axum handlers (server functions take no
//! files without JavaScript). What those handlers share: reading the form, and answering a browser with a
//! redirect or a script with a status and the error as JSON.

use app::error::AppError;
use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Multipart, Request, State, multipart::MultipartError},
    handler::Handler,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use domain::workspace::attachments::{self, Upload};
use http_body::{Frame, SizeHint};
use std::{
    collections::HashMap,
    pin::Pin,
    task::{Context, Poll, ready},
};

/// How much of a refused upload is read and thrown away, at most, before the refusal is sent.
const DRAIN_MAX: u64 = 16 * 1024 * 1024;

/// A POST route whose form may be at most `limit` bytes long (see [`Capped`]).
pub fn upload<H, T, S>(handler: H, limit: u64) -> MethodRouter<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    axum::routing::post(handler)
        .layer::<_, std::convert::Infallible>(middleware::from_fn_with_state(limit, capped))
        .layer(DefaultBodyLimit::disable())
}

async fn capped(State(limit): State<u64>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    next.run(request.map(|body| Body::new(Capped::new(body, limit, declared))))
        .await
}

/// A request body that ends in [`BodyTooLarge`] once it passes `limit` bytes, but only after reading what
/// the sender still sends (up to [`DRAIN_MAX`] more, thrown away): a browser that is still writing when the
/// answer comes would see its connection reset, not the 413 and its explanation. A body declared larger
/// than that is refused at once.
pub struct Capped {
    inner: Body,
    limit: u64,
    seen: u64,
    done: bool,
}

impl Capped {
    pub fn new(inner: Body, limit: u64, declared: Option<u64>) -> Self {
        let hopeless = declared.is_some_and(|n| n > limit.saturating_add(DRAIN_MAX));
        Capped {
            inner,
            limit,
            seen: if hopeless { u64::MAX } else { 0 },
            done: false,
        }
    }

    fn refuse(&mut self) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.done = true;
        Poll::Ready(Some(Err(axum::Error::new(BodyTooLarge))))
    }
}

impl http_body::Body for Capped {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.seen > this.limit.saturating_add(DRAIN_MAX) {
                return this.refuse();
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        this.seen = this.seen.saturating_add(data.len() as u64);
                    }
                    if this.seen <= this.limit {
                        return Poll::Ready(Some(Ok(frame)));
                    }
                    // Over the limit: keep reading until the sender is done, and keep nothing.
                }
                Some(Err(error)) if this.seen <= this.limit => return Poll::Ready(Some(Err(error))),
                None if this.seen <= this.limit => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Some(Err(_)) | None => return this.refuse(),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// What a [`Capped`] body ends in when it was too long.
#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than allowed")]
pub struct BodyTooLarge;

impl BodyTooLarge {
    /// Whether `error` or any error behind it is a [`BodyTooLarge`] (the parsers wrap it more than once).
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(error);
        while let Some(current) = cause {
            if current.is::<BodyTooLarge>() {
                return true;
            }
            cause = current.source();
        }
        false
    }
}

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
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE || BodyTooLarge::caused(&error) {
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

pub fn json_error(error: AppError) -> Response {
    (error.status(), axum::Json(error)).into_response()
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
    services: &app::context::Services,
    session: &tower_sessions::Session,
    slug: &str,
    back: &str,
    html: bool,
) -> Result<(app::context::Current, domain::auth::accounts::MembershipOf), Response> {
    match app::context::member_in(services, session, slug, domain::auth::accounts::Role::Agent).await {
        Ok(found) => Ok(found),
        Err(AppError::Unauthorized) if html => Err(axum::response::Redirect::to(&format!(
            "/signin?next={}",
            app::tickets::api::encode(back)
        ))
        .into_response()),
        Err(error) => Err(json_error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    /// A body of `chunks` chunks of 1 KB that counts how many were taken from it.
    fn counted(chunks: usize) -> (Body, Arc<AtomicUsize>) {
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        let stream = futures::stream::iter((0..chunks).map(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024]))
        }));
        (Body::from_stream(stream), taken)
    }

    fn refused(result: Result<Bytes, axum::Error>) -> bool {
        BodyTooLarge::caused(&result.expect_err("the body is over the limit"))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_passes_whole() {
        let (body, _) = counted(8);
        let bytes = axum::body::to_bytes(Body::new(Capped::new(body, 8 * 1024, Some(8 * 1024))), usize::MAX)
            .await
            .unwrap();
        assert_eq!(bytes.len(), 8 * 1024);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_read_to_its_end_before_it_is_refused() {
        let (body, taken) = counted(100);
        let result = axum::body::to_bytes(Body::new(Capped::new(body, 10 * 1024, None)), usize::MAX).await;
        assert!(refused(result));
        assert_eq!(taken.load(Ordering::SeqCst), 100, "the sender was heard out");
    }

    #[tokio::test]
    async fn a_body_beyond_what_is_drained_is_refused_without_reading_it() {
        let (body, taken) = counted(100);
        let declared = 1024 + DRAIN_MAX + 1;
        let result = axum::body::to_bytes(Body::new(Capped::new(body, 1024, Some(declared))), usize::MAX).await;
        assert!(refused(result));
        assert_eq!(taken.load(Ordering::SeqCst), 0);
    }
}
