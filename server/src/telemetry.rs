//! Logging: `tracing` to stdout, human-readable or JSON, filtered by `RUST_LOG` (default `info`).

use crate::settings::LogFormat;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

pub fn init(format: LogFormat) {
    init_with_writer(format, std::io::stdout);
}

/// As [`init`], writing to `writer` (the log-capturing tests use a buffer). Timestamps are UTC (RFC 3339,
/// ending in `Z`); JSON escapes control characters, so a CR/LF in someone's input cannot forge a line.
pub fn init_with_writer<W>(format: LogFormat, writer: W)
where
    W: for<'a> fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    init_with_filter(format, filter, writer);
}

/// As [`init_with_writer`], with the filter given (tests that must see every debug line).
pub fn init_with_filter<W>(format: LogFormat, filter: EnvFilter, writer: W)
where
    W: for<'a> fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init`: a second call (tests start many servers in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => registry.with(fmt::layer().with_writer(writer)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(writer),
            )
            .try_init(),
    };
}
