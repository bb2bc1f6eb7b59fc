"""Example API that Sluice protects: a small but realistic Flask app.

Run it under gunicorn behind Sluice (see README.md):

    gunicorn --workers 1 --threads 16 --worker-class gthread \
             --bind 127.0.0.1:5000 app:app

Endpoints
    POST /auth/login         JSON or form username/password -> 200 + token, 401 otherwise
    GET  /api/search?q=      substring search over the item catalogue
    GET  /api/reports/<id>   a slow "export": sleeps ?delay= seconds (default 0.5); needs X-API-Key
    GET  /api/items          the catalogue; an X-API-Key or Bearer token, when sent, must be valid
    POST /api/echo           sha256 and length of the body, plus the client address as Flask sees it
    GET  /healthz            liveness

Test hooks (only when SLUICE_EXAMPLE_TEST_HOOKS=1; never enable them in production)
    GET  /__stats            per-path hit counts, current and maximum in-flight requests
    POST /__reset            zero the counters
    GET  /__big?bytes=N      a streamed response of N bytes, its sha256 in X-Body-Sha256

The counters are exact only with one worker process (threads are fine): the test
suite runs `--workers 1 --threads 16 --worker-class gthread`.
"""

import base64
import hashlib
import hmac
import json
import os
import threading
import time

from flask import Flask, Response, abort, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

# ProxyFix x_for = 1 + the proxies in front of Sluice that Sluice trusts
# (docs/identity.md): 1 when clients talk to Sluice directly (the default),
# 2 with nginx in front: set PROXY_FIX_X_FOR=2 (see README.md).
PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "1"))

# Tokens are HS256 JWTs so that Sluice's `user` identity (clients.user.jwt) can
# verify them with the same secret, read from the same environment variable.
JWT_SECRET = os.environ.get("SLUICE_JWT_SECRET", "change-me-example-secret").encode()
TOKEN_TTL_SECONDS = 3600

# Demo credentials. A real app keeps password hashes in a database.
USERS = {
    "alice": "wonderland",
    "bob": "builder",
}

# Known API keys and their owners; Sluice can be given the same list as a keys_file.
API_KEYS = {
    "demo-key-alice": "alice",
    "demo-key-bob": "bob",
    "internal-batch-key": "batch",
}

ITEMS = [
    {"id": i, "name": name, "price_cents": 100 * i + 99}
    for i, name in enumerate(
        ["anchor", "buoy", "canal", "dam", "eddy", "flume", "gate", "harbour", "inlet", "jetty"],
        start=1,
    )
]

TEST_HOOKS = os.environ.get("SLUICE_EXAMPLE_TEST_HOOKS") == "1"
HOOK_PATHS = ("/__stats", "/__reset")


class RequestCounter:
    """WSGI middleware counting hits per path and requests in flight.

    It wraps the app *inside* ProxyFix so it sees every request, including 404s,
    and it decrements in-flight only when the server closes the response
    iterable, so a streamed response counts as in flight until fully sent.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.hits = {}
            self.total = 0
            self.in_flight = 0
            self.max_in_flight = 0

    def snapshot(self):
        with self.lock:
            return {
                "hits": dict(self.hits),
                "total": self.total,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in HOOK_PATHS:
            return self.app(environ, start_response)
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            self.total += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        return _ClosingIterable(result, self._done)

    def _done(self):
        with self.lock:
            self.in_flight -= 1


class _ClosingIterable:
    def __init__(self, iterable, on_close):
        self.iterable = iterable
        self.on_close = on_close
        self.closed = False

    def __iter__(self):
        return iter(self.iterable)

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if hasattr(self.iterable, "close"):
                self.iterable.close()
        finally:
            self.on_close()


app = Flask(__name__)


# --- tokens ---------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(username: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    claims = {"sub": username, "iat": now, "exp": now + TOKEN_TTL_SECONDS}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(JWT_SECRET, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def verify_token(token: str):
    """Returns the username of a valid, unexpired token, else None."""
    try:
        header, payload, signature = token.split(".")
        expected = _b64(hmac.new(JWT_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        claims = json.loads(_unb64(payload))
        if claims.get("exp", 0) < time.time():
            return None
        return claims.get("sub")
    except (ValueError, json.JSONDecodeError):
        return None


def caller():
    """Who is calling: ('api_key', owner), ('user', name), (None, None); aborts 401 on a bad credential."""
    key = request.headers.get("X-API-Key")
    if key is not None:
        owner = API_KEYS.get(key)
        if owner is None:
            abort(401, description="unknown API key")
        return "api_key", owner
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        user = verify_token(auth[len("Bearer "):])
        if user is None:
            abort(401, description="invalid or expired token")
        return "user", user
    return None, None


@app.errorhandler(401)
def unauthorized(error):
    return jsonify(error="unauthorized", detail=error.description), 401


@app.errorhandler(404)
def not_found(error):
    return jsonify(error="not found", path=request.path), 404


# --- API ------------------------------------------------------------------

@app.post("/auth/login")
def login():
    data = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(data, dict):  # e.g. a JSON list or null: no credentials
        data = {}
    username = data.get("username")
    password = data.get("password")
    known = USERS.get(username) if isinstance(username, str) else None
    if known is None or not isinstance(password, str) or not hmac.compare_digest(known, password):
        return jsonify(error="invalid credentials"), 401
    return jsonify(token=issue_token(username), token_type="Bearer", expires_in=TOKEN_TTL_SECONDS)


@app.get("/api/search")
def search():
    q = request.args.get("q", "").strip().lower()
    results = [item for item in ITEMS if q in item["name"]] if q else []
    return jsonify(q=q, count=len(results), results=results)


@app.get("/api/reports/<int:report_id>")
def report(report_id):
    kind, who = caller()
    if kind != "api_key":
        abort(401, description="reports need an X-API-Key")
    try:
        delay = float(request.args.get("delay", "0.5"))
    except ValueError:
        return jsonify(error="delay must be a number of seconds", value=request.args.get("delay")), 400
    delay = min(max(delay, 0.0), 30.0)
    time.sleep(delay)  # stands in for an expensive export
    return jsonify(id=report_id, owner=who, rows=report_id * 10, took_seconds=delay)


@app.get("/api/items")
def items():
    kind, who = caller()
    return jsonify(items=ITEMS, caller={"kind": kind, "name": who})


@app.post("/api/echo")
def echo():
    digest = hashlib.sha256()
    length = 0
    # Read in chunks: the body may be large and must not be buffered whole.
    while True:
        chunk = request.stream.read(64 * 1024)
        if not chunk:
            break
        digest.update(chunk)
        length += len(chunk)
    orig = request.environ.get("werkzeug.proxy_fix.orig", {})
    return jsonify(
        sha256=digest.hexdigest(),
        length=length,
        remote_addr=request.remote_addr,
        peer_addr=orig.get("REMOTE_ADDR", request.environ.get("REMOTE_ADDR")),
        x_forwarded_for=request.headers.get("X-Forwarded-For"),
        x_forwarded_proto=request.headers.get("X-Forwarded-Proto"),
        x_forwarded_host=request.headers.get("X-Forwarded-Host"),
    )


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


# --- test hooks -----------------------------------------------------------

counter = RequestCounter(app.wsgi_app)

if TEST_HOOKS:

    @app.get("/__stats")
    def stats():
        return jsonify(counter.snapshot())

    @app.post("/__reset")
    def reset():
        counter.reset()
        return jsonify(status="reset")

    @app.get("/__big")
    def big():
        size = request.args.get("bytes", "1048576")
        if not size.isdigit() or int(size) > 512 * 1024 * 1024:
            return jsonify(error="bytes must be an integer between 0 and 536870912", value=size), 400
        size = int(size)
        block = bytes(range(256)) * 256  # 64 KiB, deterministic so clients can recompute it
        digest = hashlib.sha256()
        remaining = size
        while remaining:
            part = block[: min(remaining, len(block))]
            digest.update(part)
            remaining -= len(part)

        def generate():
            left = size
            while left:
                part = block[: min(left, len(block))]
                left -= len(part)
                yield part

        response = Response(generate(), mimetype="application/octet-stream")
        response.headers["Content-Length"] = str(size)
        response.headers["X-Body-Sha256"] = digest.hexdigest()
        return response


app.wsgi_app = ProxyFix(counter, x_for=PROXY_FIX_X_FOR)


# --- middleware mode --------------------------------------------------------
# The same API limited from inside Flask instead of by the gateway (README.md, "Middleware
# mode"): set SLUICE_DECISION_URL to the decision API of `sluice serve -c sluice-middleware.yaml`
# and install sluice-flask (clients/python). Without the variable nothing here runs.
SLUICE_DECISION_URL = os.environ.get("SLUICE_DECISION_URL")

if SLUICE_DECISION_URL:
    from sluice_flask import Sluice

    sluice = Sluice(
        app,
        url=SLUICE_DECISION_URL,
        timeout=float(os.environ.get("SLUICE_TIMEOUT", "0.05")),
        on_error=os.environ.get("SLUICE_ON_ERROR", "allow"),
        body_fields=("username",),  # the password never leaves the app
    )

    @sluice.identity("api_key")
    def sluice_api_key():
        key = request.headers.get("X-API-Key")
        return key if key in API_KEYS else None  # an invented key is no identity

    @sluice.identity("user")
    def sluice_user():
        auth = request.headers.get("Authorization", "")
        return verify_token(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None

    sluice.exempt(healthz)
