"""A Connect app's page, tested without a browser.

Understudy opens the page as a signed-in person the way Jira does: an iframe onto the app's URL with
Jira's context parameters and a `jwt` signed with the app's shared secret, whose `qsh` covers that
`GET`. The page's handler below checks it with atlassian-jwt, as Python Connect apps do — so a test
can prove that the page opens for a person, and that a URL someone changed does not.
"""

import html
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from atlassian_jwt import Authenticator, DecodeError

KEY = "com.example.tour-page"


def make_app():
    """The app: its descriptor with one general page, an installed handler that keeps the shared
    secret (test_connect_install.py shows how to verify installs), and the page behind a JWT check."""
    secrets = {}

    class Tenants(Authenticator):
        def get_shared_secret(self, client_key):
            return secrets[client_key]

    class App(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, text):
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/atlassian-connect.json":
                return self.answer(200, json.dumps({
                    "key": KEY, "name": "Tour page", "baseUrl": base_url, "authentication": {"type": "jwt"},
                    "scopes": ["read", "write"], "lifecycle": {"installed": "/installed"},
                    "modules": {"generalPages": [{"key": "tour", "url": "/tour", "name": {"value": "Tour"}}]}}))
            if self.path.startswith("/tour?"):
                try:
                    _, claims = Tenants().authenticate("GET", self.path)
                except (DecodeError, KeyError) as refusal:
                    return self.answer(401, f"refused: {refusal}")
                return self.answer(200, f"<p>Hello {html.escape(claims['sub'])}</p>")
            return self.answer(404, "not found")

        def do_POST(self):
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            secrets[payload["clientKey"]] = payload["sharedSecret"]
            self.send_response(204)
            self.end_headers()

    # Served as localhost while Understudy is 127.0.0.1: a browser keeps their cookies apart.
    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    base_url = f"http://localhost:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/atlassian-connect.json"


@pytest.fixture
def page_app(understudy_site):
    server, descriptor_url = make_app()
    installed = understudy_site.install_connect_app(descriptor_url)
    assert installed["outcome"] == "installed", installed
    yield
    server.shutdown()


def iframe_source(understudy_site, account_id):
    """Opens the page in Understudy's host page as the person, and returns the iframe's URL."""
    cookie = understudy_site.session_cookie(account_id)
    host = requests.get(f"{understudy_site.base_url}/plugins/servlet/ac/{KEY}/tour", headers={"Cookie": cookie})
    assert host.status_code == 200
    return html.unescape(re.search(r'id="understudy-app-frame"[^>]* src="([^"]+)"', host.text).group(1))


def test_the_page_opens_for_the_signed_in_person(understudy_site, page_app):
    source = iframe_source(understudy_site, "557058:bob")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(source).query)
    assert query["xdm_e"] == [understudy_site.base_url], "where the page loads all.js from"
    page = requests.get(source)
    assert page.status_code == 200, page.text
    assert "Hello 557058:bob" in page.text


def test_a_changed_iframe_url_is_refused_by_the_page(understudy_site, page_app):
    source = iframe_source(understudy_site, "557058:bob")
    changed = source.replace("lic=none", "lic=active")
    assert requests.get(changed).text == "refused: qsh does not match"
