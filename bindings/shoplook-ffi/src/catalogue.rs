//! The catalogue client: `shoplook_core::client::CatalogueClient` and its wire types, and the
//! HTTP transport an app supplies (its platform's HTTP stack).

use std::sync::Arc;
use std::time::Duration;

use shoplook_core as core;
use shoplook_core::client::{
    CatalogueClient as CoreClient, HttpRequest as CoreRequest, HttpResponse as CoreResponse,
    Transport,
};
use shoplook_core::wire;

use crate::error::{Result, ShopLookError, guard};
use crate::task::{CancelToken, run_blocking};
use crate::types::{Embedding, Item, ModelContract};

/// Optional restrictions of a search; every field null/nil means "no restriction".
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct SearchFilters {
    #[uniffi(default = None)]
    pub max_price: Option<f64>,
    #[uniffi(default = None)]
    pub min_price: Option<f64>,
    /// Exact brand, compared case-insensitively.
    #[uniffi(default = None)]
    pub brand: Option<String>,
    /// `true`: only products in stock.
    #[uniffi(default = None)]
    pub in_stock: Option<bool>,
}

impl From<SearchFilters> for wire::SearchFilters {
    fn from(f: SearchFilters) -> Self {
        wire::SearchFilters {
            max_price: f.max_price,
            min_price: f.min_price,
            brand: f.brand,
            in_stock: f.in_stock,
        }
    }
}

/// A product as the catalogue stores it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub brand: String,
    pub price: f64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    pub category: String,
    /// URL (or catalogue-side path) of the product image.
    pub image: String,
    /// The purchase link.
    pub url: String,
    pub in_stock: bool,
}

impl From<wire::Product> for Product {
    fn from(p: wire::Product) -> Self {
        Product {
            id: p.id,
            title: p.title,
            brand: p.brand,
            price: p.price,
            currency: p.currency,
            category: p.category,
            image: p.image,
            url: p.url,
            in_stock: p.in_stock,
        }
    }
}

/// One search result: a product, why it is where it is (`similarity`, `boost`, `score`), and
/// whether it is a paid placement (`sponsored`, `campaignId`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub brand: String,
    pub price: f64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    pub category: String,
    /// URL (or catalogue-side path) of the product image.
    pub image: String,
    /// The purchase link.
    pub url: String,
    pub in_stock: bool,
    /// The score results are ordered by: `similarity + boost`.
    pub score: f32,
    /// Cosine similarity to the query, in [-1, 1]; higher is more similar.
    pub similarity: f32,
    /// What the learned ranking added to `similarity` (from what shoppers clicked and bought
    /// after similar searches); 0 under `visual` ranking and for sponsored hits.
    pub boost: f32,
    /// A paid placement (an ad slot won in the catalogue's auction): show it labelled
    /// "Sponsored". A click on it is what its campaign pays for.
    pub sponsored: bool,
    /// The campaign of a sponsored hit; null/nil for organic ones.
    pub campaign_id: Option<String>,
}

impl From<wire::SearchHit> for SearchHit {
    fn from(h: wire::SearchHit) -> Self {
        SearchHit {
            id: h.id,
            title: h.title,
            brand: h.brand,
            price: h.price,
            currency: h.currency,
            category: h.category,
            image: h.image,
            url: h.url,
            in_stock: h.in_stock,
            score: h.score,
            similarity: h.similarity,
            boost: h.boost,
            sponsored: h.sponsored,
            campaign_id: h.campaign_id,
        }
    }
}

/// How a search's results were ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Ranking {
    /// By visual similarity only (`boost` is 0).
    Visual,
    /// Similarity plus a boost learned from shoppers' clicks and purchases.
    Learned,
}

impl From<wire::Ranking> for Ranking {
    fn from(r: wire::Ranking) -> Self {
        match r {
            wire::Ranking::Visual => Ranking::Visual,
            wire::Ranking::Learned => Ranking::Learned,
        }
    }
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchResponse {
    /// Best first (sponsored hits at the catalogue's ad positions).
    pub results: Vec<SearchHit>,
    /// Identifies this search in later `reportEvent` calls.
    pub query_id: String,
    /// The catalogue's model contract (`id@version`).
    pub model: String,
    /// How the results were ordered.
    pub ranking: Ranking,
}

impl From<wire::SearchResponse> for SearchResponse {
    fn from(r: wire::SearchResponse) -> Self {
        SearchResponse {
            results: r.results.into_iter().map(SearchHit::from).collect(),
            query_id: r.query_id,
            model: r.model,
            ranking: r.ranking.into(),
        }
    }
}

/// What the user did with a product (the feedback loop's raw data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EventType {
    Impression,
    Click,
    Purchase,
}

impl From<EventType> for wire::EventType {
    fn from(e: EventType) -> Self {
        match e {
            EventType::Impression => wire::EventType::Impression,
            EventType::Click => wire::EventType::Click,
            EventType::Purchase => wire::EventType::Purchase,
        }
    }
}

impl From<ModelContract> for core::ModelContract {
    fn from(c: ModelContract) -> Self {
        core::ModelContract {
            id: c.id,
            version: c.version,
            dim: c.dim as usize,
        }
    }
}

impl From<Item> for core::Item {
    fn from(i: Item) -> Self {
        core::Item {
            id: i.id,
            label: i.label,
            category: i.category,
            score: i.score,
            bbox: i.bbox.into(),
            embedding: i.embedding,
            detector: i.detector,
            person_id: i.person_id,
        }
    }
}

impl From<Embedding> for core::Embedding {
    fn from(e: Embedding) -> Self {
        core::Embedding {
            vector: e.vector,
            model: e.model.into(),
        }
    }
}

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// A request the catalogue client built, for the app's `HttpTransport` to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Headers to send (`Authorization`, `Content-Type`).
    pub headers: Vec<HttpHeader>,
    /// Empty for `GET` and `DELETE`.
    pub body: Vec<u8>,
    /// The whole exchange should not take longer than this.
    pub timeout_ms: u64,
}

/// The answer to an `HttpRequest`, whatever its status (the client reads 4xx/5xx itself).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    pub status: u16,
    /// Names in any case.
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// Sends the catalogue client's requests through the app's own HTTP stack (Android:
/// `HttpUrlConnectionTransport`, OkHttp...; iOS: `URLSessionTransport`), so that the platform's
/// proxies, trust store (user-installed CAs), certificate pinning and cellular policy apply.
///
/// Called on a worker thread (never the UI thread); it may block until the answer is there.
/// Return the answer of any HTTP status; throw `ShopLookError.Offline` (or any exception) only
/// when no answer came (no network, DNS, refused, TLS failure, timeout).
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// The app's transport seen from core.
struct AppTransport(Arc<dyn HttpTransport>);

impl Transport for AppTransport {
    fn send(&self, r: &CoreRequest) -> std::result::Result<CoreResponse, String> {
        let request = HttpRequest {
            method: r.method.clone(),
            url: r.url.clone(),
            headers: r
                .headers
                .iter()
                .map(|(name, value)| HttpHeader {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: r.body.clone(),
            timeout_ms: r.timeout.as_millis() as u64,
        };
        match self.0.send(request) {
            Ok(a) => Ok(CoreResponse {
                status: a.status,
                headers: a.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                body: a.body,
            }),
            Err(ShopLookError::Offline { detail }) => Err(detail),
            Err(other) => Err(other.to_string()),
        }
    }
}

/// Client of one catalogue server: finds products that look like an analysed item.
///
/// Cheap to share; every method may be called from any thread. Network calls block (5 s connect
/// and 15 s per-call timeouts, 2 retries on connection failures and 5xx answers): call them off
/// the UI thread or use the `Async` variants. Errors: `Offline` (no server reachable),
/// `Unauthorized` (bad API key), `RateLimited`, `ContractMismatch` (the catalogue was built with
/// another embedding model), `BadRequest`, `Server`.
#[derive(uniffi::Object)]
pub struct CatalogueClient {
    inner: CoreClient,
}

#[uniffi::export]
impl CatalogueClient {
    /// `baseUrl` like `https://catalogue.example.com` or `http://127.0.0.1:8787`; `apiKey` as
    /// issued by `shoplook catalogue keys create`. No request is made here.
    ///
    /// `transport`: the app's HTTP stack (see `HttpTransport`). Phone builds of the library
    /// (Android AAR, iOS xcframework) have no HTTP client of their own and need one; null/nil
    /// uses the built-in client (ureq + rustls), which only host builds (cargo feature
    /// `builtin-http`, on by default) contain.
    ///
    /// Throws `BadRequest` if the URL is not http(s), or if `transport` is null/nil in a build
    /// without the built-in client.
    #[uniffi::constructor(default(transport = None))]
    pub fn new(
        base_url: String,
        api_key: String,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>> {
        guard(|| {
            let inner = match transport {
                Some(t) => {
                    CoreClient::with_transport(&base_url, &api_key, Arc::new(AppTransport(t)))?
                        .timeout(Duration::from_secs(15))
                }
                None => builtin_client(&base_url, &api_key)?,
            };
            Ok(Arc::new(CatalogueClient { inner }))
        })
    }

    /// The server's base URL, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_string()
    }

    /// Searches for the `k` products most like an analysed item, within its category.
    /// `model` is the contract of the item's embedding (`Analysis.embedder`).
    ///
    /// Throws `BadRequest` if the item has no embedding (analysed with `embed = false`).
    #[uniffi::method(default(k = 10, filters))]
    pub fn search(
        &self,
        item: Item,
        model: ModelContract,
        k: u32,
        filters: SearchFilters,
    ) -> Result<SearchResponse> {
        guard(|| search(&self.inner, item, model, k, filters))
    }

    /// `search` as a Kotlin `suspend` / Swift `async` function (see `ShopLook.analyzeAsync`
    /// for cancellation).
    #[uniffi::method(default(cancel = None, k = 10, filters))]
    pub async fn search_async(
        &self,
        item: Item,
        model: ModelContract,
        k: u32,
        filters: SearchFilters,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SearchResponse> {
        let inner = self.inner.clone();
        run_blocking(cancel, move || search(&inner, item, model, k, filters)).await
    }

    /// Searches with an embedding from `embedRegion` / `embedImage`, optionally within a
    /// category (e.g. `shoes`).
    #[uniffi::method(default(category = None, k = 10, filters))]
    pub fn search_embedding(
        &self,
        embedding: Embedding,
        category: Option<String>,
        k: u32,
        filters: SearchFilters,
    ) -> Result<SearchResponse> {
        guard(|| search_embedding(&self.inner, embedding, category, k, filters))
    }

    /// `searchEmbedding` as a Kotlin `suspend` / Swift `async` function.
    #[uniffi::method(default(cancel = None, category = None, k = 10, filters))]
    pub async fn search_embedding_async(
        &self,
        embedding: Embedding,
        category: Option<String>,
        k: u32,
        filters: SearchFilters,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SearchResponse> {
        let inner = self.inner.clone();
        run_blocking(cancel, move || {
            search_embedding(&inner, embedding, category, k, filters)
        })
        .await
    }

    /// Records that the user saw (`Impression`), tapped (`Click`) or bought (`Purchase`) a
    /// product. `queryId` is the `SearchResponse.queryId` the product came from and `position`
    /// its 1-based place in that response's `results` (what corrects the learned ranking for
    /// position bias; report each shown result's impression with its position). A click on a
    /// sponsored hit, with its `queryId`, is what its campaign pays for (once per search). The
    /// client's session id goes with every event.
    ///
    /// Throws `BadRequest` (from the catalogue) for a position outside 1..=1000.
    #[uniffi::method(default(query_id = None, position = None))]
    pub fn report_event(
        &self,
        kind: EventType,
        product_id: String,
        query_id: Option<String>,
        position: Option<u32>,
    ) -> Result<()> {
        guard(|| {
            report(
                &self.inner,
                kind,
                &product_id,
                query_id.as_deref(),
                position,
            )
        })
    }

    /// `reportEvent` as a Kotlin `suspend` / Swift `async` function.
    #[uniffi::method(default(cancel = None, query_id = None, position = None))]
    pub async fn report_event_async(
        &self,
        kind: EventType,
        product_id: String,
        query_id: Option<String>,
        position: Option<u32>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<()> {
        let inner = self.inner.clone();
        run_blocking(cancel, move || {
            report(&inner, kind, &product_id, query_id.as_deref(), position)
        })
        .await
    }

    /// The id of this client's app session (32 random hex digits; never a device or user id),
    /// sent with every search and event so that the catalogue can cap what one session teaches
    /// its ranking and how often it shows that session the same ad. Stable until
    /// `rotateSession`.
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// Starts a new session (a new random id) and returns its id. Call it when the app comes
    /// back to the foreground.
    pub fn rotate_session(&self) -> String {
        self.inner.rotate_session()
    }

    /// One product by id.
    pub fn product(&self, id: String) -> Result<Product> {
        guard(|| Ok(self.inner.product(&id)?.into()))
    }
}

#[cfg(feature = "builtin-http")]
fn builtin_client(base_url: &str, api_key: &str) -> Result<CoreClient> {
    Ok(CoreClient::new(base_url, api_key)?)
}

#[cfg(not(feature = "builtin-http"))]
fn builtin_client(_base_url: &str, _api_key: &str) -> Result<CoreClient> {
    Err(ShopLookError::BadRequest {
        status: 0,
        detail: "this build of the library has no HTTP client of its own: pass a transport \
                 (HttpUrlConnectionTransport on Android, URLSessionTransport on iOS)"
            .into(),
    })
}

fn report(
    client: &CoreClient,
    kind: EventType,
    product_id: &str,
    query_id: Option<&str>,
    position: Option<u32>,
) -> Result<()> {
    Ok(client.report(kind.into(), product_id, query_id, position)?)
}

fn search(
    client: &CoreClient,
    item: Item,
    model: ModelContract,
    k: u32,
    filters: SearchFilters,
) -> Result<SearchResponse> {
    let found = client.search(&item.into(), &model.into(), k as usize, &filters.into())?;
    Ok(found.into())
}

fn search_embedding(
    client: &CoreClient,
    embedding: Embedding,
    category: Option<String>,
    k: u32,
    filters: SearchFilters,
) -> Result<SearchResponse> {
    let found = client.search_embedding(
        &embedding.into(),
        category.as_deref(),
        k as usize,
        &filters.into(),
    )?;
    Ok(found.into())
}
