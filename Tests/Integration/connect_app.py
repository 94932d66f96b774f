"""A small Connect app that checks Jira's lifecycle calls the way the common frameworks do.

It serves its descriptor and the four lifecycle routes under a path prefix. `installed` and
`uninstalled` are verified like Atlassian Connect Express 7.5 and atlassian-connect-spring-boot do:
RS256 only, the key fetched by `kid` from the key server, `aud[0]` equal to the app's baseUrl,
`iss` equal to the body's clientKey, and `qsh` equal to the hash of `POST&<path>&` computed by
`atlassian-jwt`. `enabled` and `disabled` are verified with HS256 and the stored shared secret.
Each call's verdict is recorded, so a test can read what the app saw.
"""

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from atlassian_jwt.url_utils import hash_url


class ConnectApp:
    def __init__(self, key: str, key_server: str, prefix: str = "/app", legacy: bool = False):
        self.key = key
        self.key_server = key_server.rstrip("/")
        self.prefix = prefix
        self.legacy = legacy
        self.events: list[dict] = []
        self.clients: dict[str, dict] = {}
        self.installed_status = None  # e.g. 500 to refuse every install
        self.hang_seconds = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}{prefix}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def descriptor_url(self) -> str:
        return f"{self.base_url}/atlassian-connect.json"

    def descriptor(self) -> dict:
        return {
            "key": self.key, "name": "Python interop app", "baseUrl": self.base_url,
            "authentication": {"type": "jwt"}, "scopes": ["read", "write"], "apiVersion": 1,
            "apiMigrations": {"signed-install": not self.legacy, "context-qsh": True, "gdpr": True},
            "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled",
                          "enabled": "/enabled", "disabled": "/disabled"},
        }

    # Verification, as the frameworks do it.

    def verify_signed(self, token: str | None, body: dict, path: str) -> dict:
        if not token:
            raise Refusal(401, "Unexpected or missing JWT token, failed to verify installation.")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise Refusal(401, "Unexpected or missing JWT token, failed to verify installation.")
        kid = header.get("kid")
        if not kid:
            raise Refusal(401, "JWT header has no kid")
        try:
            with urllib.request.urlopen(f"{self.key_server}/{kid}", timeout=5) as answer:
                pem = answer.read().decode().strip()
        except Exception as error:  # noqa: BLE001 - any failure to get the key refuses the install
            raise Refusal(401, f"Invalid JWT: Could not get public key with keyId {kid}: {error}")
        try:
            claims = jwt.decode(token, pem, algorithms=["RS256"], audience=self.base_url, leeway=3)
        except jwt.ExpiredSignatureError:
            raise Refusal(401, "Authentication request has expired.")
        except jwt.InvalidAudienceError:
            raise Refusal(401, "JWT claim did not contain the correct audience (aud) claim")
        except jwt.InvalidSignatureError as error:
            raise Refusal(400, f"Unable to decode JWT token: {error}")
        if not isinstance(claims.get("aud"), list) or claims["aud"][0] != self.base_url:
            raise Refusal(401, "aud[0] is not this app's baseUrl")
        if claims.get("iss") != body.get("clientKey"):
            raise Refusal(401, "clientKey in install payload did not match authenticated client")
        self.check_qsh(claims, path)
        return {"alg": "RS256", "kid": kid, "claims": claims, "pem": pem}

    def verify_symmetric(self, token: str | None, client_key: str, path: str) -> dict:
        stored = self.clients.get(client_key)
        if not token or not stored:
            raise Refusal(401, "no token, or an unknown client")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            raise Refusal(401, "expected HS256")
        try:
            claims = jwt.decode(token, stored["sharedSecret"], algorithms=["HS256"],
                                options={"verify_aud": False}, leeway=3)
        except jwt.PyJWTError as error:
            raise Refusal(401, f"HS256 verification failed: {error}")
        if claims.get("iss") != client_key:
            raise Refusal(401, "iss is not the clientKey")
        self.check_qsh(claims, path)
        return {"alg": "HS256", "claims": claims}

    def check_qsh(self, claims: dict, path: str):
        expected = hash_url("POST", path)
        if claims.get("qsh") != expected:
            raise Refusal(401, "Authentication failed: query hash does not match.")

    def handle_lifecycle(self, event: str, token: str | None, body: dict) -> int:
        record = {"event": event, "body": body, "token": token}
        try:
            if self.hang_seconds:
                time.sleep(self.hang_seconds)
            path = f"/{event}"
            if event in ("installed", "uninstalled"):
                known = body.get("clientKey") in self.clients
                if self.legacy and event == "installed" and not token and not known:
                    record["verified"] = {"alg": "none"}
                elif self.legacy:
                    record["verified"] = self.verify_symmetric(token, body.get("clientKey"), path)
                else:
                    record["verified"] = self.verify_signed(token, body, path)
            else:
                record["verified"] = self.verify_symmetric(token, body.get("clientKey"), path)
            if event == "installed":
                if self.installed_status:
                    raise Refusal(self.installed_status, "this app is told to fail its installs")
                self.clients[body["clientKey"]] = body
            record["status"] = 204
        except Refusal as refusal:
            record["status"] = refusal.status
            record["refusal"] = refusal.message
        self.events.append(record)
        return record["status"]

    def _handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == f"{app.prefix}/atlassian-connect.json":
                    payload = json.dumps(app.descriptor()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                else:
                    self.send_error(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                event = self.path.removeprefix(app.prefix + "/").split("?")[0]
                if event not in ("installed", "uninstalled", "enabled", "disabled"):
                    self.send_error(404)
                    return
                authorization = self.headers.get("Authorization") or ""
                token = authorization[4:] if authorization.startswith("JWT ") else None
                status = app.handle_lifecycle(event, token, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


class Refusal(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
