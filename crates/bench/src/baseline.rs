//! The baseline server: the same HTTP and JSON work as a Quiver scenario, without the
//! database. `GET /` returns a fixed body; `POST /link` reads a creation body and
//! answers 201 with a fixed link object; `GET /page/{name}?n=N` builds a page of N
//! objects per request from a sample page Quiver returned (`PUT /page/{name}`), with the
//! same fields and the same sizes, each object with its own id, and serialises it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

/// A page's envelope and one of its objects, under the envelope's list field.
#[derive(Clone)]
struct Sample {
    envelope: Map<String, Value>,
    list_field: String,
    item: Map<String, Value>,
}

type Samples = Arc<RwLock<HashMap<String, Sample>>>;

pub async fn serve() -> anyhow::Result<()> {
    let samples: Samples = Arc::default();
    let app = axum::Router::new()
        .route(
            "/",
            get(|| async { axum::Json(json!({"status": "ok", "service": "baseline"})) }),
        )
        .route("/link", post(create))
        .route("/page/{name}", get(page).put(set_sample))
        .route("/r/{code}", get(redirect))
        .with_state(samples);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// An attribution URL of the size Quiver stores.
const AMAZON_URL: &str = "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_4000000001_static_9_99&ref_=aa_maas&tag=maas&aa_campaignid=aff_demo_creator&aa_adgroupid=01a23c08dbd176c98070013ee0c2aa04&aa_creativeid=quiver";

/// A link object of the size Quiver returns.
fn fixed_link() -> Value {
    json!({
        "id": "01a23c08-dbd1-76c9-8070-013ee0c2aa04",
        "url": AMAZON_URL,
        "attribution_link": AMAZON_URL,
        "asin": "B0D45KS7QM", "marketplace": "amazon.com", "country_code": "US",
        "link_name": "bench 1", "type": "product", "active": true,
        "product_name": "Northwind Trail Backpack 30L", "brand_id": "northwind",
        "created_date_time": "2026-12-03T13:12:23.249Z"
    })
}

/// The bare 302 the redirect scenario is measured against: the same answer as Quiver's
/// `/r/{code}` (a stored-size Amazon URL, the same headers), with no lookup and no count.
async fn redirect(Path(_code): Path<String>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, AMAZON_URL),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    )
        .into_response()
}

async fn create(axum::Json(body): axum::Json<Value>) -> (StatusCode, axum::Json<Value>) {
    let mut link = fixed_link();
    if let Some(name) = body.get("link_name") {
        link["link_name"] = name.clone();
    }
    (StatusCode::CREATED, axum::Json(link))
}

async fn set_sample(
    State(samples): State<Samples>,
    Path(name): Path<String>,
    axum::Json(page): axum::Json<Value>,
) -> StatusCode {
    let Value::Object(mut envelope) = page else {
        return StatusCode::UNPROCESSABLE_ENTITY;
    };
    let Some((field, item)) = envelope.iter().find_map(|(k, v)| match v {
        Value::Array(items) => match items.first() {
            Some(Value::Object(o)) => Some((k.clone(), o.clone())),
            _ => None,
        },
        _ => None,
    }) else {
        return StatusCode::UNPROCESSABLE_ENTITY;
    };
    envelope.insert(field.clone(), Value::Null);
    if let Ok(mut s) = samples.write() {
        s.insert(
            name,
            Sample {
                envelope,
                list_field: field,
                item,
            },
        );
    }
    StatusCode::NO_CONTENT
}

async fn page(
    State(samples): State<Samples>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, usize>>,
) -> Result<axum::Json<Value>, StatusCode> {
    let sample = samples
        .read()
        .ok()
        .and_then(|s| s.get(&name).cloned())
        .ok_or(StatusCode::NOT_FOUND)?;
    let n = q.get("n").copied().unwrap_or(100);
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = sample.item.clone();
            // Each object its own, as rows read from a table would be.
            if let Some(Value::String(id)) = item.get_mut("id") {
                let tail = format!("{i:04}");
                id.replace_range(id.len().saturating_sub(4).., &tail);
            }
            Value::Object(item)
        })
        .collect();
    let mut envelope = sample.envelope;
    envelope.insert(sample.list_field, Value::Array(items));
    Ok(axum::Json(Value::Object(envelope)))
}
