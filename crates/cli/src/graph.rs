//! `graphlab graph METHOD PATH`: one Graph request, like Graph Explorer.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use graphlab_auth::microsoft::GRAPH_CLI_CLIENT_ID;

use crate::{options::Global, output::outln};

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// HTTP method (GET, POST, PUT, PATCH, DELETE).
    method: String,
    /// Path, with its version or not: `/v1.0/me`, `/beta/me?$select=displayName`,
    /// `/me` or `me` (v1.0).
    path: String,
    /// JSON body.
    #[arg(long)]
    body: Option<String>,
    /// Bearer token (else the account `graphlab login` signed in)
    /// [env: GRAPHLAB_ACCESS_TOKEN].
    #[arg(long, env = "GRAPHLAB_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
    /// The signed-in account to act as (default: the only one).
    #[arg(long)]
    account: Option<String>,
    /// Scopes the signed-in account's token must carry (default: any
    /// cached token; a refresh asks for them).
    #[arg(long, num_args = 1..)]
    scopes: Vec<String>,
}

/// `me`, `/me`, `v1.0/me`, `/beta/me` or a full URL under `graph`: the
/// path with its version, `/v1.0` when none is named.
fn versioned_path(path: &str, graph: &str) -> anyhow::Result<String> {
    let path = path.trim();
    let relative = if path.contains("://") {
        path.strip_prefix(graph).with_context(|| {
            format!("'{path}' is not under the target's Graph ({graph}); give a path such as /v1.0/me")
        })?
    } else {
        path
    };
    let relative = relative.trim_start_matches('/');
    if relative.is_empty() {
        bail!("the path is empty: give one such as /v1.0/me");
    }
    let versioned = ["v1.0", "beta"].iter().any(|v| {
        relative
            .strip_prefix(v)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    });
    Ok(if versioned { format!("/{relative}") } else { format!("/v1.0/{relative}") })
}

pub async fn run(global: &Global, args: GraphArgs) -> anyhow::Result<ExitCode> {
    let method: reqwest::Method = args
        .method
        .to_ascii_uppercase()
        .parse()
        .with_context(|| format!("'{}' is not an HTTP method", args.method))?;
    let resolved = global.announce(None)?;
    let path = versioned_path(&args.path, &resolved.target.graph)?;
    let url = format!("{}{path}", resolved.target.graph);
    let body = match &args.body {
        Some(body) => Some(
            serde_json::from_str::<serde_json::Value>(body)
                .context("--body is not valid JSON")?,
        ),
        None => None,
    };
    let tokens = global
        .tokens(
            &resolved,
            args.access_token.as_deref(),
            GRAPH_CLI_CLIENT_ID,
            args.account.as_deref(),
            &args.scopes,
        )
        .await?;
    let token = tokens.access_token(false).await?;
    let mut request =
        crate::trust::client()?.request(method, &url).bearer_auth(token.expose());
    if let Some(json) = &body {
        request = request.json(json);
    }
    let response = request
        .send()
        .await
        .map_err(|e| crate::trust::explain(&e))
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => outln!("{}", serde_json::to_string_pretty(&json)?),
        Err(_) if text.is_empty() => {}
        Err(_) => outln!("{text}"),
    }
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("graphlab: {url} answered {status}");
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::versioned_path;

    #[test]
    fn paths_get_their_version_and_v1_0_when_they_name_none() {
        let g = "http://127.0.0.1:5580";
        assert_eq!(versioned_path("me", g).unwrap(), "/v1.0/me");
        assert_eq!(versioned_path("/me", g).unwrap(), "/v1.0/me");
        assert_eq!(versioned_path("/beta/me", g).unwrap(), "/beta/me");
        assert_eq!(versioned_path("v1.0/me?$top=1", g).unwrap(), "/v1.0/me?$top=1");
        assert_eq!(versioned_path("/betamax", g).unwrap(), "/v1.0/betamax");
        assert_eq!(
            versioned_path("http://127.0.0.1:5580/beta/me", g).unwrap(),
            "/beta/me"
        );
        assert!(versioned_path("https://example.com/v1.0/me", g).is_err());
        assert!(versioned_path("/", g).is_err());
    }
}
