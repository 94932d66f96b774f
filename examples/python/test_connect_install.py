"""A Connect app's `installed` handler, tested against Understudy's signed installs.

The handler below is the part of an app that most often breaks: it must verify the RS256 JWT
with the key fetched by `kid`, check `aud`, `iss` and `qsh`, and only then store the secret. The
app's key server is Understudy's (`{base_url}/connect-install-keys`), as `CONNECT_KEYS_CDN_URL`
would make it for Atlassian Connect Express.
"""

import hashlib
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

KEY = "com.example.tour-installer"


def make_app(key_server):
    """The app: its descriptor, and an installed handler that verifies like the frameworks do."""
    stored = {}

    class App(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = json.dumps({
                "key": KEY, "name": "Tour installer", "baseUrl": base_url, "authentication": {"type": "jwt"},
                "scopes": ["read", "write"], "lifecycle": {"installed": "/installed"},
                "apiMigrations": {"signed-install": True}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            token = (self.headers.get("Authorization") or "").removeprefix("JWT ")
            try:
                header = jwt.get_unverified_header(token)
                assert header["alg"] == "RS256", "RS256 only"
                with urllib.request.urlopen(f"{key_server}/{header['kid']}") as answer:
                    pem = answer.read().decode().strip()
                claims = jwt.decode(token, pem, algorithms=["RS256"], audience=base_url)
                assert claims["iss"] == payload["clientKey"], "iss is the body's clientKey"
                assert claims["qsh"] == hashlib.sha256(b"POST&/installed&").hexdigest(), "qsh"
                stored[payload["clientKey"]] = payload["sharedSecret"]
                self.send_response(204)
            except Exception:  # noqa: BLE001 - any doubt refuses the install
                self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{base_url}/atlassian-connect.json", stored


@pytest.fixture
def app(understudy_site):
    server, descriptor_url, stored = make_app(f"{understudy_site.base_url}/connect-install-keys")
    yield descriptor_url, stored
    server.shutdown()


def test_a_signed_install_is_verified_and_stored(understudy_site, app):
    descriptor_url, stored = app
    result = understudy_site.install_connect_app(descriptor_url)
    assert result["outcome"] == "installed", result
    assert stored == {result["clientKey"]: stored[result["clientKey"]]}


@pytest.mark.parametrize("tamper", ["expired", "wrong-audience", "wrong-qsh", "unknown-kid", "wrong-issuer",
                                    "symmetric", "unsigned", "context-qsh"])
def test_every_wrong_signature_is_refused(understudy_site, app, tamper):
    descriptor_url, stored = app
    result = understudy_site.install_connect_app(descriptor_url, tamper=tamper)
    assert result["appRefused"], f"the handler accepted an install with {tamper}"
    assert not stored
