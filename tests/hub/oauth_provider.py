"""A small but real OAuth2 authorization server for the hub tests (stdlib ``http.server``).

Endpoints (RFC 6749 authorization-code grant with RFC 7636 PKCE):

* ``GET /authorize`` — checks ``client_id`` / ``redirect_uri`` / ``response_type=code`` and shows a
  login form; ``POST /authorize`` checks the user's password and redirects to ``redirect_uri``
  with a single-use ``code`` (bound to client, redirect URI, PKCE challenge and user) and ``state``.
* ``POST /token`` — client authentication (HTTP Basic or form), code exchange, PKCE verification
  (``S256`` and ``plain``): returns a bearer access token.
* ``GET /userinfo`` — the user's claims (``sub``, ``preferred_username``, ``email``, ``groups``)
  for a valid bearer token.

``provider.events`` records what happened (for assertions such as "PKCE was verified");
``provider.users[name]["groups"]`` can be changed between logins, as at a real provider.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    user: str
    challenge: str | None
    method: str
    expires: float


@dataclass
class OAuthProvider:
    client_id: str
    client_secret: str
    users: dict[str, dict[str, Any]]
    redirect_uris: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    _codes: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OAuthProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                provider._get(self)

            def do_POST(self) -> None:
                provider._post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="oauth-provider").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- helpers ---------------------------------------------------------------------------
    def _record(self, endpoint: str, **data: Any) -> None:
        with self._lock:
            self.events.append({"endpoint": endpoint, **data})

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, content_type: str = "application/json") -> None:
        payload = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        h.wfile.write(payload)

    @staticmethod
    def _form(h: BaseHTTPRequestHandler) -> dict[str, str]:
        length = int(h.headers.get("Content-Length") or 0)
        data = parse_qs(h.rfile.read(length).decode(), keep_blank_values=True)
        return {k: v[0] for k, v in data.items()}

    def _check_client_request(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if params.get("client_id") != self.client_id:
            return "unauthorized_client"
        if self.redirect_uris and params.get("redirect_uri") not in self.redirect_uris:
            return "invalid_redirect_uri"
        return None

    # -- endpoints ---------------------------------------------------------------------------
    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        if url.path == "/authorize":
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            problem = self._check_client_request(params)
            self._record("authorize", params=params, problem=problem)
            if problem:
                self._send(h, 400, {"error": problem})
                return
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
            )
            page = (
                '<html><body><form method="post" action="/authorize">'
                f'{hidden}<input name="username"><input name="password" type="password">'
                '<button type="submit">Sign in</button></form></body></html>'
            )
            self._send(h, 200, page, "text/html")
        elif url.path == "/userinfo":
            auth = h.headers.get("Authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            with self._lock:
                entry = self._tokens.get(token)
            if entry is None or entry[1] < time.time():
                self._record("userinfo", ok=False)
                self._send(h, 401, {"error": "invalid_token"})
                return
            user = self.users[entry[0]]
            claims = {
                "sub": f"uid-{entry[0]}",
                "preferred_username": entry[0],
                "email": f"{entry[0]}@example.test",
                "groups": list(user.get("groups", [])),
            }
            self._record("userinfo", ok=True, user=entry[0])
            self._send(h, 200, claims)
        else:
            self._send(h, 404, {"error": "not_found"})

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        path = urlparse(h.path).path
        form = self._form(h)
        if path == "/authorize":
            problem = self._check_client_request(form)
            user = self.users.get(form.get("username", ""))
            if problem or user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
                self._record("login", ok=False, user=form.get("username"))
                self._send(h, 403, {"error": problem or "access_denied"})
                return
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = Grant(
                    client_id=form["client_id"],
                    redirect_uri=form["redirect_uri"],
                    user=form["username"],
                    challenge=form.get("code_challenge"),
                    method=form.get("code_challenge_method", "plain"),
                    expires=time.time() + 60,
                )
            self._record("login", ok=True, user=form["username"], pkce=form.get("code_challenge_method"))
            query = urlencode({"code": code, "state": form.get("state", "")})
            h.send_response(302)
            h.send_header("Location", f"{form['redirect_uri']}?{query}")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif path == "/token":
            self._token(h, form)
        else:
            self._send(h, 404, {"error": "not_found"})

    def _token(self, h: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = h.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            self._record("token", ok=False, error="invalid_client")
            self._send(h, 401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != "authorization_code":
            self._send(h, 400, {"error": "unsupported_grant_type"})
            return
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            self._record("token", ok=False, error="invalid_grant")
            self._send(h, 400, {"error": "invalid_grant"})
            return
        if form.get("redirect_uri") != grant.redirect_uri:
            self._record("token", ok=False, error="redirect_uri mismatch")
            self._send(h, 400, {"error": "invalid_grant"})
            return
        pkce = None
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            if grant.method == "S256":
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            else:
                computed = verifier
            if not verifier or not secrets.compare_digest(computed, grant.challenge):
                self._record("token", ok=False, error="pkce")
                self._send(h, 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                return
            pkce = grant.method
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (grant.user, time.time() + 3600)
        self._record("token", ok=True, user=grant.user, pkce=pkce)
        self._send(h, 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "openid"})
