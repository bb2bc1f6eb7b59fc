"""The upstream of the gateway benchmark: two cheap routes and an exact hit counter.

    GET /limited   the route every limiter guards (~99% of a flood must be refused)
    GET /free      a cheap route no limiter guards (pass-through cost)
    GET /__stats   {"limited": n, "free": n}: how many requests reached the views

Flask-Limiter is switched on inside the app by BENCH_FLASK_LIMITER=<storage uri>
(memory:// or redis://127.0.0.1:<port>), with the same limit the gateways use
(BENCH_LIMIT, default "10 per second", keyed by the client address).

Run with ONE gunicorn worker (threads are fine) so the counter is exact.
"""

import os
import threading

from flask import Flask, jsonify

app = Flask(__name__)
_lock = threading.Lock()
_hits = {"limited": 0, "free": 0}


def _count(route):
    with _lock:
        _hits[route] += 1


storage = os.environ.get("BENCH_FLASK_LIMITER")
limit = os.environ.get("BENCH_LIMIT", "10 per second")

if storage:
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(get_remote_address, app=app, storage_uri=storage)
    guard = limiter.limit(limit)
else:
    def guard(view):
        return view


@app.get("/limited")
@guard
def limited():
    _count("limited")
    return jsonify(ok=True)


@app.get("/free")
def free():
    _count("free")
    return jsonify(ok=True)


@app.get("/__stats")
def stats():
    with _lock:
        return jsonify(dict(_hits))
