//! The API describes itself: `GET /openapi.json`, generated from the handlers.

use axum::Router;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Info, servers and the bearer scheme (OAuth2 password flow at `/token`); paths and
/// schemas are added by each resource's router.
pub fn base_document() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Quiver API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Affiliate attribution links for Amazon products, with the Archer Affiliates API. \
                     Get a token with `POST /token` (form fields `username`, `password`), then send \
                     `Authorization: Bearer <access_token>` (or an API key, `qk_...`, from `POST /account/api_keys`). Errors are `{\"detail\", \"code\"}`; request \
                     validation errors are 422 with `{\"detail\": [{\"loc\", \"msg\", \"type\"}]}`.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
            "/token",
            Scopes::new(),
        ))])),
    );
    // Webhook event data no path returns: the `report.updated` and
    // `amazon.connection_lost` events'.
    {
        use crate::objects::amazon_connection::ConnectionLost;
        use crate::objects::report_update::ReportUpdate;
        components.schemas.insert(
            <ReportUpdate as utoipa::ToSchema>::name().into_owned(),
            <ReportUpdate as utoipa::PartialSchema>::schema(),
        );
        components.schemas.insert(
            <ConnectionLost as utoipa::ToSchema>::name().into_owned(),
            <ConnectionLost as utoipa::PartialSchema>::schema(),
        );
    }
    doc
}

/// `GET /openapi.json` and the reference page at `/docs`, whose assets are compiled into
/// the binary (no CDN).
pub fn router(mut document: OpenApi) -> Router<AppState> {
    add_auth_responses(&mut document);
    add_validation_responses(&mut document);
    describe_every_response(&mut document);
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}

fn operations(document: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    })
}

/// The two answers of every operation behind a bearer token, declared once here:
/// handlers document only the responses particular to them, and word these two themselves
/// only when they say more (which account type a 403 is about).
fn add_auth_responses(document: &mut OpenApi) {
    for op in operations(document) {
        if op.security.as_ref().is_none_or(Vec::is_empty) {
            continue;
        }
        let responses = &mut op.responses.responses;
        responses
            .entry("401".to_owned())
            .or_insert_with(|| problem("`not_authenticated` or `invalid_token`"));
        responses
            .entry("403".to_owned())
            .or_insert_with(|| problem("`wrong_account_type`"));
    }
}

/// Every operation that takes parameters or a body can answer 422: the extractors refuse
/// undecodable bodies and control characters in any value, path parameters included.
/// Handlers that say more about their 422 keep their own wording.
fn add_validation_responses(document: &mut OpenApi) {
    for op in operations(document) {
        let takes_input =
            op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
        if !takes_input {
            continue;
        }
        op.responses
            .responses
            .entry("422".to_owned())
            .or_insert_with(|| {
                schema_response(
                    "ValidationProblem",
                    "A value that cannot be read, or holds a control character",
                )
            });
    }
}

fn problem(description: &str) -> RefOr<Response> {
    schema_response("Problem", description)
}

fn schema_response(schema: &str, description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

/// OpenAPI requires a description on every response; handlers document the ones that need
/// words, and the rest get the status's reason phrase.
fn describe_every_response(document: &mut OpenApi) {
    for op in operations(document) {
        for (status, response) in op.responses.responses.iter_mut() {
            if let RefOr::T(r) = response
                && r.description.is_empty()
            {
                r.description = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Response")
                    .to_owned();
            }
        }
    }
}
