//! Building the application: database (migrations, network seed), HTTP server on a bound
//! listener (port 0 in tests), and the e-mail worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppError;
use crate::auth::jwt::JwtKeys;
use crate::auth::throttle::LoginThrottle;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::email::transport::Mailer;
use crate::http::middleware;
use crate::network::NetworkFile;
use crate::outbox::Worker;
use crate::routes;
use crate::state::AppState;
use utoipa_actix_web::AppExt;

/// Opens the database, applies the migrations and seeds the network.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<Db> {
    // The clock first: the service and the worker both start here.
    crate::clock::set_offset(settings.clock.offset_seconds);
    let db = Db::new(&settings.database_url(), &settings.db_pool_options())?;
    let network = NetworkFile::load(&settings.network.file)?;
    let handle = db.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = handle
            .get()
            .map_err(|e| anyhow::anyhow!("database unreachable: {e}"))?;
        db::with_setup_lock(&mut conn, |conn| {
            db::run_migrations(conn)?;
            network.seed(conn)?;
            db::write_transaction(conn, |conn| -> anyhow::Result<usize> {
                Ok(db::kpis::fill_months(conn)?)
            })?;
            crate::calendar::top_up(conn, crate::clock::now())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        })
    })
    .await??;
    Ok(db)
}

pub fn worker(settings: &Settings, db: Db) -> anyhow::Result<Worker> {
    Ok(Worker {
        db,
        mailer: Mailer::from_settings(settings)?,
        settings: settings.email.clone(),
        data_key: Arc::new(settings.data_key()?),
    })
}

pub struct Application {
    port: u16,
    server: Server,
    worker: Option<Worker>,
    audit: crate::config::AuditSettings,
    /// The links of the e-mails the background work writes (the reminders).
    public_url: String,
    pub db: Db,
}

/// The background work beside the e-mail worker: the calendar's top-up, the follow-ups'
/// reminders, the audit sealer and
/// (when `audit.checkpoint_dir` is set) the audit checkpoints, until `stopped` turns true.
pub fn background_tasks(
    db: &Db,
    audit: &crate::config::AuditSettings,
    public_url: &str,
    stopped: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let (checkpoints_db, audit, checkpoints_stop) = (db.clone(), audit.clone(), stopped.clone());
    vec![
        tokio::spawn(crate::calendar::keep_topped_up(db.clone(), stopped.clone())),
        tokio::spawn(keep_reminding(
            db.clone(),
            public_url.to_owned(),
            stopped.clone(),
        )),
        tokio::spawn(crate::audit::keep_sealed(db.clone(), stopped.clone())),
        tokio::spawn(async move {
            let checkpoints = crate::audit_checkpoint::keep_checkpointing(
                checkpoints_db,
                audit,
                checkpoints_stop,
            );
            if let Err(error) = checkpoints.await {
                tracing::error!(error = %format!("{error:#}"), "audit checkpoints stopped");
            }
        }),
    ]
}

/// Queues the follow-ups' reminders due (at start, then every five minutes).
async fn keep_reminding(db: Db, public_url: String, shutdown: watch::Receiver<bool>) {
    crate::background::supervise(
        "follow-up reminders",
        std::time::Duration::from_secs(300),
        shutdown,
        |_| {
            let (db, public_url) = (db.clone(), public_url.clone());
            async move {
                db.run(move |conn| {
                    crate::app::follow_ups::remind(conn, &public_url, crate::clock::now())
                })
                .await?;
                Ok(crate::background::Next::Pause)
            }
        },
    )
    .await;
}

impl Application {
    /// Builds the server (and, if `with_worker`, the e-mail worker) without running them.
    pub async fn build(settings: Settings, with_worker: bool) -> anyhow::Result<Application> {
        settings.check_audit_checkpoints()?;
        let db = prepare_database(&settings).await?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let worker = if with_worker {
            let worker = worker(&settings, db.clone())?;
            tracing::info!(destination = %worker.mailer.describe(), "e-mails are delivered to");
            Some(worker)
        } else {
            None
        };
        crate::auth::password_hash::warm_up();
        let settings = Arc::new(settings);
        let state = web::Data::new(AppState {
            db: db.clone(),
            center_zone: Default::default(),
            staffs: Default::default(),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            data_key: Arc::new(settings.data_key()?),
            attachments: crate::attachments::Store::from_settings(&settings)?,
            jwt: Arc::new(JwtKeys::new(
                settings.auth.jwt_secret.expose_secret().as_bytes(),
                Some(settings.auth.jwt_previous_secret.expose_secret().as_bytes()),
                &settings.auth.issuer,
                settings.auth.access_token_minutes,
            )),
            throttle: Arc::new(LoginThrottle::new(
                settings.auth.login_max_failures_per_account,
                settings.auth.login_max_failures_per_address,
                Duration::from_secs(settings.auth.login_lockout_seconds),
            )),
            settings: settings.clone(),
        });
        let json_limit = settings.server.json_limit_bytes;
        let openapi = crate::openapi::build();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(middleware::around_every_request))
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(json_limit))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()),
                )
                .into_utoipa_app()
                .configure(routes::configure)
                .into_app()
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
                .configure(crate::web::configure)
                .default_service(web::to(middleware::no_route))
        })
        .shutdown_timeout(30)
        // SIGINT and SIGTERM both stop gracefully (actix's own SIGINT handling is immediate).
        .disable_signals()
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(
            address = %format!("http://{}:{port}", settings.server.host),
            docs = %format!("{}/docs/", settings.server.public_url),
            "Consilium listening"
        );
        Ok(Application {
            port,
            server: server.run(),
            worker,
            audit: settings.audit.clone(),
            public_url: settings.server.public_url.clone(),
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM: in-flight requests finish, then the worker stops between
    /// two messages.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop_worker, stopped) = watch::channel(false);
        let mut background = match &self.worker {
            Some(_) => background_tasks(&self.db, &self.audit, &self.public_url, &stopped),
            None => Vec::new(),
        };
        background.extend(self.worker.map(|worker| tokio::spawn(worker.run(stopped))));
        let handle = self.server.handle();
        let signals = tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("stopping: in-flight requests finish first");
            handle.stop(true).await;
        });
        let served = self.server.await;
        signals.abort();
        stop_worker.send(true).ok();
        for task in background {
            task.await.ok();
        }
        Ok(served?)
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let terminate = async {
        #[cfg(unix)]
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
