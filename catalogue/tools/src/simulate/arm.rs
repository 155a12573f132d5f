//! One arm of the simulation: a fresh embedded store served in-process on loopback by the
//! pipeline under test, and the small blocking HTTP client the simulated shoppers use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shoplook_core::ModelContract;

use super::{SimError, SimProduct};
use shoplook_domain::ads::{Ads, AdsConfig};
use shoplook_domain::learn::{LearnConfig, LearnedRanker, Learner};
use shoplook_domain::search::{NoSponsored, Pipeline};
use shoplook_domain::store::sqlite::{DEFAULT_QUANTIZATION, SqliteStore};
use shoplook_domain::store::{ProductIndex, Store};
use shoplook_http::{App, ServeConfig};

/// A server of one arm: its own store and an in-process HTTP server on loopback.
pub struct ArmServer {
    pub url: String,
    pub key: String,
    pub store: Arc<dyn Store>,
    dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ArmServer {
    /// A fresh embedded store holding `products`, served by the learned pipeline.
    pub fn start(
        products: &[SimProduct],
        contract: &ModelContract,
        learn: &LearnConfig,
    ) -> Result<ArmServer, SimError> {
        Self::start_embedded(products, contract, learn, None)
    }

    /// [`ArmServer::start`] with the ad auction of `ads` in the pipeline (and its clicks
    /// charged through the filter).
    pub fn start_with_ads(
        products: &[SimProduct],
        contract: &ModelContract,
        learn: &LearnConfig,
        ads: AdsConfig,
    ) -> Result<ArmServer, SimError> {
        Self::start_embedded(products, contract, learn, Some(ads))
    }

    fn start_embedded(
        products: &[SimProduct],
        contract: &ModelContract,
        learn: &LearnConfig,
        ads: Option<AdsConfig>,
    ) -> Result<ArmServer, SimError> {
        let dir =
            std::env::temp_dir().join(format!("shoplook-sim-{}", shoplook_domain::random_hex(6)));
        let store = SqliteStore::open(&dir, DEFAULT_QUANTIZATION)?;
        store.ensure_contract(contract)?;
        let batch: Vec<_> = products
            .iter()
            .map(|p| {
                (
                    p.product.clone(),
                    format!("sim-{}", p.product.id),
                    p.vector.clone(),
                )
            })
            .collect();
        store.upsert_batch(&batch)?;
        let mut server = Self::serve(Arc::new(store), contract, learn, ads)?;
        server.dir = dir;
        Ok(server)
    }

    /// `products` written to `store` (any store, e.g. PostgreSQL), served as by [`ArmServer::start`].
    pub fn start_on(
        store: Arc<dyn Store>,
        products: &[SimProduct],
        contract: &ModelContract,
        learn: &LearnConfig,
    ) -> Result<ArmServer, SimError> {
        store.ensure_contract(contract)?;
        for p in products {
            store.upsert(&p.product, &format!("sim-{}", p.product.id), &p.vector)?;
        }
        Self::serve(store, contract, learn, None)
    }

    fn serve(
        store: Arc<dyn Store>,
        contract: &ModelContract,
        learn: &LearnConfig,
        ads: Option<AdsConfig>,
    ) -> Result<ArmServer, SimError> {
        let dir = PathBuf::new();
        let key = shoplook_domain::keys::create_key(
            store.as_ref(),
            "sim-app",
            &shoplook_domain::keys::Role::App,
        )?;
        let learner = Learner::new(store.clone(), learn.clone());
        let ranker = Box::new(LearnedRanker::new(learner.clone()));
        let pipeline = match ads {
            Some(cfg) => Pipeline::with_ads(ranker, Ads::new(store.clone(), Some(learner), cfg)),
            None => Pipeline::new(ranker, Box::new(NoSponsored)),
        };
        let config = ServeConfig {
            rate_limit: 0.0,
            ..ServeConfig::default()
        };
        let app = App::new(store.clone(), contract.clone(), config)
            .with_pipeline(pipeline)
            .router();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                let _ = addr_tx.send(listener.local_addr().expect("local address"));
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(SimError::ServerDidNotStart)?;
        Ok(ArmServer {
            url: format!("http://{addr}"),
            key,
            store,
            dir,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for ArmServer {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A small blocking HTTP client for the simulator (ureq).
pub struct Http {
    agent: ureq::Agent,
    base: String,
    auth: String,
    pub requests: usize,
}

impl Http {
    pub fn new(base: &str, key: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Http {
            agent,
            base: base.to_string(),
            auth: format!("Bearer {key}"),
            requests: 0,
        }
    }

    /// POSTs JSON; returns (status, body as JSON).
    pub fn post(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), SimError> {
        self.requests += 1;
        // A JSON value always serialises (its map keys are strings).
        let bytes = serde_json::to_vec(body).expect("a JSON value serialises");
        let request_error = |source| SimError::Request {
            path: path.to_string(),
            source,
        };
        let mut resp = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
            .header("Content-Type", "application/json")
            .send(&bytes[..])
            .map_err(request_error)?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(request_error)?;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Ok((status, json))
    }

    /// POSTs and requires a 2xx answer.
    pub fn post_ok(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, SimError> {
        let (status, json) = self.post(path, body)?;
        if !(200..300).contains(&status) {
            return Err(SimError::Status {
                path: path.to_string(),
                status,
                body: json,
            });
        }
        Ok(json)
    }
}
