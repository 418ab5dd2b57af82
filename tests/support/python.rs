//! Independent validators written in Python, run as a child process on what the service
//! answered: `icalendar` (PyPI) for the calendar feeds. `.ci/run` installs them into
//! `target/test-venv`; the interpreter is `TEST_PYTHON` or that environment's. Without it the
//! runs that need a validator are skipped with a warning, which `.ci/run` refuses.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn interpreter(module: &str) -> Option<PathBuf> {
    let candidates = std::env::var_os("TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/test-venv/bin/python"
        ))]);
    for python in candidates {
        let has_module = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if has_module {
            return Some(python);
        }
    }
    eprintln!(
        "no Python with `{module}` (python3 -m venv target/test-venv && target/test-venv/bin/pip \
         install {module}): validator run skipped"
    );
    None
}

/// Runs `script` with `input` on its standard input under a Python that has `module`: its
/// standard output, or `None` when there is no such Python (skipped, loudly). A script that
/// fails fails the test, with its error.
pub fn run(module: &str, script: &str, input: &[u8]) -> Option<String> {
    let python = interpreter(module)?;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the {module} validator refused it: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

/// The events of an iCalendar feed as Python's `icalendar` reads it (strictly: a line it
/// cannot parse fails), one JSON object each.
pub fn calendar_events(ics: &str) -> Option<Vec<serde_json::Value>> {
    const SCRIPT: &str = r#"
import json, sys
import icalendar
raw = sys.stdin.buffer.read()
for line in raw.split(b"\r\n")[:-1]:
    assert b"\n" not in line, "a line not ended by CRLF"
    assert len(line) <= 75, "a line longer than 75 octets"
cal = icalendar.Calendar.from_ical(raw)
assert cal.get("VERSION") == "2.0", "VERSION"
assert cal.get("PRODID"), "PRODID"
events = []
for event in cal.walk("VEVENT"):
    for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
        assert event.get(required) is not None, required
    events.append({
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
        "status": str(event.get("STATUS", "")),
        "summary": str(event["SUMMARY"]),
        "description": str(event.get("DESCRIPTION", "")),
        "url": str(event.get("URL", "")),
        "start": event.decoded("DTSTART").isoformat(),
        "end": event.decoded("DTEND").isoformat(),
    })
print(json.dumps(events))
"#;
    let out = run("icalendar", SCRIPT, ics.as_bytes())?;
    Some(serde_json::from_str(&out).unwrap())
}
