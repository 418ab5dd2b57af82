//! PDF documents as independent tools read them: poppler's `pdftotext` (the text in reading
//! order) and `pdfinfo` (tagging, title, XMP metadata), and `qpdf --check` (the structure),
//! all from Debian (`apt-get install poppler-utils qpdf`, as `.ci/run` does). Without them the
//! runs that need them are skipped with a warning, which `.ci/run` refuses.

use std::io::Write;
use std::process::{Command, Stdio};

fn tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("no `{name}` (apt-get install poppler-utils qpdf): validator run skipped");
    }
    found
}

fn run(name: &str, args: &[&str], pdf: &[u8]) -> (bool, String) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pdf).unwrap();
    let output = Command::new(name)
        .args(args)
        .arg(file.path())
        .args(if name == "pdftotext" { &["-"][..] } else { &[] })
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// What the tools read of a PDF.
pub struct PdfReading {
    /// The text in reading order (`pdftotext`), spaces and line breaks as they come.
    pub text: String,
    /// `pdfinfo`'s report (`Tagged:`, `Title:`, …).
    pub info: String,
    /// The XMP metadata (`pdfinfo -meta`): `dc:language`, `pdfuaid:part`.
    pub metadata: String,
}

impl PdfReading {
    /// The text with every run of white space made one space.
    pub fn words(&self) -> String {
        self.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Reads `pdf` with `pdftotext` and `pdfinfo` after `qpdf --check` passed (a failed check
/// fails the test); `None` when the tools are missing (skipped, loudly).
pub fn read_pdf(pdf: &[u8]) -> Option<PdfReading> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    // To look at them: `CONSILIUM_SCREENSHOTS_ALL=dir` keeps every PDF read, as the browser
    // tests keep their screenshots there.
    if let Some(dir) = std::env::var_os("CONSILIUM_SCREENSHOTS_ALL") {
        use sha2::Digest;
        let name = format!(
            "report-{}.pdf",
            &hex::encode(sha2::Sha256::digest(pdf))[..12]
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), pdf).unwrap();
    }
    if !(tool("pdftotext") && tool("pdfinfo") && tool("qpdf")) {
        return None;
    }
    let (checked, report) = run("qpdf", &["--check"], pdf);
    assert!(checked, "qpdf --check refused it: {report}");
    let (ok, text) = run("pdftotext", &["-enc", "UTF-8"], pdf);
    assert!(ok, "pdftotext: {text}");
    let (ok, info) = run("pdfinfo", &[], pdf);
    assert!(ok, "pdfinfo: {info}");
    let (ok, metadata) = run("pdfinfo", &["-meta"], pdf);
    assert!(ok, "pdfinfo -meta: {metadata}");
    Some(PdfReading {
        text,
        info,
        metadata,
    })
}
