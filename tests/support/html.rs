//! A browser without JavaScript, over plain HTTP: it keeps its cookies, sends the `Origin` a
//! browser sends with a form, reads the CSRF token out of the page, and follows nothing by
//! itself (a test sees every 303).

use std::collections::BTreeMap;

use reqwest::header;

use super::api::{Answer, Api, receive};

pub struct Browser {
    pub api: Api,
    pub cookies: BTreeMap<String, String>,
    /// The `Origin` sent with every POST.
    pub origin: String,
}

impl Browser {
    pub fn new(api: &Api) -> Browser {
        let origin = api.url("");
        Browser {
            api: Api::at(origin.clone()),
            cookies: BTreeMap::new(),
            origin,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, answer: &Answer) {
        for value in answer.headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.trim().into(), value.trim().into());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self
            .api
            .client()
            .get(self.api.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header());
        let answer = receive(request).await.unwrap();
        self.keep_cookies(&answer);
        answer
    }

    /// Posts `fields` as the page's form would, with the CSRF token of `page`.
    pub async fn post(&mut self, path: &str, page: &Answer, fields: &[(&str, &str)]) -> Answer {
        let token = csrf_token(&page.text);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, Some(&self.origin.clone())).await
    }

    /// Posts exactly `fields`, with `origin` (or none).
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        self.post_with_headers(path, fields, &headers).await
    }

    /// Posts exactly `fields` with exactly these headers besides the cookies (say an
    /// `Origin: null` and a `Sec-Fetch-Site`).
    pub async fn post_with_headers(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .api
            .client()
            .post(self.api.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = receive(request).await.unwrap();
        self.keep_cookies(&answer);
        answer
    }

    /// Signs in through the sign-in form, then the second step with `code`.
    pub async fn sign_in_with_code(&mut self, email: &str, password: &str, code: &str) {
        let first = self.sign_in(email, password).await;
        assert!(
            location(&first).starts_with("/login/mfa"),
            "{:?}",
            location(&first)
        );
        let page = self.get(&location(&first)).await;
        let second = self.post("/login/mfa", &page, &[("code", code)]).await;
        assert_eq!(second.status, 303, "{}", second.text);
    }

    /// Signs in through the sign-in form (an account without a second factor).
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/login").await;
        let answer = self
            .post("/login", &page, &[("email", email), ("password", password)])
            .await;
        assert_eq!(answer.status, 303, "{}", answer.text);
        answer
    }

    /// Posts a file as the upload form does (`csrf_token` first, then `file`).
    pub async fn upload(
        &mut self,
        path: &str,
        page: &Answer,
        name: &str,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Answer {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf_token(&page.text))
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(name.to_owned())
                    .mime_str(mime)
                    .unwrap(),
            );
        let request = self
            .api
            .client()
            .post(self.api.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header())
            .header(header::ORIGIN, self.origin.clone())
            .multipart(form);
        let answer = receive(request).await.unwrap();
        self.keep_cookies(&answer);
        answer
    }
}

/// The value of the first `csrf_token` hidden field of a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("the page has a CSRF token") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The path of a 303's `Location`.
pub fn location(answer: &Answer) -> String {
    answer.header("location").expect("a Location header")
}
