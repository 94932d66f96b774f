"""The consent page in a real browser: headless Chromium opens /authorize, a person signs in and
accepts, and the browser lands on the app's callback with a code that the token endpoint accepts.
Then the console, in the same browser, revokes that consent and the token stops working.
Chromium is driven over the DevTools protocol; the form is submitted by the browser itself, so the
page's Content-Security-Policy applies as it would for a user."""

import http.server
import json
import os
import pathlib
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
import websocket

from conftest import CONTROL_TOKEN
from test_console_browser import chromium


class Callback(http.server.BaseHTTPRequestHandler):
    """The app's redirect endpoint: remembers the query it was called with."""

    received = []

    def do_GET(self):
        Callback.received.append(urllib.parse.urlsplit(self.path).query)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"signed in")

    def log_message(self, *arguments):
        pass


def devtools(user_data: pathlib.Path, deadline: float) -> str:
    """The WebSocket address of the browser's first page."""
    port_file = user_data / "DevToolsActivePort"
    while time.time() < deadline and not port_file.exists():
        time.sleep(0.1)
    port = port_file.read_text().split("\n")[0]
    while time.time() < deadline:
        pages = [t for t in requests.get(f"http://127.0.0.1:{port}/json").json() if t["type"] == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise TimeoutError("no page in the browser")


def page_session(user_data: pathlib.Path, deadline: float):
    """A DevTools connection to the browser's first page, and a function that evaluates JavaScript there."""
    socket = websocket.create_connection(devtools(user_data, deadline), timeout=10)
    calls = iter(range(1, 1000))

    def evaluate(expression):
        call = next(calls)
        socket.send(json.dumps({"id": call, "method": "Runtime.evaluate",
                                "params": {"expression": expression, "returnByValue": True}}))
        while True:
            message = json.loads(socket.recv())
            if message.get("id") == call:
                return message.get("result", {}).get("result", {}).get("value")

    return socket, evaluate


def test_sign_in_and_accept_in_chromium(server, tmp_path):
    browser = chromium()
    callback_server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=callback_server.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{callback_server.server_address[1]}/callback"
    control = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
    app = requests.post(f"{server}/_understudy/oauth/apps", headers=control, json={
        "name": "Browser test app", "callbackUrls": [callback], "scopes": ["read:jira-user", "offline_access"]})
    assert app.status_code == 201
    client = app.json()
    authorize = f"{server}/authorize?" + urllib.parse.urlencode({
        "audience": "api.atlassian.com", "client_id": client["clientId"], "scope": "read:jira-user offline_access",
        "redirect_uri": callback, "state": "browser-state", "response_type": "code", "prompt": "consent"})

    user_data = tmp_path / "profile"
    process = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={user_data}", "--remote-debugging-port=0", authorize],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        socket, evaluate = page_session(user_data, deadline)
        while time.time() < deadline and not evaluate("!!document.querySelector('button[value=accept]')"):
            time.sleep(0.1)
        page_text = evaluate("document.body.innerText")
        assert "Browser test app wants to access" in page_text
        assert "View user information in Jira" in page_text
        evaluate("""
            document.querySelector('input[name=email]').value = 'bob@example.com';
            document.querySelector('input[name=api_token]').value = 'bob-token';
            document.querySelector('button[value=accept]').click();
        """)
        while time.time() < deadline and not Callback.received:
            time.sleep(0.1)
        assert Callback.received, "the browser landed on the app's callback"
        query = urllib.parse.parse_qs(Callback.received[0])
        assert query["state"] == ["browser-state"]
        token = requests.post(f"{server}/oauth/token", data={
            "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": callback},
            auth=(client["clientId"], client["clientSecret"]))
        assert token.status_code == 200
        assert token.json()["scope"] == "read:jira-user offline_access"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        resources = requests.get(f"{server}/oauth/token/accessible-resources", headers=bearer)
        assert resources.status_code == 200

        # The console lists the consent; its Revoke button ends the token at once.
        evaluate(f"location.href = {json.dumps(server + '/_understudy/console?token=' + CONTROL_TOKEN)}")
        revoke = f"document.querySelector('button.revoke[data-client=\"{client['clientId']}\"]')"
        while time.time() < deadline and not evaluate(f"!!{revoke}"):
            time.sleep(0.1)
        assert "Browser test app" in evaluate("document.querySelector('#oauth-apps').innerText")
        evaluate(f"{revoke}.click()")
        outcome = f"{revoke}.closest('tr').querySelector('.outcome').textContent"
        while time.time() < deadline and not evaluate(outcome):
            time.sleep(0.1)
        assert evaluate(outcome).startswith("revoked")
        socket.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
        callback_server.shutdown()

    refused = requests.get(f"{server}/oauth/token/accessible-resources", headers=bearer)
    assert refused.status_code == 401
    assert refused.text == '{"code":401,"message":"Unauthorized"}'
