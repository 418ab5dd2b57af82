//! A real SMTP server on loopback that the service's worker talks to: it keeps every message it
//! accepts; it can be taken down and brought back on the same port, answer slowly, or accept
//! connections and never answer; it counts messages cut in the middle of DATA.

use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message accepted by the sink.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub raw: String,
}

impl ReceivedMail {
    fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.raw.as_bytes()).expect("a well-formed message")
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value(name)
            .unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        self.header("Subject")
    }

    /// The outbox row id carried by the Message-ID (`<row-id@host>`).
    pub fn outbox_id(&self) -> String {
        self.header("Message-ID")
            .trim()
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Decoded bodies of the text and HTML parts.
    pub fn parts(&self) -> Vec<(String, String)> {
        let parsed = self.parsed();
        let mut parts = Vec::new();
        collect_parts(&parsed, &mut parts);
        parts
    }

    fn part(&self, mime: &str) -> String {
        self.parts()
            .into_iter()
            .find(|(kind, _)| kind == mime)
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    pub fn html(&self) -> String {
        self.part("text/html")
    }

    /// The path (and query) of the first link to `public_url` in the text part: where a
    /// click on it leads, on whichever server the test runs.
    pub fn link(&self, public_url: &str) -> String {
        let text = self.text();
        let start = text
            .find(public_url)
            .unwrap_or_else(|| panic!("no link to {public_url} in: {text}"))
            + public_url.len();
        text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '"')
            .collect()
    }

    /// The single-use token carried by the link in the text part.
    pub fn token(&self) -> String {
        let text = self.text();
        let start = text.find("token=").expect("a link with a token") + "token=".len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

fn collect_parts(mail: &mailparse::ParsedMail<'_>, parts: &mut Vec<(String, String)>) {
    if mail.subparts.is_empty() {
        parts.push((
            mail.ctype.mimetype.clone(),
            mail.get_body().unwrap_or_default(),
        ));
    }
    for sub in &mail.subparts {
        collect_parts(sub, parts);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A working server.
    Accept,
    /// Accepts TCP connections and never says a word (a black-holed relay).
    Hang,
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<ReceivedMail>>,
    /// Sessions that ended after DATA began and before its final dot: half-sent messages.
    aborted_data: AtomicUsize,
    delay_ms: AtomicU64,
    hang: std::sync::atomic::AtomicBool,
}

struct Running {
    accept: JoinHandle<()>,
    sessions: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    /// A sink on `port` that is down (nothing listening) until [`SmtpSink::up`].
    pub fn down_on(port: u16) -> SmtpSink {
        SmtpSink {
            port,
            shared: Arc::default(),
            running: Mutex::new(None),
        }
    }

    /// A sink on a free port that is down (nothing listening) until [`SmtpSink::up`].
    pub fn down_on_free_port() -> SmtpSink {
        Self::down_on(free_port())
    }

    /// A sink listening on a free port.
    pub async fn start() -> SmtpSink {
        Self::start_on(free_port()).await
    }

    /// A sink listening on `port` (e.g. one a service was told to use while nothing listened).
    pub async fn start_on(port: u16) -> SmtpSink {
        let sink = Self::down_on(port);
        sink.up().await;
        sink
    }

    /// Starts listening on the sink's port (again).
    pub async fn up(&self) {
        if self.running.lock().unwrap().is_some() {
            return;
        }
        let mut attempt = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(error) if attempt < 50 => {
                    attempt += 1;
                    eprintln!("smtp sink: port {} not free yet: {error}", self.port);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("smtp sink cannot listen on {}: {error}", self.port),
            }
        };
        let sessions: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (shared, tracked) = (self.shared.clone(), sessions.clone());
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let shared = shared.clone();
                let session = tokio::spawn(async move {
                    if shared.hang.load(Ordering::SeqCst) {
                        let _held = socket;
                        std::future::pending::<()>().await;
                    } else {
                        let _ = session(socket, &shared).await;
                    }
                });
                let mut tracked = tracked.lock().unwrap();
                tracked.retain(|handle| !handle.is_finished());
                tracked.push(session);
            }
        });
        *self.running.lock().unwrap() = Some(Running { accept, sessions });
    }

    /// Stops listening and drops every open connection.
    pub async fn down(&self) {
        let Some(running) = self.running.lock().unwrap().take() else {
            return;
        };
        running.accept.abort();
        let _ = running.accept.await;
        let sessions: Vec<JoinHandle<()>> = std::mem::take(&mut *running.sessions.lock().unwrap());
        for session in &sessions {
            session.abort();
        }
        for session in sessions {
            let _ = session.await;
        }
    }

    /// Each message is acknowledged this long after its final dot.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// How new connections are treated.
    pub fn set_mode(&self, mode: Mode) {
        self.shared.hang.store(mode == Mode::Hang, Ordering::SeqCst);
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.shared.mails.lock().unwrap().clone()
    }

    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.mails()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    pub fn count(&self) -> usize {
        self.shared.mails.lock().unwrap().len()
    }

    /// Messages whose DATA was cut before its end.
    pub fn aborted_data(&self) -> usize {
        self.shared.aborted_data.load(Ordering::SeqCst)
    }

    /// How many messages carry the Message-ID of each outbox row id.
    pub fn by_outbox_id(&self) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for mail in self.mails() {
            *counts.entry(mail.outbox_id()).or_insert(0) += 1;
        }
        counts
    }
}

async fn session(socket: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL FROM")
            || command.starts_with("NOOP")
        {
            b"250 OK\r\n"
        } else if command.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            to.push(address);
            b"250 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = String::new();
            let complete = loop {
                line.clear();
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => break false,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break true;
                }
                let unstuffed = if line.starts_with("..") {
                    &line[1..]
                } else {
                    &line[..]
                };
                raw.push_str(unstuffed);
            };
            if !complete {
                shared.aborted_data.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            shared.mails.lock().unwrap().push(ReceivedMail {
                to: std::mem::take(&mut to),
                raw,
            });
            let delay = shared.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            b"250 queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
