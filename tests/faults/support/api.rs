//! An HTTP client of one API instance, and the answers it gets.

use std::time::{Duration, Instant};

use reqwest::RequestBuilder;
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
    pub elapsed: Duration,
}

impl Answer {
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// A problem+json document with this status.
    pub fn is_problem(&self, status: u16) -> bool {
        self.status == status
            && self.content_type().starts_with("application/problem+json")
            && self.body["status"] == status
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_default().to_owned()
    }
}

impl Api {
    pub fn new(port: u16) -> Api {
        Api::with_client(
            port,
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        )
    }

    pub fn with_client(port: u16, http: reqwest::Client) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            http,
        }
    }

    /// A client that opens a new connection for every request (no keep-alive reuse).
    pub fn fresh_connections(port: u16) -> Api {
        Api::with_client(
            port,
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> RequestBuilder {
        authorised(self.http.get(self.url(path)), token)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> RequestBuilder {
        authorised(self.http.post(self.url(path)), token).json(body)
    }

    pub fn put(&self, path: &str, token: Option<&str>, body: &Value) -> RequestBuilder {
        authorised(self.http.put(self.url(path)), token).json(body)
    }

    pub async fn try_send(&self, request: RequestBuilder) -> Result<Answer, reqwest::Error> {
        receive(request).await
    }

    /// Sends and expects an answer (any status).
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        receive(request).await.expect("the server answers")
    }
}

fn authorised(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

pub async fn receive(request: RequestBuilder) -> Result<Answer, reqwest::Error> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
        elapsed: started.elapsed(),
    })
}
