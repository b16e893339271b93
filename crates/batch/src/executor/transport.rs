//! The `$batch` calls: one POST with the token, and the pages of its answer
//! (`@odata.nextLink`), fetched with a few retries.

use std::time::Duration;

use serde_json::Value;

use super::{
    BatchClient,
    retry::retry_after,
    wire::{ItemAnswer, read_page},
};
use crate::outcome::Shared;

/// A failed `$batch` call as a whole.
#[derive(Debug)]
pub(super) struct Outer {
    pub(super) status: Option<u16>,
    pub(super) retry_after: Option<Duration>,
    pub(super) message: String,
    /// The server's certificate was refused: sending again cannot help.
    pub(super) untrusted: bool,
}

impl Outer {
    /// A transport failure (no HTTP status): the address and the reason
    /// (the URL of a `$batch` call holds no secret; its token is a header),
    /// with how to trust a refused certificate.
    fn transport(e: reqwest::Error, url: &str) -> Outer {
        let untrusted = graphlab_auth::trust::is_untrusted(&e);
        let message = if untrusted {
            format!("{url}: {}", graphlab_auth::trust::explain(&e))
        } else {
            transport_reason(&e, url)
        };
        Outer { status: None, retry_after: None, message, untrusted }
    }
}

/// A `$batch` answer: the item answers read, and, when a later page of it
/// could not be fetched, why (the items on that page were run by Graph, but
/// their answers are lost).
pub(super) struct Answers {
    pub(super) items: Vec<(Shared, ItemAnswer)>,
    pub(super) lost_page: Option<String>,
}

/// The most pages of one `$batch` answer the client reads: a batch holds at
/// most 20 answers, so a server that keeps sending next links past this is
/// not Graph, and the rest of the answer counts as lost.
const MAX_ANSWER_PAGES: usize = 21;

/// Attempts at fetching one `@odata.nextLink` page.
const PAGE_ATTEMPTS: u32 = 3;

/// "cannot reach URL: why", the why being the innermost cause ("Connection
/// refused (os error 111)"), not reqwest's "error sending request".
fn transport_reason(e: &reqwest::Error, url: &str) -> String {
    if e.is_timeout() {
        return format!("no answer from {url}: timed out");
    }
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        why = cause.to_string();
        source = cause.source();
    }
    format!("cannot reach {url}: {why}")
}

impl BatchClient {
    pub(super) async fn send(
        &self,
        payload: Vec<u8>,
        reauth: bool,
    ) -> Result<Answers, Outer> {
        let token = self.tokens.access_token(reauth).await.map_err(|e| Outer {
            status: None,
            retry_after: None,
            message: format!("no access token: {e}"),
            untrusted: false,
        })?;
        let request = match &self.batch_url {
            Some(url) => self.http.post(url.clone()),
            None => self.http.post(format!(
                "{}/{}/$batch",
                self.graph,
                self.config.version.segment()
            )),
        };
        let response = request
            .bearer_auth(token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(|e| Outer::transport(e, &self.batch_address()))?;
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let bytes = response.bytes().await.map_err(|e| Outer {
            status: Some(status),
            retry_after: after,
            message: graphlab_auth::trust::explain(&e),
            untrusted: false,
        })?;
        if status != 200 {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("no Graph error in the answer")
                .to_owned();
            return Err(Outer {
                status: Some(status),
                retry_after: after,
                message,
                untrusted: false,
            });
        }
        let unreadable = |e: String| Outer {
            status: Some(status),
            retry_after: None,
            message: format!("unreadable $batch answer: {e}"),
            untrusted: false,
        };
        let mut items = Vec::new();
        let mut next = read_page(bytes.into(), &mut items).map_err(unreadable)?;
        let mut pages = 1;
        while let Some(link) = next.take() {
            if pages >= MAX_ANSWER_PAGES {
                let reason = format!(
                    "the $batch answer still had a next link after {MAX_ANSWER_PAGES} pages"
                );
                return Ok(Answers { items, lost_page: Some(reason) });
            }
            pages += 1;
            match self.next_page(&link, token.expose(), &mut items).await {
                Ok(link) => next = link,
                Err(reason) => return Ok(Answers { items, lost_page: Some(reason) }),
            }
        }
        Ok(Answers { items, lost_page: None })
    }

    /// Fetches a page of a `$batch` answer into `items`, retrying 429, 5xx and
    /// transport errors a few times (the page is read-only: fetching it again
    /// is safe); returns the page's own next link.
    async fn next_page(
        &self,
        link: &str,
        token: &str,
        items: &mut Vec<(Shared, ItemAnswer)>,
    ) -> Result<Option<String>, String> {
        let mut last = String::new();
        for attempt in 1..=PAGE_ATTEMPTS {
            let answer = self.http.get(link).bearer_auth(token).send().await;
            let wait = match answer {
                Ok(response) if response.status().is_success() => {
                    let bytes =
                        response.bytes().await.map_err(|e| e.without_url().to_string());
                    match bytes.map(|b| read_page(b.into(), items)) {
                        Ok(Ok(next)) => return Ok(next),
                        Ok(Err(e)) => {
                            return Err(format!(
                                "unreadable page of the $batch answer: {e}"
                            ));
                        }
                        Err(e) => {
                            last = e;
                            None
                        }
                    }
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    last =
                        format!("the next page of the $batch answer answered {status}");
                    if !(status == 429 || status >= 500) {
                        return Err(last);
                    }
                    response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(retry_after)
                }
                Err(e) => {
                    last = e.without_url().to_string();
                    None
                }
            };
            if attempt < PAGE_ATTEMPTS {
                self.clock.sleep(wait.unwrap_or(self.config.base_delay * attempt)).await;
            }
        }
        Err(last)
    }
}
