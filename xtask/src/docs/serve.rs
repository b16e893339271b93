//! `cargo xtask docs --serve`: the built book on loopback, rebuilt when
//! its sources change.
//!
//! axum with tower-http's `ServeDir` (files, `index.html` for a directory,
//! no path outside `target/book`), bound to `127.0.0.1` only.

use std::{
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::Context;
use axum::{
    Router,
    http::{HeaderValue, header},
    response::Response,
};
use tower_http::services::ServeDir;

use super::{book_dir, build};

/// Builds, serves `target/book` on `127.0.0.1:port` and rebuilds when the
/// sources change. A development aid; stops with Ctrl-C.
pub fn serve(root: &Path, port: u16) -> anyhow::Result<()> {
    let out = book_dir(root);
    if !out.join("index.html").is_file() {
        println!("{}", build(root)?);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(async {
        let (addr, server) = bind(out.clone(), port).await?;
        println!("serving the book at http://{addr}/ (Ctrl-C stops)");
        watch(root);
        server.await.context("serving the book")
    })
}

/// The router: the files under `out`, never cached by the browser (the book
/// is rebuilt under it).
fn app(out: &Path) -> Router {
    Router::new().fallback_service(ServeDir::new(out)).layer(
        axum::middleware::map_response(|mut response: Response| async move {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }),
    )
}

/// Listens on `127.0.0.1:port` (0: any free port); the bound address and
/// the server to await.
async fn bind(
    out: PathBuf,
    port: u16,
) -> anyhow::Result<(SocketAddr, impl Future<Output = std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    Ok((addr, axum::serve(listener, app(&out)).into_future()))
}

/// Rebuilds the book, on a thread of its own, whenever a file under `docs/`
/// or `lab-steps/` is newer than at the last look (once a second).
fn watch(root: &Path) {
    let watched = [root.join("docs"), root.join("lab-steps")];
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let mut last = newest(&watched);
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = newest(&watched);
            if now > last {
                last = now;
                match build(&root) {
                    Ok(report) => println!("{report}"),
                    Err(err) => eprintln!("docs: {err:#}"),
                }
            }
        }
    });
}

/// The latest modification time of a file under `dirs` (build output
/// aside).
fn newest(dirs: &[PathBuf]) -> SystemTime {
    dirs.iter()
        .flat_map(|dir| crate::files_under(dir))
        .filter_map(|file| fs::metadata(file).and_then(|m| m.modified()).ok())
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_books_files_on_loopback_and_404_for_anything_else() {
        let out = tempfile::tempdir().unwrap();
        fs::create_dir_all(out.path().join("en")).unwrap();
        fs::write(out.path().join("index.html"), "<p>landing</p>").unwrap();
        fs::write(out.path().join("en/index.html"), "<p>english</p>").unwrap();
        fs::write(out.path().join("en/a.css"), "p {}").unwrap();
        let (addr, server) = bind(out.path().to_path_buf(), 0).await.unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        let server = tokio::spawn(server);
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

        let landing = get("/").await.unwrap();
        assert_eq!(landing.status(), 200);
        assert_eq!(landing.headers()["cache-control"], "no-cache");
        assert!(
            landing.headers()["content-type"].to_str().unwrap().starts_with("text/html")
        );
        assert_eq!(landing.text().await.unwrap(), "<p>landing</p>");
        let page = get("/en/").await.unwrap();
        assert_eq!(
            (page.status().as_u16(), page.text().await.unwrap()),
            (200, "<p>english</p>".into())
        );
        let css = get("/en/a.css").await.unwrap();
        assert_eq!(css.headers()["content-type"], "text/css");

        let missing = get("/en/missing.html").await.unwrap();
        assert_eq!(missing.status(), 404);
        // `..` encoded so that the client sends it as is: nothing outside `out`.
        let outside = get("/en/%2e%2e/%2e%2e/etc/passwd").await.unwrap();
        assert_eq!(outside.status(), 404);
        server.abort();
    }
}
