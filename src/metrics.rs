//! Prometheus metrics: HTTP requests by route pattern and status (counts and latency
//! histograms), database statements per request by route, the database pool, the e-mail
//! outbox. Route patterns only (`/api/v1/requests/{id}`), never ids or queries.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::app::AppError;
use crate::db::{self, Db};
use crate::domain::mail::OutboxStatus;

/// The metrics of one server (each server, and each test's, has its own registry).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    statements: HistogramVec,
    pool: IntGaugeVec,
    outbox: IntGaugeVec,
    oldest_pending: prometheus::Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("consilium_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "consilium_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("metric");
        let statements = HistogramVec::new(
            HistogramOpts::new(
                "consilium_db_statements_per_request",
                "Database statements sent to answer an HTTP request (constant per route: no N+1)",
            )
            .buckets(vec![
                0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0, 100.0,
            ]),
            &["method", "route"],
        )
        .expect("metric");
        let pool = IntGaugeVec::new(
            Opts::new("consilium_db_pool_connections", "Database pool connections"),
            &["state"],
        )
        .expect("metric");
        let outbox = IntGaugeVec::new(
            Opts::new("consilium_outbox_messages", "E-mail outbox rows by status"),
            &["status"],
        )
        .expect("metric");
        let oldest_pending = prometheus::Gauge::new(
            "consilium_outbox_oldest_pending_age_seconds",
            "Age of the oldest e-mail waiting to be sent (0 when none)",
        )
        .expect("metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(statements.clone()),
            Box::new(pool.clone()),
            Box::new(outbox.clone()),
            Box::new(oldest_pending.clone()),
        ] {
            registry.register(collector).expect("unique metric");
        }
        Metrics {
            registry,
            requests,
            latency,
            statements,
            pool,
            outbox,
            oldest_pending,
        }
    }

    /// Counts one answered request, its time and the database statements it took.
    pub fn observe_request(
        &self,
        method: &str,
        route: &str,
        status: u16,
        seconds: f64,
        statements: u64,
    ) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
        self.statements
            .with_label_values(&[method, route])
            .observe(statements as f64);
    }

    /// The text exposition, with the gauges read now.
    pub async fn render(&self, db: &Db) -> Result<String, AppError> {
        let (open, idle, max) = db.pool_usage();
        self.pool.with_label_values(&["open"]).set(open.into());
        self.pool.with_label_values(&["idle"]).set(idle.into());
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(open.saturating_sub(idle)));
        self.pool.with_label_values(&["max"]).set(max.into());
        let (depth, oldest) = db
            .run(|conn| -> db::DbResult<_> {
                Ok((
                    db::outbox::depth_by_status(conn)?,
                    db::outbox::oldest_pending(conn)?,
                ))
            })
            .await?;
        for status in OutboxStatus::ALL {
            let count = depth
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            self.outbox.with_label_values(&[status.as_str()]).set(count);
        }
        let age = oldest.map_or(0.0, |queued| {
            (db::now() - queued).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.oldest_pending.set(age);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .map_err(anyhow::Error::from)?;
        Ok(String::from_utf8(buffer).map_err(anyhow::Error::from)?)
    }
}
