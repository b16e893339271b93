//! `cargo xtask docs --serve`: the built book on loopback, rebuilt when
//! its sources change.

use std::{
    fs,
    io::{BufRead, BufReader, Write as _},
    net::{TcpListener, TcpStream},
    path::{Component, Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::Context;

use super::{book_dir, build, links::percent_decode};

/// Builds, serves `target/book` on `127.0.0.1:port` and rebuilds when the
/// sources change. A development aid; stops with Ctrl-C.
pub fn serve(root: &Path, port: u16) -> anyhow::Result<()> {
    let out = book_dir(root);
    if !out.join("index.html").is_file() {
        println!("{}", build(root)?);
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!("serving the book at http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let watched = [root.join("docs"), root.join("lab-steps")];
    let root_owned = root.to_path_buf();
    std::thread::spawn(move || {
        let mut last = newest(&watched);
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = newest(&watched);
            if now > last {
                last = now;
                match build(&root_owned) {
                    Ok(report) => println!("{report}"),
                    Err(err) => eprintln!("docs: {err:#}"),
                }
            }
        }
    });
    for stream in listener.incoming().flatten() {
        let out = out.clone();
        std::thread::spawn(move || {
            if let Err(err) = answer(stream, &out) {
                eprintln!("docs serve: {err:#}");
            }
        });
    }
    Ok(())
}

fn newest(dirs: &[PathBuf]) -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    walk(&path, newest);
                }
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in dirs {
        walk(dir, &mut newest);
    }
    newest
}

/// Answers one HTTP/1.x GET with a file under `out`.
fn answer(mut stream: TcpStream, out: &Path) -> anyhow::Result<()> {
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut request_line)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = percent_decode(path.split(['?', '#']).next().unwrap_or("/"));
    let relative = Path::new(path.trim_start_matches('/'));
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_)));
    let mut file = out.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    let (status, body, kind) = match fs::read(&file) {
        Ok(body) if safe => ("200 OK", body, content_type(&file)),
        _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    Ok(())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}
