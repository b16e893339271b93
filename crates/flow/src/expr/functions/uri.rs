//! URI parsing functions: the parts of an absolute URI as .NET's `Uri`
//! gives them.

use serde_json::Value;

use super::{Call, ExprError, Function, f};

pub(super) const FUNCTIONS: &[Function] = &[
    f("uriHost", 1, Some(1), uri_host),
    f("uriPath", 1, Some(1), uri_path),
    f("uriPathAndQuery", 1, Some(1), uri_path_and_query),
    f("uriPort", 1, Some(1), uri_port),
    f("uriQuery", 1, Some(1), uri_query),
    f("uriScheme", 1, Some(1), uri_scheme),
];

/// An absolute URI split into its parts.
struct Uri {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// Always starts with `/`.
    path: String,
    /// Empty, or starts with `?`.
    query: String,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        "ldap" => Some(389),
        "net.tcp" => Some(808),
        _ => None,
    }
}

fn parse(c: &Call) -> Result<Uri, ExprError> {
    let s = c.string(0)?.trim();
    let bad = || {
        c.error(format!(
            "was invoked with a parameter that is not valid. The provided value '{s}' is not \
             an absolute URI."
        ))
    };
    let (scheme, rest) = s.split_once(':').ok_or_else(bad)?;
    let valid_scheme = scheme.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && scheme.chars().all(|ch| ch.is_ascii_alphanumeric() || "+-.".contains(ch));
    if !valid_scheme {
        return Err(bad());
    }
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.strip_prefix("//").ok_or_else(bad)?;
    let rest = rest.split('#').next().unwrap_or("");
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = if let Some(stripped) = host_port.strip_prefix('[') {
        let (h, after) = stripped.split_once(']').ok_or_else(bad)?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (host_port.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
    };
    let (path, query) = match tail.find('?') {
        Some(q) => (&tail[..q], &tail[q..]),
        None => (tail, ""),
    };
    let path = if path.is_empty() { "/".to_string() } else { path.to_string() };
    Ok(Uri {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        path,
        query: query.to_string(),
    })
}

fn uri_host(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(parse(c)?.host))
}

fn uri_path(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(parse(c)?.path))
}

fn uri_path_and_query(c: &mut Call) -> Result<Value, ExprError> {
    let u = parse(c)?;
    Ok(Value::String(format!("{}{}", u.path, u.query)))
}

fn uri_port(c: &mut Call) -> Result<Value, ExprError> {
    let u = parse(c)?;
    let port = u.port.or_else(|| default_port(&u.scheme)).map(i64::from).unwrap_or(-1);
    Ok(Value::from(port))
}

fn uri_query(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(parse(c)?.query))
}

fn uri_scheme(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::String(parse(c)?.scheme))
}
