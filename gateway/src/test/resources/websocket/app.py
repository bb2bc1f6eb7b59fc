"""A WebSocket echo upstream for the gateway's tunnel tests.

Runs under Debian's gunicorn with gevent-websocket's worker
(-k geventwebsocket.gunicorn.workers.GeventWebSocketWorker), which performs the opening
handshake (101) and hands the app a `wsgi.websocket`. /__stats tells the test what reached
it: upgrades (handshakes completed), tunnels open now and closed so far.
"""
import gevent.event
from flask import Flask, jsonify, request
from gevent.pywsgi import WSGIHandler
from geventwebsocket.handler import WebSocketHandler

app = Flask(__name__)
stats = {"upgrades": 0, "open": 0, "closed": 0, "plain": 0, "refused": 0, "sink_bytes": 0}
# /ws/sink reads nothing until /__open_sink is called (a slow reader, for backpressure).
sink_gate = gevent.event.Event()

_run_application = WebSocketHandler.run_application


def _refuse_some(handler):
    """/ws/refuse answers an upgrade with a plain 403 (the worker would otherwise switch first)."""
    if handler.environ.get("PATH_INFO") == "/ws/refuse":
        handler.environ.pop("HTTP_UPGRADE", None)
        return WSGIHandler.run_application(handler)
    return _run_application(handler)


WebSocketHandler.run_application = _refuse_some


@app.route("/ws/refuse")
def refuse():
    stats["refused"] += 1
    return "no tunnels here\n", 403


# websocket=True: Werkzeug's router answers 400 to an upgrade request for any other rule.
@app.route("/ws/<name>", websocket=True)
def echo(name):
    ws = request.environ.get("wsgi.websocket")
    if ws is None:
        stats["plain"] += 1
        return "not a WebSocket request\n", 400
    stats["upgrades"] += 1
    stats["open"] += 1
    try:
        if name == "sink":
            sink_gate.wait()
            while True:
                message = ws.receive()
                if message is None:
                    break
                stats["sink_bytes"] += len(message)
            return ""
        while True:
            message = ws.receive()
            if message is None:
                break
            ws.send(message)
    except Exception:  # the peer vanished mid-frame: the tunnel is gone either way
        pass
    finally:
        stats["open"] -= 1
        stats["closed"] += 1
    return ""


@app.route("/__open_sink")
def open_sink():
    sink_gate.set()
    return "ok\n"


@app.route("/healthz")
def healthz():
    return "ok\n"


@app.route("/__stats")
def stats_route():
    return jsonify(stats)
