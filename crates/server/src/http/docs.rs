//! The API describes itself: `GET /openapi.json`, generated from the handlers.

use axum::Router;
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{OpenApi, OpenApiBuilder};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;

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
                     `Authorization: Bearer <access_token>`. Errors are `{\"detail\", \"code\"}`; request \
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
    doc
}

/// `GET /openapi.json` and the reference page at `/docs`, whose assets are compiled into
/// the binary (no CDN).
pub fn router(document: OpenApi) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}
