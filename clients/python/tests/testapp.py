"""The Flask app the sluice-flask tests run under real gunicorn.

Environment: SLUICE_URL, SLUICE_TIMEOUT, SLUICE_ON_ERROR (the Sluice arguments), HITS_FILE (every
view run appends "<X-Test-Run> <path> <start> <end>" to it, across worker processes), and
SLUICE_WARMUP=1 to ask the decision service once at import time, so that under
`gunicorn --preload` the master holds a connection before it forks the workers.
"""

import os
import time

from flask import Flask, g, jsonify, request

from sluice_flask import Sluice

app = Flask(__name__)
sluice = Sluice(
    url=os.environ["SLUICE_URL"],
    timeout=float(os.environ.get("SLUICE_TIMEOUT", "0.5")),
    on_error=os.environ.get("SLUICE_ON_ERROR", "allow"),
)
HITS_FILE = os.environ["HITS_FILE"]


@app.before_request
def authenticate():
    # Stands in for the app's own authentication (Flask-Login, a JWT check ...).
    g.user = request.headers.get("X-User")


# After the authentication hook: before_request functions run in registration order, and the
# identity callback below reads what authenticate() put in g.
sluice.init_app(app)


@sluice.identity("user")
def current_user():
    return g.get("user")


def hit(start):
    line = f"{request.headers.get('X-Test-Run', '-')} {request.path} {start:.6f} {time.time():.6f}\n"
    fd = os.open(HITS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.get("/healthz")
@sluice.exempt
def healthz():
    return "ok"


@app.get("/limited")
def limited():
    hit(time.time())
    return jsonify(user=g.get("user"))


@app.post("/login")
def login():
    start = time.time()
    data = request.get_json(silent=True) or request.form
    ok = data.get("password") == "right"
    hit(start)
    return (jsonify(ok=True), 200) if ok else (jsonify(ok=False), 401)


@app.get("/exempt")
@sluice.exempt
def exempt():
    hit(time.time())
    return "free"


@app.get("/exempt-control")
def exempt_control():
    hit(time.time())
    return "limited"


@app.get("/slow")
def slow():
    start = time.time()
    time.sleep(1.0)
    hit(start)
    return "slow"


@app.get("/exact")
def exact():
    hit(time.time())
    return "ok"


@app.get("/boom")
def boom():
    hit(time.time())
    raise RuntimeError("the view failed")


@app.get("/warm")
def warm():
    return "warm"


if os.environ.get("SLUICE_WARMUP") == "1":
    with app.test_client() as client:
        client.get("/warm")
