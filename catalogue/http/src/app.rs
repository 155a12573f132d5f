//! The one app builder: a store, the services over it (search pipeline, learned ranking, ad
//! auction) and the background work (flush, retention purge), wired the same way for
//! `shoplook catalogue serve`, the tools and the tests. Background work runs as tokio tasks
//! that stop when the server does.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use shoplook_core::ModelContract;
use shoplook_domain::ads::{Ads, AdsConfig};
use shoplook_domain::learn::{LearnConfig, LearnedRanker, Learner, purge_and_rebuild};
use shoplook_domain::search::Pipeline;
use shoplook_domain::trends::TrendsConfig;
use shoplook_domain::{CatError, CatResult, Store};
use tokio::task::JoinHandle;

use crate::{ServeConfig, router_with, server};

/// How often the store is flushed while serving (and once at the end).
const FLUSH_EVERY: Duration = Duration::from_secs(60);

/// The retention purge and learner rebuild, run by the server on a schedule.
struct Maintenance {
    learner: Arc<Learner>,
    retention_days: u32,
    every: Duration,
}

/// A catalogue service over one store, ready to route or serve.
pub struct App {
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    pipeline: Pipeline,
    trends: TrendsConfig,
    maintenance: Option<Maintenance>,
}

impl App {
    /// Today's plain search over `store`: similarity ranking, organic results only; trend
    /// reports with the default privacy settings.
    pub fn new(store: Arc<dyn Store>, contract: ModelContract, config: ServeConfig) -> Self {
        App {
            store,
            contract,
            config,
            pipeline: Pipeline::default(),
            trends: TrendsConfig::default(),
            maintenance: None,
        }
    }

    /// The trend reports' privacy settings (`k`, noise), filled once by the caller at start.
    pub fn with_trends(mut self, trends: TrendsConfig) -> Self {
        self.trends = trends;
        self
    }

    /// What `serve` runs: the ranking learned from shoppers (the logs purged past
    /// `retention_days` and the learner rebuilt, at start and every `every`) and the ad
    /// auction of `ads`.
    pub fn with_learning_and_ads(
        mut self,
        learn: LearnConfig,
        retention_days: u32,
        every: Duration,
        ads: AdsConfig,
    ) -> Self {
        let learner = Learner::new(self.store.clone(), learn);
        let ads = Ads::new(self.store.clone(), Some(learner.clone()), ads);
        self.pipeline = Pipeline::with_ads(Box::new(LearnedRanker::new(learner.clone())), ads);
        self.maintenance = Some(Maintenance {
            learner,
            retention_days,
            every,
        });
        self
    }

    /// A search pipeline of the caller's (another `Ranker` or `Blender`), with no maintenance.
    pub fn with_pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = pipeline;
        self.maintenance = None;
        self
    }

    /// The axum app alone (no background work): for callers that run their own server.
    pub fn router(self) -> Router {
        let trends = self.trends_config();
        router_with(
            self.store,
            self.contract,
            &self.config,
            self.pipeline,
            trends,
        )
    }

    /// The trend settings as served: with maintenance, the retention it purges at, so that
    /// a week the purge has started on is never reported (whatever `with_trends` was given).
    fn trends_config(&self) -> TrendsConfig {
        let mut trends = self.trends.clone();
        if let Some(m) = &self.maintenance {
            trends.retention_days = m.retention_days;
        }
        trends
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn serve(self, ready: impl FnOnce(SocketAddr)) -> CatResult<()> {
        self.serve_until(shutdown_signal(), ready).await
    }

    /// Serves until `shutdown` completes: requests in flight are finished, the background
    /// tasks stopped, and the store flushed. A caller on its own runtime keeps a clone of a
    /// PostgreSQL store and drops it outside the runtime (see [`App::serve_blocking`]).
    pub async fn serve_until(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        ready: impl FnOnce(SocketAddr),
    ) -> CatResult<()> {
        let listen = self.config.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CatError::os_at(format!("cannot listen on {listen}"), e))?;
        let addr = listener.local_addr()?;
        let store = self.store.clone();
        let limits = self.config.limits.clone();
        let mut tasks: Vec<JoinHandle<()>> = vec![tokio::spawn(flush_every(store.clone()))];
        self.trends = self.trends_config();
        if let Some(m) = self.maintenance.take() {
            tasks.push(tokio::spawn(maintain_every(store.clone(), m)));
        }
        let app = self.router();
        tracing::info!(%addr, store = store.kind(), limits = ?limits, "serving");
        ready(addr);
        server::serve_connections(listener, app, limits, shutdown).await;
        for t in &tasks {
            t.abort();
        }
        tokio::task::spawn_blocking(move || store.flush()).await??;
        tracing::info!("stopped");
        Ok(())
    }

    /// [`App::serve`] on a runtime of its own, for a binary's `main`.
    pub fn serve_blocking(self, ready: impl FnOnce(SocketAddr)) -> CatResult<()> {
        // The PostgreSQL client blocks on a runtime of its own when it is dropped, which panics
        // on any thread of this runtime (workers and blocking pool alike). So the last
        // reference to the store is this one, dropped after the runtime has shut down.
        let store = self.store.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let served = runtime.block_on(self.serve(ready));
        drop(runtime);
        drop(store);
        served
    }
}

async fn flush_every(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = s.flush() {
                tracing::error!(error = %e, "flush failed");
            }
        })
        .await;
    }
}

/// The retention purge at once and then every `m.every`, each followed by the learner's
/// rebuild from the logs that remain (so nothing purged is remembered).
async fn maintain_every(store: Arc<dyn Store>, m: Maintenance) {
    let m = Arc::new(m);
    let mut tick = tokio::time::interval(m.every);
    loop {
        tick.tick().await;
        let (s, m) = (store.clone(), m.clone());
        let _ = tokio::task::spawn_blocking(move || {
            match purge_and_rebuild(s.as_ref(), &m.learner, m.retention_days) {
                Ok(p) => tracing::info!(
                    searches = p.searches,
                    events = p.events,
                    retention_days = m.retention_days,
                    "purged the logs"
                ),
                Err(e) => tracing::error!(error = %e, "purge failed"),
            }
        })
        .await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A served trend report follows the purge's retention, not the default it was given.
    #[test]
    fn trend_reports_use_the_retention_the_server_purges_at() {
        let dir =
            std::env::temp_dir().join(format!("shoplook-app-{}", shoplook_domain::random_hex(4)));
        let store = shoplook_domain::store::sqlite::SqliteStore::open(
            &dir,
            shoplook_domain::store::sqlite::DEFAULT_QUANTIZATION,
        )
        .unwrap();
        let contract = ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 3,
        };
        let app = App::new(Arc::new(store), contract, ServeConfig::default())
            .with_trends(TrendsConfig::default());
        assert_eq!(app.trends_config().retention_days, 90);
        let app = app.with_learning_and_ads(
            LearnConfig::default(),
            30,
            Duration::from_secs(3600),
            AdsConfig::default(),
        );
        assert_eq!(app.trends_config().retention_days, 30);
        let _ = std::fs::remove_dir_all(dir);
    }
}
