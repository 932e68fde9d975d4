//! Login with Amazon's authorisation-code grant: the consent page (`GET /ap/oa`), the
//! user's decision (`POST /ap/oa`), and the codes and grants behind them. The token
//! endpoint itself is in `auth.rs`.
//!
//! As Amazon documents it: the page is reached with `client_id`, `scope`,
//! `response_type=code`, `redirect_uri` and `state`; approval redirects to `redirect_uri`
//! with `code`, `scope` and `state`; a refusal with `error=access_denied` and `state`.
//! A bad `client_id` or `redirect_uri` is shown on the page, never redirected to. Codes are
//! single use and expire after 5 minutes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rand::Rng;
use serde::Deserialize;

use crate::state::SimState;
use crate::users;

/// The one scope Amazon Ads grants through this flow.
pub const ADS_SCOPE: &str = "advertising::campaign_management";
pub const CODE_TTL: Duration = Duration::from_secs(300);

struct Code {
    login: String,
    client_id: String,
    redirect_uri: String,
    issued: Instant,
}

#[derive(Debug, Clone)]
pub struct Grant {
    pub login: String,
    pub client_id: String,
}

/// Outstanding codes and live grants (refresh tokens issued to users).
#[derive(Default)]
pub struct OAuth {
    codes: HashMap<String, Code>,
    grants: HashMap<String, Grant>,
    /// Codes issued before this instant count as expired (`/_sim/oauth/expire-codes`).
    expired_before: Option<Instant>,
}

/// Why a code exchange failed, as the OAuth2 `error` value and a description.
pub type ExchangeError = (&'static str, &'static str);

impl OAuth {
    fn issue_code(&mut self, login: &str, client_id: &str, redirect_uri: &str) -> String {
        let now = Instant::now();
        self.codes
            .retain(|_, c| now.duration_since(c.issued) < CODE_TTL);
        let code = format!("ANsim{:032x}", rand::rng().random::<u128>());
        self.codes.insert(
            code.clone(),
            Code {
                login: login.to_owned(),
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                issued: now,
            },
        );
        code
    }

    /// Redeems `code` (single use: it is gone whatever the outcome) for a new refresh
    /// token bound to the user who approved.
    pub fn redeem(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
    ) -> Result<(String, Grant), ExchangeError> {
        let c = self.codes.remove(code).ok_or((
            "invalid_grant",
            "The authorization code is invalid, expired or already used",
        ))?;
        let expired =
            c.issued.elapsed() >= CODE_TTL || self.expired_before.is_some_and(|t| c.issued <= t);
        if expired {
            return Err((
                "invalid_grant",
                "The authorization code is invalid, expired or already used",
            ));
        }
        if c.client_id != client_id {
            return Err((
                "invalid_grant",
                "The authorization code was issued to another client",
            ));
        }
        if redirect_uri != Some(c.redirect_uri.as_str()) {
            return Err((
                "invalid_grant",
                "redirect_uri does not match the one the code was issued for",
            ));
        }
        let refresh = format!("Atzr|sim-{}-{:040x}", c.login, rand::rng().random::<u128>());
        let grant = Grant {
            login: c.login,
            client_id: c.client_id,
        };
        self.grants.insert(refresh.clone(), grant.clone());
        Ok((refresh, grant))
    }

    pub fn grant(&self, refresh_token: &str) -> Option<&Grant> {
        self.grants.get(refresh_token)
    }

    /// Removes every grant of `login`; returns how many there were.
    pub fn revoke(&mut self, login: &str) -> usize {
        let before = self.grants.len();
        self.grants.retain(|_, g| g.login != login);
        before - self.grants.len()
    }

    pub fn expire_codes(&mut self) {
        self.expired_before = Some(Instant::now());
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    scope: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} — Login with Amazon (simulator)</title></head><body><main>\
         <h1>{t}</h1>{body}<p><small>Quiver's Amazon simulator, not Amazon.</small></p>\
         </main></body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

/// Checks what Amazon checks before showing consent; an error here is shown, not redirected.
fn validate(state: &SimState, q: &AuthorizeQuery) -> Result<(String, String), String> {
    if q.client_id.as_deref() != Some(state.config().client_id.as_str()) {
        return Err("Unknown client_id: this application is not registered.".to_owned());
    }
    let redirect = q
        .redirect_uri
        .as_deref()
        .filter(|r| url::Url::parse(r).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        .ok_or("redirect_uri is missing or not an absolute http(s) URL.")?;
    if q.response_type.as_deref() != Some("code") {
        return Err("response_type must be code.".to_owned());
    }
    if q.scope.as_deref() != Some(ADS_SCOPE) {
        return Err(format!("scope must be {ADS_SCOPE}."));
    }
    Ok((redirect.to_owned(), q.state.clone().unwrap_or_default()))
}

/// `GET /ap/oa`: the consent page, with a choice of simulated user.
pub async fn authorize(State(state): State<SimState>, Query(q): Query<AuthorizeQuery>) -> Response {
    let (redirect, st) = match validate(&state, &q) {
        Ok(v) => v,
        Err(msg) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Sign-in error",
                &format!("<p>{}</p>", escape(&msg)),
            );
        }
    };
    let mut options = String::new();
    for (i, u) in users::users(state.seed()).iter().enumerate() {
        options.push_str(&format!(
            "<p><input type=\"radio\" name=\"user\" id=\"user-{l}\" value=\"{l}\"{c}>\
             <label for=\"user-{l}\">{n}</label></p>",
            l = escape(&u.login),
            n = escape(&u.name),
            c = if i == 0 { " checked" } else { "" },
        ));
    }
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    let body = format!(
        "<p><strong>Quiver</strong> would like to manage your Amazon Ads campaigns \
         ({scope}).</p><form method=\"post\" action=\"oa\"><fieldset><legend>Signed in as\
         </legend>{options}</fieldset>{h1}{h2}{h3}{h4}\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Approve</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        scope = escape(ADS_SCOPE),
        h1 = hidden("client_id", q.client_id.as_deref().unwrap_or("")),
        h2 = hidden("redirect_uri", &redirect),
        h3 = hidden("state", &st),
        h4 = hidden("scope", ADS_SCOPE),
    );
    page(StatusCode::OK, "Allow Quiver access?", &body)
}

fn see_other(location: &url::Url) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.as_str().to_owned())],
    )
        .into_response()
}

/// `POST /ap/oa`: the user's choice; redirects back to the client.
pub async fn decide(State(state): State<SimState>, body: Bytes) -> Response {
    let mut q = AuthorizeQuery {
        response_type: Some("code".to_owned()),
        ..AuthorizeQuery::default()
    };
    let mut decision = None;
    let mut login = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "client_id" => q.client_id = v,
            "redirect_uri" => q.redirect_uri = v,
            "state" => q.state = v,
            "scope" => q.scope = v,
            "decision" => decision = v,
            "user" => login = v,
            _ => {}
        }
    }
    let (redirect, st) = match validate(&state, &q) {
        Ok(v) => v,
        Err(msg) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Sign-in error",
                &format!("<p>{}</p>", escape(&msg)),
            );
        }
    };
    let Ok(mut back) = url::Url::parse(&redirect) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in error",
            "<p>Bad redirect_uri.</p>",
        );
    };
    if decision.as_deref() != Some("allow") {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied the request")
            .append_pair("state", &st);
        return see_other(&back);
    }
    let login = login
        .filter(|l| users::user(state.seed(), l).is_some())
        .unwrap_or_else(|| "alice".to_owned());
    let code = state
        .oauth_mut()
        .issue_code(&login, &state.config().client_id, &redirect);
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("scope", ADS_SCOPE)
        .append_pair("state", &st);
    see_other(&back)
}
