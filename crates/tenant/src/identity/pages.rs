//! The HTML pages of the emulated sign-in: account picker, consent, device
//! code entry, admin consent, form_post and error pages. No JavaScript is
//! needed except the form_post page's auto-submit.

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

/// Escapes text for HTML content and attribute values. `graphlab-flow`'s
/// SVG has its own XML escaper (`draw::svg::escape`): the emulator must
/// not depend on that crate, and the two crates share none about markup.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page in the emulator's style.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0}}\
         main{{max-width:440px;margin:48px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}}\
         h1{{font-size:24px;font-weight:600}} .muted{{color:#666;font-size:13px}}\
         label.account{{display:block;padding:8px;border:1px solid #ddd;margin:6px 0;cursor:pointer}}\
         button{{padding:8px 24px;margin:16px 8px 0 0;font-size:15px}} .primary{{background:#0067b8;color:#fff;border:0}}\
         .error{{color:#a80000}} code{{background:#eee;padding:2px 4px}}\
         </style></head><body><main><p class=\"muted\">graphlab emulated tenant &mdash; Microsoft identity platform</p>\
         <h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
    );
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

/// An error page shown when the platform cannot redirect back.
pub fn error_page(status: StatusCode, code: u32, message: &str) -> Response {
    page(
        status,
        "Sorry, but we're having trouble signing you in.",
        &format!(
            "<p class=\"error\"><strong>AADSTS{code}</strong>: {}</p>",
            esc(message)
        ),
    )
}

/// One user the picker offers.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user principal name.
    pub upn: String,
    /// The display name.
    pub name: String,
    /// Whether the user is a Global Administrator.
    pub admin: bool,
}

/// What the sign-in page asks.
#[derive(Debug)]
pub struct SignIn<'a> {
    /// Form target.
    pub action: &'a str,
    /// Hidden fields carried through the POST.
    pub hidden: Vec<(&'a str, String)>,
    /// The requesting application's name.
    pub app_name: &'a str,
    /// Accounts to pick from.
    pub accounts: &'a [Account],
    /// The account preselected (`login_hint`).
    pub hint: Option<&'a str>,
    /// Permissions that need consent, with whether each needs an admin.
    pub consent: &'a [(String, bool)],
    /// Tick "Consent on behalf of your organization" by default.
    pub org_default: bool,
}

/// The account picker and consent page.
pub fn sign_in(form: &SignIn<'_>) -> Response {
    let mut body = format!("<form method=\"post\" action=\"{}\">", esc(form.action));
    for (name, value) in &form.hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        ));
    }
    body.push_str(&format!(
        "<p><strong>{}</strong> wants to sign you in.</p><p>Pick an account</p>",
        esc(form.app_name)
    ));
    for (i, account) in form.accounts.iter().enumerate() {
        let checked = match form.hint {
            Some(hint) => hint.eq_ignore_ascii_case(&account.upn),
            None => i == 0,
        };
        body.push_str(&format!(
            "<label class=\"account\"><input type=\"radio\" name=\"login\" value=\"{upn}\"{checked}> {name}<br>\
             <span class=\"muted\">{upn}{role}</span></label>",
            upn = esc(&account.upn),
            name = esc(&account.name),
            checked = if checked { " checked" } else { "" },
            role = if account.admin { " &middot; Global Administrator" } else { "" },
        ));
    }
    if !form.consent.is_empty() {
        body.push_str("<h2>Permissions requested</h2><p>This app would like to:</p><ul>");
        for (scope, admin) in form.consent {
            body.push_str(&format!(
                "<li><code>{}</code>{}</li>",
                esc(scope),
                if *admin {
                    " <span class=\"muted\">(admin consent required)</span>"
                } else {
                    ""
                }
            ));
        }
        body.push_str(&format!(
            "</ul><label><input type=\"checkbox\" name=\"consent_org\" value=\"true\"{}> \
             Consent on behalf of your organization</label>\
             <p class=\"muted\">Only a Global Administrator can consent for the organization.</p>",
            if form.org_default { " checked" } else { "" }
        ));
    }
    body.push_str(
        "<button class=\"primary\" type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></form>",
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// The page that posts the code back (`response_mode=form_post`).
pub fn form_post(redirect_uri: &str, fields: &[(&str, String)]) -> Response {
    let mut inputs = String::new();
    for (name, value) in fields {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        ));
    }
    let html = format!(
        "<!doctype html><html><head><link rel=\"icon\" href=\"data:,\"><title>Working...</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        esc(redirect_uri)
    );
    (StatusCode::OK, [("cache-control", "no-store")], Html(html)).into_response()
}

/// The device-code entry page.
pub fn device_entry(action: &str, error: Option<&str>) -> Response {
    let error =
        error.map(|e| format!("<p class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    page(
        StatusCode::OK,
        "Enter code",
        &format!(
            "{error}<p>Enter the code displayed on your app or device.</p>\
             <form method=\"post\" action=\"{}\"><input name=\"otc\" autofocus autocomplete=\"off\">\
             <button class=\"primary\" type=\"submit\">Next</button></form>",
            esc(action)
        ),
    )
}

/// A final message page.
pub fn done(title: &str, message: &str) -> Response {
    page(StatusCode::OK, title, &format!("<p>{}</p>", esc(message)))
}
