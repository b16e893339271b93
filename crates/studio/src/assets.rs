//! The page's files, embedded in the binary (the studio works offline):
//! plain HTML, CSS and JavaScript modules, no framework, no bundler.

use axum::{
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};

use crate::AppError;

/// Path under `/assets/`, content type, contents.
const ASSETS: &[(&str, &str, &str)] = &[
    ("studio.css", "text/css; charset=utf-8", include_str!("../assets/studio.css")),
    ("main.js", "text/javascript; charset=utf-8", include_str!("../assets/main.js")),
    ("auth.js", "text/javascript; charset=utf-8", include_str!("../assets/auth.js")),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../assets/ui.js")),
    (
        "explorer.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/explorer.js"),
    ),
    (
        "samples.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/samples.js"),
    ),
    ("tenant.js", "text/javascript; charset=utf-8", include_str!("../assets/tenant.js")),
    ("flows.js", "text/javascript; charset=utf-8", include_str!("../assets/flows.js")),
    ("faults.js", "text/javascript; charset=utf-8", include_str!("../assets/faults.js")),
];

const INDEX: &str = include_str!("../assets/index.html");

pub(crate) async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

pub(crate) async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == path) {
        Some((_, kind, body)) => {
            ([(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, "no-cache")], *body)
                .into_response()
        }
        None => AppError::not_found(format!("no asset '{path}'")).into_response(),
    }
}
