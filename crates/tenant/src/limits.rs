//! Every limit a caller can hit, in one place, with where its number comes
//! from. Microsoft documents some (the 4 MB write limit, 20 requests per
//! batch, `$top` between 1 and 999 on directory objects); where it documents
//! none, the emulator chooses one and says so (the book's emulator reference
//! lists them all).
//!
//! Sources: "Use the Microsoft Graph API" (learn.microsoft.com/graph/use-the-api:
//! write requests are limited to 4 MB); "Microsoft Graph error responses"
//! (learn.microsoft.com/graph/errors: 413 Request Entity Too Large); Graph's
//! known issues on query parameters (2,048 characters for some advanced
//! queries, no general URL limit); "Combine multiple requests in one HTTP
//! call" (20 requests per batch). Graph has answered an oversized request
//! with the message "Maximum request length exceeded." (microsoft-graph-docs
//! issue 85), which the 413 keeps. The codes of the 414, 431 and 408
//! answers are the emulator's (HTTP's reason phrases in Graph's style, as
//! `RequestEntityTooLarge` is): Microsoft documents none.

use std::time::Duration;

/// The largest request body: Microsoft Graph's write limit, 4 MB
/// (documented). Also the limit of one `$batch` payload, and so of any
/// item's body inside it. Over it: 413 `RequestEntityTooLarge`.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The longest request target (path and query), in bytes. Microsoft
/// documents no general figure (only 2,048 characters for some directory
/// advanced queries); the emulator's choice. Over it: 414
/// `RequestUriTooLong`. The same limit applies to a `$batch` item's URL.
pub const MAX_URL_BYTES: usize = 32 * 1024;

/// The largest header section (names, values, and a separator per header).
/// Undocumented; the emulator's choice, well under hyper's own buffer (whose
/// overflow would be answered without Graph's error body). Over it: 431
/// `RequestHeaderFieldsTooLarge`.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// hyper's read buffer for one HTTP/1 message head; larger than
/// [`MAX_URL_BYTES`] + [`MAX_HEADER_BYTES`] so that our checks, which answer
/// in Graph's shape, see an oversized request before hyper refuses it.
pub const HYPER_MAX_BUF_BYTES: usize = 128 * 1024;

/// The most properties one `$select` may name. Undocumented; the emulator's
/// choice. Over it: 400 `BadRequest`.
pub const MAX_SELECT_FIELDS: usize = 100;

/// `$top` bounds on Graph's directory collections (documented: 1 to 999).
pub const TOP_RANGE: std::ops::RangeInclusive<usize> = 1..=999;

/// The deepest a `$filter` may nest (parentheses and `not`). OData's own
/// parser gives up at a recursion limit too; the figure is the emulator's
/// choice. Over it: 400 `BadRequest`.
pub const MAX_FILTER_DEPTH: usize = 100;

/// The most operators and terms in one `$filter` (`and`, `or`, `not`,
/// comparisons and functions). OData's default `MaxNodeCount` is 100. Over
/// it: 400 `BadRequest`.
pub const MAX_FILTER_NODES: usize = 100;

/// serde_json's recursion limit, which every JSON body the emulator reads
/// is parsed under: deeper nesting is a 400, never a stack overflow.
pub const MAX_JSON_DEPTH: usize = 128;

/// Time allowed to send a request's header section (slowloris). Over it,
/// the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed to send a request's whole body once its headers are in.
/// Over it: 408 `RequestTimeout`.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Time allowed for a TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Read timeouts of a served emulator; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read: Duration,
    /// See [`BODY_READ_TIMEOUT`].
    pub body_read: Duration,
    /// See [`TLS_HANDSHAKE_TIMEOUT`].
    pub tls_handshake: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: HEADER_READ_TIMEOUT,
            body_read: BODY_READ_TIMEOUT,
            tls_handshake: TLS_HANDSHAKE_TIMEOUT,
        }
    }
}
