#!/usr/bin/env python3
"""Helpers of .ci/schemathesis (Python standard library only).

  rpps N                 an 11-digit RPPS number passing the Luhn check, distinct for each N
  free-port              a free TCP port on 127.0.0.1
  wait BASE SECONDS      waits until GET BASE/healthz answers 200
  login BASE EMAIL [TOTP_SECRET]
                         signs in over HTTP (password from $ST_PASSWORD; with the RFC 6238
                         second step when a TOTP secret is given), prints the access token
  config OUT BASE REQUESTER_TOKEN COORDINATOR_TOKEN
                         makes fresh fixtures (a draft request with an attachment, a submitted
                         request) and writes the schemathesis configuration OUT, whose
                         dictionaries feed their ids, the staff codes, meeting ids and user ids
                         to the path parameters half of the time (the other half stays random)
"""

import base64
import hashlib
import hmac
import json
import socket
import struct
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid

API = "/api/v1"


# ------------------------------------------------------------------------------- identifiers


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def rpps(n: int) -> str:
    stem = f"8{n % 10**9:09d}"
    return next(stem + str(k) for k in range(10) if luhn_valid(stem + str(k)))


def totp(secret_b32: str, at: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with HMAC-SHA-1, as authenticator apps (and the server) compute it."""
    secret = secret_b32.strip().replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


# ------------------------------------------------------------------------------------- HTTP


def call(base, method, path, token=None, body=None, content_type="application/json"):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw) if raw else None
        except ValueError:
            return err.code, raw.decode(errors="replace")


def expect(what, status, answer, wanted):
    if status != wanted:
        sys.exit(f"{what}: HTTP {status} (expected {wanted}): {answer}")
    return answer


def login(base: str, email: str, password: str, secret: str | None) -> str:
    answer = expect(
        f"login of {email}",
        *call(base, "POST", f"{API}/auth/login", body={"email": email, "password": password}),
        200,
    )
    if answer.get("mfa_required"):
        if not secret:
            sys.exit(f"login of {email}: a second factor is required but no TOTP secret given")
        # A code is accepted once per 30-second step, one step either side of now: if this
        # step's code was already spent, the next step's is accepted too.
        for at in (time.time(), time.time() + 30):
            status, second = call(
                base,
                "POST",
                f"{API}/auth/login/mfa",
                body={"mfa_token": answer["mfa_token"], "code": totp(secret, at)},
            )
            if status == 200:
                answer = second
                break
        else:
            sys.exit(f"second step of {email}: HTTP {status}: {second}")
    if not answer.get("access_token"):
        sys.exit(f"login of {email}: no access token in {answer}")
    return answer["access_token"]


def wait_healthy(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if call(base, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{base}/healthz did not answer 200 within {seconds} s")
        time.sleep(0.25)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------- fixtures

COMPLETE_FORM = {
    "topic": "diagnosis",
    "urgency": "routine",
    "patient": {"initials": "AB", "sex": "female", "birth_date": "2015-03-14"},
    "question": "Which skeletal dysplasia?",
    "clinical_summary": "Short stature and bowed legs since the age of two (fixture).",
    "hpo_terms": ["HP:0004322"],
    "consent_obtained": True,
}

TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(base: str, token: str, request_id: str) -> str:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="report.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + TINY_PDF + f"\r\n--{boundary}--\r\n".encode()
    answer = expect(
        "upload an attachment",
        *call(
            base,
            "POST",
            f"{API}/requests/{request_id}/attachments",
            token,
            body,
            f"multipart/form-data; boundary={boundary}",
        ),
        201,
    )
    return answer["id"]


def fixtures(base: str, requester: str, coordinator: str) -> dict[str, list]:
    draft = expect(
        "create a draft request",
        *call(base, "POST", f"{API}/requests", requester, {"patient": {"initials": "CD"}}),
        201,
    )["id"]
    attachment = upload(base, requester, draft)
    submitted = expect(
        "create a complete request",
        *call(base, "POST", f"{API}/requests", requester, COMPLETE_FORM),
        201,
    )["id"]
    expect(
        "submit it",
        *call(base, "POST", f"{API}/requests/{submitted}/submit", requester),
        200,
    )
    staffs = expect("list staffs", *call(base, "GET", f"{API}/staffs", coordinator), 200)
    codes = [staff["code"] for staff in staffs]
    meetings = []
    for code in codes[:3]:
        listed = expect(
            f"list meetings of {code}",
            *call(base, "GET", f"{API}/staffs/{code}/meetings", coordinator),
            200,
        )
        meetings += [meeting["id"] for meeting in listed[:2]]
    users = [
        expect("who am I", *call(base, "GET", f"{API}/me", token), 200)["id"]
        for token in (requester, coordinator)
    ]
    return {
        "request_ids": [draft, submitted],
        "attachment_ids": [attachment],
        "staff_codes": codes,
        "meeting_ids": meetings,
        "user_ids": users,
    }


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of printable ASCII is a TOML basic string


def write_config(out: str, values: dict[str, list]) -> None:
    # An operation takes the parameters of the first entry that matches it: the most specific
    # pattern comes first.
    bindings = [
        (
            r"^/api/v1/requests/\{id\}/attachments/\{attachment_id\}$",
            {"path.id": "request_ids", "path.attachment_id": "attachment_ids"},
        ),
        (r"^/api/v1/requests/\{id\}", {"path.id": "request_ids"}),
        (r"^/api/v1/staffs/\{code\}/", {"path.code": "staff_codes"}),
        (r"^/api/v1/meetings/\{id\}", {"path.id": "meeting_ids"}),
        (r"^/api/v1/admin/users/\{id\}", {"path.id": "user_ids"}),
    ]
    lines = [
        "# Written by .ci/schemathesis_helpers.py for one run; not committed.",
        "# No example database and no response cache: a run depends on its seed alone.",
        "[generation]",
        'database = "none"',
        "",
        "[cache]",
        "enabled = false",
        "",
        "[dictionaries]",
    ]
    for name, entries in values.items():
        lines.append(f"{name} = {{ values = [{', '.join(toml_string(e) for e in entries)}] }}")
    for pattern, parameters in bindings:
        bound = ", ".join(
            f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}'
            for parameter, dictionary in parameters.items()
        )
        lines += [
            "",
            "[[operations]]",
            f"include-path-regex = {toml_string(pattern)}",
            f"parameters = {{ {bound} }}",
        ]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # fails here rather than in schemathesis
    with open(out, "w", encoding="utf-8") as fd:
        fd.write(text)


# ------------------------------------------------------------------------------------- main


def main(argv: list[str]) -> None:
    import os

    match argv:
        case ["rpps", n]:
            print(rpps(int(n)))
        case ["free-port"]:
            print(free_port())
        case ["wait", base, seconds]:
            wait_healthy(base, float(seconds))
        case ["login", base, email, *secret] if len(secret) <= 1:
            print(login(base, email, os.environ["ST_PASSWORD"], secret[0] if secret else None))
        case ["config", out, base, requester, coordinator]:
            values = fixtures(base, requester, coordinator)
            write_config(out, values)
            print(json.dumps(values))
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
