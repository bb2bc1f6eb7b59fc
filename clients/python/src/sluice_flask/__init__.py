"""Rate limiting inside Flask request handling, decided by a Sluice decision service.

Sluice runs beside the app (``sluice serve`` with ``decision.listen`` in the policy file) and this
package asks it, before each request, whether the request may run::

    from sluice_flask import Sluice

    sluice = Sluice(app, url="http://127.0.0.1:8081", timeout=0.05, on_error="allow")

    @sluice.identity("user")
    def current_user():            # called per request; None = no such identity
        return g.user.id if g.get("user") else None

A refused request is answered with the decision's status, headers and problem+json body and
the view never runs; an allowed request gets the decision's rate-limit headers on its response;
after the response has been sent (also when the view raised) the decision's ticket, if any, is
settled with the final status, which is what ``count:``, ``penalty:`` and ``concurrency:``
policies need. See docs/flask.md in the Sluice repository.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar, Union
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

__all__ = ["Sluice", "DecisionError"]
__version__ = "0.1.0"

logger = logging.getLogger("sluice_flask")

F = TypeVar("F", bound=Callable[..., Any])
IdentityValue = Union[str, int, None]

#: Identity kinds the decision API accepts in ``identities`` (plus ``header:<Name>``).
IDENTITY_KINDS = ("user", "session", "api_key")

#: Request bodies larger than this are not parsed for ``body:<field>`` identities.
MAX_BODY_BYTES = 64 * 1024

#: One warning per this many seconds while the decision service keeps failing.
WARNING_INTERVAL_SECONDS = 10.0

_EXEMPT_ATTR = "_sluice_exempt"
_UNAVAILABLE_TYPE = "about:blank"


class DecisionError(Exception):
    """The decision service could not be asked, or gave an answer that is not a decision."""


class _Connections(threading.local):
    """One keep-alive connection per thread, remembered with the process id that opened it."""

    conn: Optional[http.client.HTTPConnection] = None
    pid: int = 0


class Sluice:
    """Asks a Sluice decision service before each request of a Flask app.

    :param app: the Flask app; or ``None`` and call :meth:`init_app` later (app factories).
    :param url: base URL of the decision API (``decision.listen``), e.g. ``http://127.0.0.1:8081``.
    :param timeout: seconds one call to the decision service may take (connect, send and each
        wait for the answer). A service slower than this counts as failing.
    :param on_error: what to do when the service is unreachable, too slow or answers garbage:
        ``"allow"`` runs the request (fail open; one warning per 10 s is logged on the
        ``sluice_flask`` logger) and ``"deny"`` answers ``503`` problem+json with
        ``Retry-After: 1`` (fail closed).
    :param body_fields: names of the top-level JSON or form fields sent as ``body`` for
        ``body:<field>`` identities. ``None`` (default) sends every top-level scalar field of a
        JSON object or form body up to 64 KiB; ``()`` sends none. Listing the fields your policy
        uses (e.g. ``("username",)``) keeps passwords out of the decision request.
    :param forward_headers: when given, only these request headers are sent (case-insensitive);
        by default all are, since the policy decides which it reads (``X-API-Key``,
        ``Authorization`` for JWT users, ``Cookie`` for sessions, ``X-Forwarded-For`` …).
    """

    def __init__(
        self,
        app: Optional[Flask] = None,
        *,
        url: str = "http://127.0.0.1:8081",
        timeout: float = 0.05,
        on_error: str = "allow",
        body_fields: Optional[Iterable[str]] = None,
        forward_headers: Optional[Iterable[str]] = None,
    ) -> None:
        if on_error not in ("allow", "deny"):
            raise ValueError(f"on_error must be 'allow' or 'deny', not {on_error!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must look like http://host:port, not {url!r}")
        self.url = url
        self.timeout = float(timeout)
        self.on_error = on_error
        self.body_fields: Optional[Tuple[str, ...]] = (
            None if body_fields is None else tuple(body_fields)
        )
        self.forward_headers: Optional[frozenset] = (
            None if forward_headers is None else frozenset(h.lower() for h in forward_headers)
        )
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        prefix = parts.path.rstrip("/")
        self._decide_path = prefix + "/v1/decide"
        self._settle_path = prefix + "/v1/settle"
        self._identities: List[Tuple[str, Callable[[], IdentityValue]]] = []
        self._exempt_names: set = set()
        self._local = _Connections()
        self._warn_lock = threading.Lock()
        self._last_warning = float("-inf")
        self._suppressed = 0
        if app is not None:
            self.init_app(app)

    # --- public API ---------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Register the before/after/teardown hooks on ``app`` (for app factories)."""
        app.extensions["sluice"] = self
        app.before_request(self._before_request)
        app.after_request(self._after_request)
        app.teardown_request(self._teardown_request)

    def identity(self, kind: str) -> Callable[[F], F]:
        """Decorate a function returning this request's identity of ``kind``.

        ``kind`` is ``user``, ``session``, ``api_key`` or ``header:<Name>``. The function is
        called in every limited request (inside the request context, after the ``before_request``
        hooks registered before :class:`Sluice`); it returns the identity value (``str`` or
        ``int``) or ``None`` when the request has no such identity, and the policy's fallback
        chain moves on. Values you return are trusted: return only what your app has
        authenticated.
        """
        if kind not in IDENTITY_KINDS and not (kind.startswith("header:") and len(kind) > 7):
            raise ValueError(
                f"identity kind must be one of {', '.join(IDENTITY_KINDS)} or header:<Name>, "
                f"not {kind!r}"
            )

        def register(func: F) -> F:
            self._identities.append((kind, func))
            return func

        return register

    def exempt(self, view: F) -> F:
        """Decorate a view that is never limited (no call to the decision service)."""
        setattr(view, _EXEMPT_ATTR, True)
        self._exempt_names.add(getattr(view, "__qualname__", repr(view)))
        return view

    # --- request hooks ------------------------------------------------------------

    def _is_exempt(self) -> bool:
        from flask import current_app

        endpoint = request.endpoint
        if endpoint is None:
            return False
        view = current_app.view_functions.get(endpoint)
        return view is not None and getattr(view, _EXEMPT_ATTR, False)

    def _before_request(self) -> Optional[Response]:
        if self._is_exempt():
            return None
        try:
            decision = self._call(self._decide_path, self._decide_payload())
            allowed = decision.get("allowed")
            status = decision.get("status")
            headers = decision.get("headers") or {}
            if not isinstance(allowed, bool) or not isinstance(status, int) or not isinstance(
                headers, dict
            ):
                raise DecisionError(f"answer is not a decision: {str(decision)[:200]}")
        except DecisionError as error:
            self._warn(error)
            if self.on_error == "deny":
                g._sluice_done = True
                return _unavailable()
            return None
        ticket = decision.get("ticket")
        g._sluice_ticket = ticket if isinstance(ticket, str) else None
        g._sluice_headers = {str(k): str(v) for k, v in headers.items()}
        if allowed:
            return None
        body = decision.get("body")
        response = Response(status=status)
        if body is not None:
            response.set_data(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            response.content_type = "application/problem+json"
        return response

    def _after_request(self, response: Response) -> Response:
        if g.get("_sluice_done"):
            return response
        headers: Optional[Dict[str, str]] = g.get("_sluice_headers")
        if headers:
            for name, value in headers.items():
                response.headers[name] = value
        ticket: Optional[str] = g.get("_sluice_ticket")
        g._sluice_done = True
        if ticket:
            status = response.status_code
            # After the body has been sent (the WSGI server closes the iterable), so a
            # concurrency permit is held for the whole response, streamed ones included.
            response.call_on_close(lambda: self._settle(ticket, status))
        return response

    def _teardown_request(self, error: Optional[BaseException]) -> None:
        # Reached without _after_request only when the view's exception propagated past Flask
        # (PROPAGATE_EXCEPTIONS, debug, testing): the server answers 500.
        if g.get("_sluice_done"):
            return
        g._sluice_done = True
        ticket: Optional[str] = g.get("_sluice_ticket")
        if ticket:
            self._settle(ticket, 500)

    # --- the decision request ---------------------------------------------------------

    def _decide_payload(self) -> Dict[str, Any]:
        environ = request.environ
        # ProxyFix rewrites REMOTE_ADDR; Sluice does its own trusted-proxy walk on the headers,
        # so it gets the address the server saw.
        orig = environ.get("werkzeug.proxy_fix.orig")
        peer = (orig or {}).get("REMOTE_ADDR") or environ.get("REMOTE_ADDR") or ""
        headers: Dict[str, str] = {}
        for name, value in request.headers.items():
            if self.forward_headers is not None and name.lower() not in self.forward_headers:
                continue
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        payload: Dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "peer": peer,
            "headers": headers,
        }
        identities: Dict[str, str] = {}
        for kind, func in self._identities:
            if kind in identities:
                continue
            value = func()
            if value is not None:
                identities[kind] = str(value)
        if identities:
            payload["identities"] = identities
        body = self._body_fields()
        if body:
            payload["body"] = body
        return payload

    def _body_fields(self) -> Optional[Dict[str, Any]]:
        if self.body_fields == ():
            return None
        length = request.content_length
        if not length or length > MAX_BODY_BYTES:
            return None
        fields: Dict[str, Any] = {}
        if request.is_json:
            data = request.get_json(silent=True, cache=True)
            if not isinstance(data, dict):
                return None
            source: Mapping[str, Any] = data
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            source = request.form
        else:
            return None
        for key in source.keys() if self.body_fields is None else self.body_fields:
            value = source.get(key)
            if isinstance(value, (str, int, float, bool)):
                fields[key] = value
        return fields or None

    def _settle(self, ticket: str, status: int) -> None:
        try:
            self._call(self._settle_path, {"ticket": ticket, "status": status}, settle=True)
        except DecisionError as error:
            self._warn(error)

    # --- transport ----------------------------------------------------------------

    def _connection(self) -> Tuple[http.client.HTTPConnection, bool]:
        local = self._local
        pid = os.getpid()
        if local.conn is not None and local.pid == pid:
            return local.conn, True
        # No connection yet in this thread, or one inherited through fork (gunicorn --preload):
        # never share a socket with the parent process.
        if self._scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        local.conn, local.pid = conn, pid
        return conn, False

    def _drop_connection(self) -> None:
        conn = self._local.conn
        self._local.conn = None
        if conn is not None and self._local.pid == os.getpid():
            conn.close()

    def _call(self, path: str, payload: Dict[str, Any], settle: bool = False) -> Dict[str, Any]:
        data = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in (1, 2):
            conn, reused = self._connection()
            deadline = time.monotonic() + self.timeout
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(self.timeout)
                conn.request(
                    "POST", path, body=data, headers={"Content-Type": "application/json"}
                )
                answer = conn.getresponse()
                raw = answer.read()
                if answer.will_close:
                    self._drop_connection()
            except (socket.timeout, TimeoutError) as error:
                self._drop_connection()
                raise DecisionError(
                    f"decision service at {self.url} did not answer within {self.timeout}s"
                ) from error
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                # A kept-alive connection the service closed while idle: ask once more on a
                # fresh one (within the timeout).
                if reused and attempt == 1 and time.monotonic() < deadline:
                    continue
                raise DecisionError(
                    f"decision service at {self.url} unreachable: {error!r}"
                ) from error
            if settle:
                if answer.status in (204, 404):  # 404: expired or already settled; nothing to do
                    return {}
                raise DecisionError(f"settle answered {answer.status}: {raw[:200]!r}")
            if answer.status != 200:
                raise DecisionError(
                    f"decide answered {answer.status}: {raw[:300].decode('utf-8', 'replace')}"
                )
            try:
                decision = json.loads(raw)
            except ValueError as error:
                raise DecisionError(f"decide answered malformed JSON: {raw[:200]!r}") from error
            if not isinstance(decision, dict):
                raise DecisionError(f"decide answered {raw[:200]!r}, not a JSON object")
            return decision
        raise DecisionError("unreachable")  # pragma: no cover

    def _warn(self, error: DecisionError) -> None:
        now = time.monotonic()
        with self._warn_lock:
            if now - self._last_warning < WARNING_INTERVAL_SECONDS:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._last_warning = now
        more = f" ({suppressed} more failures since the last warning)" if suppressed else ""
        action = "requests run unlimited" if self.on_error == "allow" else "requests get 503"
        logger.warning("sluice: %s; on_error=%s: %s%s", error, self.on_error, action, more)


def _unavailable() -> Response:
    body = {
        "type": _UNAVAILABLE_TYPE,
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The rate limiter cannot decide right now (on_error: deny); retry shortly.",
    }
    response = Response(
        json.dumps(body, separators=(",", ":")),
        status=503,
        content_type="application/problem+json",
    )
    response.headers["Retry-After"] = "1"
    return response
