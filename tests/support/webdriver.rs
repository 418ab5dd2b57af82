//! A real browser for the screens: Debian's Chromium, headless, driven over WebDriver by its
//! own chromedriver on a free loopback port. Every page a test looks at is checked
//! ([`Page::check`]): axe-core finds no violation, the page keeps to the weight rules of
//! SCREENS.md, and nothing is wider than a 320 px screen. A journey that fails leaves a
//! screenshot and the page's HTML under `target/browser-failures/`.
//!
//! Nothing is downloaded: the browser and its driver come from Debian's packages (`.ci/run`
//! installs them), axe-core is vendored (`tests/vendor/axe-core`). Without them the browser
//! runs are skipped with a warning, which `.ci/run` refuses.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};

/// axe-core, injected into every page checked.
pub const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
pub const AXE_VERSION: &str = "4.14.1";

/// The weight rules of SCREENS.md ("Light").
pub const MAX_HTML_BYTES: u64 = 60 * 1024;
pub const MAX_CSS_AND_SCRIPT_BYTES: u64 = 100 * 1024;
pub const MAX_REQUESTS: usize = 6;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
const NARROW: u32 = 320;

/// One browser at a time: the machine has two cores, and a journey is a sequence anyway.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Chromium and chromedriver, from `CHROMIUM` and `CHROMEDRIVER` or Debian's paths.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let find = |variable: &str, default: &str| {
        let path = PathBuf::from(std::env::var(variable).unwrap_or_else(|_| default.into()));
        path.is_file().then_some(path)
    };
    let chromium = find("CHROMIUM", "/usr/bin/chromium");
    let driver = find("CHROMEDRIVER", "/usr/bin/chromedriver");
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            eprintln!(
                "chromium or chromedriver not found (apt-get install chromium chromium-driver): \
                 browser run skipped"
            );
            None
        }
    }
}

/// A chromedriver process, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(path: &Path) -> Driver {
        let port = super::smtp::free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            // Chromium's own words (a date field's format) in French, as the pages.
            .env("LANGUAGE", "fr")
            .env("LANG", "fr_FR.UTF-8")
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver never listened on {port}");
    }
}

/// chromedriver's `goog/cdp/execute`: one DevTools command.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.command, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// What [`Page::check`] measured on one page.
#[derive(Debug, Clone)]
pub struct Weight {
    pub html_bytes: u64,
    pub css_and_script_bytes: u64,
    pub requests: usize,
}

/// A browser tab on the application at `base`.
pub struct Page {
    pub client: Client,
    base: String,
    pub javascript: bool,
    /// What the journey is doing now: said when a step fails.
    step: Arc<Mutex<String>>,
    /// Each page checked: its label and weight.
    pub checked: Vec<(String, Weight)>,
    sizes: BTreeMap<String, u64>,
    http: reqwest::Client,
    /// What the person did so far: fields typed in, and clicks (for the actions a step
    /// takes, asserted by the journeys).
    typed: AtomicUsize,
    clicks: AtomicUsize,
    /// Outlives the journey when it fails, for the screenshot.
    held: Arc<Held>,
}

/// The driver process and this test's turn at the browser.
struct Held {
    _driver: Driver,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Page {
    /// A fresh browser (no cookies, no storage, an empty cache) with or without JavaScript;
    /// `None` when Chromium is not installed (the run is skipped, loudly).
    pub async fn open(base: &str, javascript: bool) -> Option<Page> {
        let (chromium, driver_path) = tools()?;
        let turn = ONE_AT_A_TIME.lock().await;
        let driver = Driver::start(&driver_path).await;
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                json!(2),
            );
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-default-apps", "--disable-extensions", "--mute-audio",
                    // The stylesheet scrolls smoothly otherwise, and a click would land
                    // while the page still moves.
                    "--force-prefers-reduced-motion",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    "--lang=fr-FR", "--accept-lang=fr-FR,fr",
                ],
                "prefs": prefs,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a Chromium session");
        Some(Page {
            client,
            base: base.trim_end_matches('/').to_owned(),
            javascript,
            step: Arc::new(Mutex::new("start".into())),
            checked: Vec::new(),
            sizes: BTreeMap::new(),
            http: reqwest::Client::new(),
            typed: AtomicUsize::new(0),
            clicks: AtomicUsize::new(0),
            held: Arc::new(Held {
                _driver: driver,
                _turn: turn,
            }),
        })
    }

    /// Runs the journey; if it fails, saves a screenshot and the HTML of the page it failed
    /// on, then fails. The browser is closed either way.
    pub async fn run<F>(self, name: &str, journey: impl FnOnce(Page) -> F)
    where
        F: Future<Output = ()> + Send,
    {
        let client = self.client.clone();
        let step = self.step.clone();
        let held = self.held.clone();
        let outcome = AssertUnwindSafe(journey(self)).catch_unwind().await;
        if let Err(panic) = outcome {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let stem = dir.join(name.replace("::", "-"));
            if let Ok(png) = client.screenshot().await {
                std::fs::write(stem.with_extension("png"), png).ok();
            }
            if let Ok(html) = client.source().await {
                std::fs::write(stem.with_extension("html"), html).ok();
            }
            eprintln!(
                "the browser journey failed at {:?}: its last page is in {}.png and .html",
                step.lock().unwrap(),
                stem.display()
            );
            client.close().await.ok();
            drop(held);
            std::panic::resume_unwind(panic);
        }
        client.close().await.ok();
        drop(held);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Names what the journey does next (said if it fails).
    pub fn step(&self, step: &str) {
        *self.step.lock().unwrap() = step.to_owned();
    }

    fn at(&self) -> String {
        self.step.lock().unwrap().clone()
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.unwrap();
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on {}: {e}", self.at()))
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// The id of the element that has the focus.
    /// What a script run in the page returns (`return …;`).
    pub async fn script(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    pub async fn focused_id(&self) -> String {
        let focused = self.client.active_element().await.unwrap();
        focused.attr("id").await.unwrap().unwrap_or_default()
    }

    /// The text a reader sees (hidden parts left out).
    pub async fn text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The current value of the field named `name` (the first of that name).
    pub async fn value(&self, name: &str) -> String {
        self.find(&format!("[name=\"{name}\"]"))
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Types `value` into the field named `name`, as a person would: a click, then keys;
    /// a select is chosen by value, a checkbox or radio is clicked when it should change.
    pub async fn fill(&self, name: &str, value: &str) {
        self.fill_nth(name, 0, value).await
    }

    /// Fields typed in (or chosen) so far.
    pub fn typed(&self) -> usize {
        self.typed.load(Ordering::Relaxed)
    }

    /// Clicks so far (links, buttons, boxes).
    pub fn clicks(&self) -> usize {
        self.clicks.load(Ordering::Relaxed)
    }

    pub async fn fill_nth(&self, name: &str, index: usize, value: &str) {
        self.typed.fetch_add(1, Ordering::Relaxed);
        let all = self
            .client
            .find_all(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap();
        let field = all
            .get(index)
            .unwrap_or_else(|| panic!("no field {name}[{index}] on {}", self.at()));
        let tag = field.tag_name().await.unwrap();
        let kind = field.attr("type").await.unwrap().unwrap_or_default();
        match (tag.as_str(), kind.as_str()) {
            ("select", _) => field.select_by_value(value).await.unwrap(),
            ("input", "checkbox") => {
                if field.is_selected().await.unwrap() != (value == "true") {
                    field.click().await.unwrap();
                }
            }
            ("input", "radio") => {
                let radio = self
                    .find(&format!("[name=\"{name}\"][value=\"{value}\"]"))
                    .await;
                radio.click().await.unwrap();
            }
            ("input", "date") => {
                // A date input takes keys in the locale's order: set it as a script would.
                self.client
                    .execute(
                        "arguments[0].value = arguments[1]; \
                         arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                        vec![serde_json::to_value(field).unwrap(), json!(value)],
                    )
                    .await
                    .unwrap();
            }
            ("input", "file") => field.send_keys(value).await.unwrap(),
            _ => {
                field.clear().await.unwrap();
                if !value.is_empty() {
                    field.send_keys(value).await.unwrap();
                }
            }
        }
    }

    /// Clicks what `css` finds (a link or a submit button) and waits for the page it leads
    /// to: until the page clicked on is gone, then until the new one has loaded.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.navigate_by(element).await;
    }

    pub async fn click_link(&self, text: &str) {
        let link = self
            .client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text:?} on {}: {e}", self.at()));
        self.navigate_by(link).await;
    }

    /// Clicks what `css` finds on this page (a button of the script, a checkbox): no new page.
    pub async fn press(&self, css: &str) {
        self.clicks.fetch_add(1, Ordering::Relaxed);
        self.find(css).await.click().await.unwrap();
    }

    async fn navigate_by(&self, element: fantoccini::elements::Element) {
        self.clicks.fetch_add(1, Ordering::Relaxed);
        let before = self.find("html").await;
        element.click().await.unwrap();
        for _ in 0..400 {
            let gone = matches!(
                before.tag_name().await,
                Err(fantoccini::error::CmdError::Standard(ref e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
            );
            if gone
                && let Ok(Value::String(state)) = self
                    .client
                    .execute("return document.readyState", vec![])
                    .await
                && state == "complete"
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no new page after the click at {}", self.at());
    }

    /// Checks the page as it is now, labelled `label`: zero axe-core violations, the weight
    /// rules, and no horizontal scrolling at 320 px. Panics listing what is wrong.
    pub async fn check(&mut self, label: &str) -> Weight {
        self.step(label);
        let violations = self.axe().await;
        assert!(
            violations.is_empty(),
            "axe-core {AXE_VERSION} found violations on {label} ({}):\n{}",
            self.path().await,
            serde_json::to_string_pretty(&violations).unwrap()
        );
        let weight = self.weight().await;
        assert!(
            weight.html_bytes < MAX_HTML_BYTES
                && weight.css_and_script_bytes < MAX_CSS_AND_SCRIPT_BYTES
                && weight.requests <= MAX_REQUESTS,
            "{label} is too heavy: {weight:?}"
        );
        let overflowing = self.overflowing().await;
        assert!(
            overflowing.is_empty(),
            "{label} is wider than {NARROW} px: {overflowing:?}"
        );
        if let Ok(dir) = std::env::var("CONSILIUM_SCREENSHOTS_ALL") {
            // Every page checked, wide and at 320 px, to look at them all.
            let stem = format!(
                "{:02}-{}",
                self.checked.len(),
                label.replace([' ', ',', '\''], "-")
            );
            let dir = PathBuf::from(dir);
            self.screenshot(&dir.join(format!("{stem}.png"))).await;
            self.screenshot_at(NARROW, &dir.join(format!("{stem}-320.png")))
                .await;
        }
        self.checked.push((label.to_owned(), weight.clone()));
        weight
    }

    /// What sticks out of a 320 px wide window (tables scroll in their own box): the page
    /// itself if it scrolls sideways, and the first elements past the right edge.
    pub async fn overflowing(&self) -> Vec<String> {
        // A window is never narrower than about 500 px: a phone's viewport is emulated.
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": NARROW, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        let found = self
            .client
            .execute(
                "const e = document.documentElement; \
                 const wide = Array.from(document.querySelectorAll('body *')) \
                   .filter(x => x.getBoundingClientRect().right > e.clientWidth + 1 \
                     && !(x.closest('.table-wrap') && !x.closest('table.stack')) \
                     && !x.closest('.visually-hidden, .skip-link, table.stack thead')) \
                   .slice(0, 5).map(x => x.tagName + (x.id ? '#' + x.id : '') \
                     + (x.className ? '.' + x.className : '')); \
                 if (e.scrollWidth > e.clientWidth) \
                   wide.unshift('the page: ' + e.scrollWidth + ' > ' + e.clientWidth); \
                 return wide;",
                vec![],
            )
            .await
            .unwrap();
        self.devtools("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// A command of Chromium's DevTools protocol, through chromedriver.
    pub async fn devtools(&self, command: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools { command, params })
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    /// axe-core's violations on the page (rules of WCAG 2.x A and AA, and best practices).
    pub async fn axe(&self) -> Vec<Value> {
        let loaded = self
            .client
            .execute(&format!("{AXE}\n;return typeof axe;"), vec![])
            .await
            .unwrap();
        assert_eq!(loaded, "object", "axe-core loads");
        let outcome = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 if (arguments[0]) { window.setTimeout = (f) => { Promise.resolve().then(f); return 0; }; } \
                 axe.run(document, {resultTypes: ['violations']}) \
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, \
                     help: v.help, nodes: v.nodes.slice(0, 5).map(n => \
                       [n.target.join(' '), n.failureSummary])})))) \
                   .catch(e => done([{id: 'axe-error', help: String(e)}]));",
                vec![json!(!self.javascript)],
            )
            .await
            .unwrap();
        outcome.as_array().cloned().unwrap_or_default()
    }

    /// The weight of a cold load of the page: its HTML, every CSS and script file it refers
    /// to (read over HTTP, decoded), and the requests a cold load makes (the page and each
    /// distinct resource it refers to or fetched).
    async fn weight(&mut self) -> Weight {
        let measured = self
            .client
            .execute(
                "const nav = performance.getEntriesByType('navigation')[0]; \
                 const urls = new Set(performance.getEntriesByType('resource').map(r => r.name)); \
                 const css = [], js = []; \
                 document.querySelectorAll('link[href]').forEach(l => { \
                   if (l.rel === 'stylesheet') css.push(l.href); \
                   if (/\\b(stylesheet|icon|preload|manifest)\\b/.test(l.rel)) urls.add(l.href); }); \
                 document.querySelectorAll('script[src]').forEach(s => { js.push(s.src); urls.add(s.src); }); \
                 document.querySelectorAll('img[src], iframe[src], source[src], video[src], audio[src]') \
                   .forEach(e => urls.add(e.src)); \
                 return {html: nav ? nav.decodedBodySize : document.documentElement.outerHTML.length, \
                   files: css.concat(js), \
                   urls: Array.from(urls).filter(u => !u.startsWith('data:'))};",
                vec![],
            )
            .await
            .unwrap();
        let mut css_and_script_bytes = 0;
        for file in measured["files"].as_array().unwrap() {
            let url = file.as_str().unwrap().to_owned();
            if !self.sizes.contains_key(&url) {
                let bytes = self.http.get(&url).send().await.unwrap().bytes().await;
                self.sizes.insert(url.clone(), bytes.unwrap().len() as u64);
            }
            css_and_script_bytes += self.sizes[&url];
        }
        Weight {
            html_bytes: measured["html"].as_u64().unwrap(),
            css_and_script_bytes,
            requests: 1 + measured["urls"].as_array().unwrap().len(),
        }
    }

    /// A picture of the whole page, from its top, at `path`.
    pub async fn screenshot(&self, path: &Path) {
        self.screenshot_at(WIDTH, path).await
    }

    /// A picture of the whole page `width` px wide.
    pub async fn screenshot_at(&self, width: u32, path: &Path) {
        let metrics = |height: u64| json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
        self.devtools("Emulation.setDeviceMetricsOverride", metrics(HEIGHT as u64))
            .await;
        let height = self
            .client
            .execute(
                "window.scrollTo(0, 0); return document.documentElement.scrollHeight",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(HEIGHT as u64);
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            metrics(height.clamp(HEIGHT as u64, 8000)),
        )
        .await;
        let png = self.client.screenshot().await.unwrap();
        self.devtools("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}
