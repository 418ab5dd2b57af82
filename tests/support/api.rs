//! An HTTP client of one API instance, the calls it makes, and the answers it gets.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

/// What the server answered, read whole: the body as JSON (`Null` if it is not) and as text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as it came (a PDF, a file).
    pub bytes: Vec<u8>,
    pub elapsed: Duration,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }

    /// A problem+json document with this status.
    pub fn is_problem(&self, status: u16) -> bool {
        self.status == status
            && self.content_type().starts_with("application/problem+json")
            && self.body["status"] == status
    }

    /// The `id` of the resource answered (there must be one).
    pub fn id(&self) -> String {
        match self.body["id"].as_str() {
            Some(id) => id.to_owned(),
            None => panic!("no id in the answer: {} {}", self.status, self.text),
        }
    }

    /// The fields named in a 422 problem's `errors`.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends a request and reads the whole answer; an error if no answer came (a killed server, a
/// connection closed while sending).
pub async fn receive(request: RequestBuilder) -> Result<Answer, reqwest::Error> {
    let started = Instant::now();
    read(request.send().await?, started).await
}

async fn read(response: reqwest::Response, started: Instant) -> Result<Answer, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    Ok(Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
        elapsed: started.elapsed(),
    })
}

/// A request ready to go: `.await` it for its [`Answer`] (the server must answer), or
/// [`Call::try_send`] it where no answer is a possible outcome.
#[must_use = "a call is sent only when awaited"]
pub struct Call(RequestBuilder);

impl Call {
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Call {
        Call(self.0.header(name, value.as_ref()))
    }

    /// A body sent as it is, whatever its content type says.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Call {
        Call(self.0.body(body))
    }

    /// The request itself, to change it further or to build it.
    pub fn builder(self) -> RequestBuilder {
        self.0
    }

    pub async fn try_send(self) -> Result<Answer, reqwest::Error> {
        receive(self.0).await
    }

    pub async fn send(self) -> Answer {
        self.try_send().await.expect("the server answers")
    }
}

impl From<RequestBuilder> for Call {
    fn from(request: RequestBuilder) -> Call {
        Call(request)
    }
}

impl IntoFuture for Call {
    type Output = Answer;
    type IntoFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:<port>`).
    pub fn at(base: String) -> Api {
        Api {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub fn new(port: u16) -> Api {
        Api::at(format!("http://127.0.0.1:{port}"))
    }

    /// A client that opens a new connection for every request (no keep-alive reuse).
    pub fn fresh_connections(port: u16) -> Api {
        Api {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            ..Api::new(port)
        }
    }

    /// The HTTP client itself, for requests the helpers do not make.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any method on `path`, with the access token if there is one.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> Call {
        let request = self.client.request(method, self.url(path));
        Call(match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        })
    }

    /// Any method on `path` with a JSON body.
    pub fn request_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: impl Serialize,
    ) -> Call {
        Call(self.request(method, path, token).builder().json(&body))
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Call {
        self.request(Method::GET, path, token)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: impl Serialize) -> Call {
        self.request_json(Method::POST, path, token, body)
    }

    pub fn put(&self, path: &str, token: Option<&str>, body: impl Serialize) -> Call {
        self.request_json(Method::PUT, path, token, body)
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: impl Serialize) -> Call {
        self.request_json(Method::PATCH, path, token, body)
    }

    pub fn delete(&self, path: &str, token: Option<&str>, body: impl Serialize) -> Call {
        self.request_json(Method::DELETE, path, token, body)
    }

    /// Sends a request built by hand and expects an answer (any status).
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        Call::from(request).send().await
    }

    /// Sends a request built beforehand (see [`Call::builder`]).
    pub async fn execute(&self, request: reqwest::Request) -> Result<Answer, reqwest::Error> {
        let started = Instant::now();
        read(self.client.execute(request).await?, started).await
    }
}
