"""sluice-flask against a real `sluice serve` decision API and a real Flask app under gunicorn
(sync -w 4 with --preload, and gthread), see conftest.py."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

import pytest

from conftest import Gunicorn, Stalled, free_port

QUOTA = "https://iana.org/assignments/http-problem-types#quota-exceeded"


def call(url: str, path: str, method: str = "GET", headers: Optional[Dict[str, str]] = None,
         body: Optional[bytes] = None, timeout: float = 30) -> Tuple[int, http.client.HTTPMessage, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        conn.close()


def run_id() -> str:
    return uuid.uuid4().hex[:12]


def test_refusal_is_429_with_headers_and_problem_body_and_the_view_does_not_run(app_server: Gunicorn):
    run, user = run_id(), "u-" + run_id()
    statuses = []
    for _ in range(3):
        status, headers, _ = call(app_server.url, "/limited", headers={"X-User": user, "X-Test-Run": run})
        statuses.append(status)
        assert headers["RateLimit-Policy"] == '"per-user";q=3;w=3600'
        assert headers["RateLimit"].startswith('"per-user";r=')
    assert statuses == [200, 200, 200]
    status, headers, body = call(app_server.url, "/limited", headers={"X-User": user, "X-Test-Run": run})
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["RateLimit"] == f'"per-user";r=0;t={headers["Retry-After"]}'
    problem = json.loads(body)
    assert problem["type"] == QUOTA
    assert problem["status"] == 429
    assert problem["policy"] == "per-user" and problem["limit"] == "3/hour"
    assert problem["violated-policies"] == ["per-user"]
    assert len(app_server.hits(run, "/limited")) == 3


def test_limits_are_per_user_from_the_identity_callback(app_server: Gunicorn):
    run = run_id()
    alice, bob = "alice-" + run, "bob-" + run
    got = [call(app_server.url, "/limited", headers={"X-User": alice, "X-Test-Run": run})[0] for _ in range(4)]
    assert got == [200, 200, 200, 429]
    # Same address, another user: a bucket of its own.
    assert call(app_server.url, "/limited", headers={"X-User": bob, "X-Test-Run": run})[0] == 200
    assert len(app_server.hits(run, "/limited")) == 4


def test_only_failed_logins_consume_with_count(app_server: Gunicorn):
    run, user = run_id(), "bob-" + run_id()

    def login(password: str, form: bool = False) -> int:
        if form:
            body = f"username={user}&password={password}".encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = json.dumps({"username": user, "password": password}).encode()
            ctype = "application/json"
        return call(app_server.url, "/login", "POST", {"Content-Type": ctype, "X-Test-Run": run}, body)[0]

    assert [login("right") for _ in range(6)] == [200] * 6  # successes never consume
    assert [login("wrong"), login("wrong", form=True), login("wrong")] == [401, 401, 401]
    assert login("right") == 429  # three failures spent the 3/hour budget: refused before the view
    assert len(app_server.hits(run, "/login")) == 9
    # Another username (same address) is untouched.
    user = "carol-" + run
    assert login("wrong") == 401


def test_exempt_views_are_never_limited(app_server: Gunicorn):
    run = run_id()
    assert [call(app_server.url, "/exempt", headers={"X-Test-Run": run})[0] for _ in range(5)] == [200] * 5
    assert len(app_server.hits(run, "/exempt")) == 5
    control = [call(app_server.url, "/exempt-control", headers={"X-Test-Run": run})[0] for _ in range(2)]
    assert 429 in control  # the same policy limits a view that is not exempt (1/hour, global)


def test_concurrency_cap_holds_across_workers(app_server: Gunicorn):
    run = run_id()

    def one(_: int) -> Tuple[int, Optional[str]]:
        status, headers, _ = call(app_server.url, "/slow", headers={"X-Test-Run": run})
        return status, headers.get("Retry-After")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    refused = [r for r in results if r[0] == 429]
    assert refused, results
    assert all(retry == "1" for _, retry in refused)
    runs = app_server.hits(run, "/slow")
    assert 2 <= len(runs) == len([r for r in results if r[0] == 200])
    events = sorted([(s, 1) for s, _ in runs] + [(e, -1) for _, e in runs], key=lambda x: (x[0], x[1]))
    inside = peak = 0
    for _, delta in events:
        inside += delta
        peak = max(peak, inside)
    assert peak <= 2, runs


def test_exactly_the_limit_is_admitted_across_workers(app_server: Gunicorn):
    run = run_id()
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda _: call(app_server.url, "/exact", headers={"X-Test-Run": run})[0], range(60)))
    assert statuses.count(200) == 20 and statuses.count(429) == 40
    assert len(app_server.hits(run, "/exact")) == 20


def test_settle_happens_when_the_view_raises(app_server: Gunicorn):
    run = run_id()
    headers = {"X-Test-Run": run}

    def next_call() -> Tuple[int, http.client.HTTPMessage]:
        # The settle is sent after the response (when the server closes it), so the permit may
        # still be held for a moment after the client has the 500: retry a concurrency refusal
        # (Retry-After: 1) for up to 5 s. The ticket lease is 60 s, so a release within 5 s is
        # the settle, not the lease expiring.
        deadline = time.monotonic() + 5
        while True:
            status, answer, _ = call(app_server.url, "/boom", headers=headers)
            if not (status == 429 and answer["Retry-After"] == "1") or time.monotonic() > deadline:
                return status, answer
            time.sleep(0.05)

    # concurrency: 1 — a permit not released after the exception would refuse every later call;
    # count: 5xx, 2/hour — the quota refusal comes only because both 500s were reported as such.
    assert call(app_server.url, "/boom", headers=headers)[0] == 500
    assert next_call()[0] == 500
    status, answer = next_call()
    assert status == 429 and int(answer["Retry-After"]) > 1, dict(answer)
    assert len(app_server.hits(run, "/boom")) == 2


# --- on_error ----------------------------------------------------------------------------

def start_app(tmp_path: Path, url: str, on_error: str, timeout: float) -> Gunicorn:
    return Gunicorn(tmp_path, ["-k", "sync", "-w", "1"],
                    {"SLUICE_URL": url, "SLUICE_ON_ERROR": on_error, "SLUICE_TIMEOUT": str(timeout)})


def warnings(server: Gunicorn) -> int:
    return sum(1 for line in server.log.read_text().splitlines() if "sluice: decision service" in line)


@pytest.mark.parametrize("failure", ["down", "slow"])
def test_on_error_allow_runs_the_view_with_one_warning(tmp_path: Path, failure: str, stalled: Stalled):
    url = f"http://127.0.0.1:{free_port() if failure == 'down' else stalled.port}"
    server = start_app(tmp_path, url, "allow", 0.2)
    try:
        run = run_id()
        for _ in range(8):
            began = time.monotonic()
            status, _, _ = call(server.url, "/limited", headers={"X-User": "x", "X-Test-Run": run})
            assert status == 200
            assert time.monotonic() - began < 2.0  # the timeout is honoured, not the OS's
        assert len(server.hits(run, "/limited")) == 8
        assert warnings(server) == 1, server.log.read_text()  # one per 10 s, not one per request
    finally:
        server.stop()


@pytest.mark.parametrize("failure", ["down", "slow"])
def test_on_error_deny_answers_503_problem_with_retry_after(tmp_path: Path, failure: str, stalled: Stalled):
    url = f"http://127.0.0.1:{free_port() if failure == 'down' else stalled.port}"
    server = start_app(tmp_path, url, "deny", 0.2)
    try:
        run = run_id()
        for _ in range(4):
            began = time.monotonic()
            status, headers, body = call(server.url, "/limited", headers={"X-Test-Run": run})
            assert time.monotonic() - began < 2.0
            assert status == 503
            assert headers["Retry-After"] == "1"
            assert headers["Content-Type"] == "application/problem+json"
            assert json.loads(body)["status"] == 503
        assert server.hits(run) == []
        assert warnings(server) == 1
    finally:
        server.stop()
