"""App front ends in a real browser (spec 15–18). Headless Chromium signs in to Understudy, opens a
Connect app's page — the app, served by this test from another origin, loads all.js from xdm_e and
calls AP.request exactly as a Connect front end does — and then a Forge Custom UI whose stand-in for
@forge/bridge's requestJira calls window.__bridge.callBridge('fetchProduct', …) as the package does.
Each page runs its story by itself and posts what it saw back to the test's app server; the test
checks the answers, the explanations that say whether the app's scopes or the user's permissions
refused, the iframe's JWT with atlassian-jwt, and the context token."""

import json
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests
from atlassian_jwt import Authenticator, DecodeError
from atlassian_jwt.url_utils import hash_url

from conftest import CONTROL_TOKEN
from test_connect_install import cli
from test_console_browser import chromium
from test_consent_browser import page_session

CONTROL = {"Authorization": f"Bearer {CONTROL_TOKEN}"}

# The README's snippet that loads all.js from Atlassian's CDN on Jira and from Understudy under Understudy.
LOAD_ALL_JS = """<script>
  // all.js from the host the page is shown in: Atlassian's CDN on Jira, Understudy's own AP under Understudy.
  const host = new URLSearchParams(location.search).get('xdm_e') || '';
  const local = /^https?:\\/\\/(127\\.0\\.0\\.1|localhost)(:\\d+)?$/.test(host);
  document.write(`<script src="${local ? host + '/atlassian-connect/all.js' : 'https://connect-cdn.atl-paas.net/all.js'}"><\\/script>`);
</script>"""

# What a Connect page does with AP: save and read its tour step as the person looking at it, try
# another person's step, a call outside the app's scopes, a body that is not JSON; then, once the
# test has let the session expire, one more call.
CONNECT_STORY = """
async function settle(promise) {
  try { const answer = await promise; return {status: answer.xhr.status, body: answer.body}; }
  catch (failure) {
    return {status: failure.xhr.status, body: failure.xhr.responseText,
            explain: failure.xhr.getResponseHeader('X-Understudy-Explain')};
  }
}
async function report(name, value) {
  await fetch('results?name=' + name, {method: 'POST', body: JSON.stringify(value)});
}
(async () => {
  const me = await new Promise((resolve) => AP.user.getCurrentUser(resolve));
  const own = '/rest/api/3/user/properties/tour?accountId=' + encodeURIComponent(me.atlassianAccountId);
  const seen = {accountId: me.atlassianAccountId};
  seen.put = await settle(AP.request({url: own, type: 'PUT', contentType: 'application/json',
                                      data: JSON.stringify({step: 3})}));
  seen.callback = await new Promise((resolve) => AP.request(own, {
    success: (text, statusText, xhr) => resolve({status: xhr.status, text: text}),
    error: (xhr) => resolve({status: xhr.status})}));
  const other = me.atlassianAccountId === '557058:bob' ? '557058:ada' : '557058:bob';
  seen.other = await settle(AP.request('/rest/api/3/user/properties/tour?accountId=' + encodeURIComponent(other)));
  seen.remove = await settle(AP.request({url: own, type: 'DELETE'}));
  seen.notJson = await settle(AP.request({url: own, type: 'PUT', contentType: 'application/json', data: '{step: 3'}));
  seen.token = await AP.context.getToken();
  seen.context = await AP.context.getContext();
  await report('first', seen);
  while ((await (await fetch('phase')).text()) !== 'expired') { await new Promise((r) => setTimeout(r, 100)); }
  await report('expired', await settle(AP.request(own)));
})().catch((error) => report('error', String(error && error.message || error)));
"""

# @forge/bridge's requestJira, as the package builds its call (research §3.2), then the story.
CUSTOM_UI = """<!doctype html>
<html><head><meta charset="utf-8"><title>Tour</title></head>
<body><p>Custom UI</p>
<script>
async function requestJira(restPath, init = {}) {
  const headers = Object.entries(init.headers || {});
  if (!headers.some(([name]) => name.toLowerCase() === 'x-atlassian-token')) headers.push(['X-Atlassian-Token', 'no-check']);
  const answer = await window.__bridge.callBridge('fetchProduct', {
    product: 'jira', restPath, fetchRequestInit: {...init, body: init.body ?? null, headers}, isMultipartFormData: false});
  return new Response(answer.body || null, {headers: answer.headers, status: answer.status, statusText: answer.statusText});
}
(async () => {
  const context = await window.__bridge.callBridge('getContext');
  const own = '/rest/api/3/user/properties/forge-tour?accountId=' + encodeURIComponent(context.accountId);
  const seen = {context};
  let answer = await requestJira(own, {method: 'PUT', headers: {'Content-Type': 'application/json'},
                                       body: JSON.stringify({step: 7})});
  seen.put = {status: answer.status};
  answer = await requestJira(own);
  seen.get = {status: answer.status, body: await answer.json()};
  answer = await requestJira('/rest/api/3/user/properties/tour?accountId=557058%3Aada');
  seen.other = {status: answer.status, explain: answer.headers.get('x-understudy-explain')};
  answer = await requestJira('/rest/api/3/myself');
  seen.myself = {status: answer.status, body: await answer.text(), explain: answer.headers.get('x-understudy-explain')};
  try { await window.__bridge.callBridge('createHistory', {}); seen.unsupported = 'resolved'; }
  catch (error) { seen.unsupported = error.message; }
  seen.sameOrigin = (() => { try { return !!window.parent.document; } catch (e) { return false; } })();
  await fetch('RESULTS', {method: 'POST', body: JSON.stringify(seen)});
})();
</script></body></html>
"""


class PageApp:
    """A Connect app with one general page, served at `localhost` while Understudy is at 127.0.0.1, so
    that the browser treats them as two sites and Understudy's cookies never reach the app."""

    def __init__(self):
        self.secret = None
        self.views = []
        self.results = {}
        self.forge_results = []
        self.phase = "wait"
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path == "/app/atlassian-connect.json":
                    return self.answer(200, json.dumps(app.descriptor()), "application/json")
                if path == "/app/page":
                    return self.answer(200, app.page(self.path), "text/html")
                if path == "/app/phase":
                    return self.answer(200, app.phase, "text/plain")
                return self.answer(404, "not found", "text/plain")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _, query = self.path.partition("?")
                if path == "/app/installed":
                    app.secret = json.loads(body)["sharedSecret"]
                    return self.answer(204, "", "text/plain")
                if path == "/app/results":
                    name = urllib.parse.parse_qs(query)["name"][0]
                    app.results.setdefault(name, []).append(json.loads(body))
                    return self.answer(204, "", "text/plain")
                if path == "/app/forge-results":
                    app.forge_results.append(json.loads(body))
                    return self.answer(204, "", "text/plain")
                return self.answer(204, "", "text/plain")

            def answer(self, status, text, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                # The Custom UI's frame is sandboxed: its origin is opaque, so it reports cross-origin.
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://localhost:{self.server.server_address[1]}/app"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def descriptor(self):
        return {
            "key": "com.example.tour-page", "name": "Tour page app", "baseUrl": self.base_url,
            "authentication": {"type": "jwt"}, "scopes": ["read", "write"],
            "apiMigrations": {"signed-install": True}, "lifecycle": {"installed": "/installed"},
            "modules": {"generalPages": [{"key": "tour-page", "url": "/page", "name": {"value": "Product tour"}}]},
        }

    def page(self, target):
        """The page, after atlassian-jwt's Authenticator has checked its JWT as an app does: HS256
        with the client's shared secret, and the qsh of this GET (the URL relative to the baseUrl)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        relative = target[len("/app"):]
        secret = self.secret

        class App(Authenticator):
            def get_shared_secret(self, client_key):
                return secret

        try:
            _, claims = App().authenticate("GET", relative)
            verified = True
        except DecodeError:
            claims, verified = jwt.decode(query["jwt"][0], options={"verify_signature": False}), False
        self.views.append({"claims": claims, "qshMatches": verified and claims["qsh"] == hash_url("GET", relative),
                           "query": {name: values[0] for name, values in query.items()}})
        return (f"<!doctype html><html><head>{LOAD_ALL_JS}</head>"
                f"<body><p>Tour</p><script>{CONNECT_STORY}</script></body></html>")

    def wait_for(self, name, count, deadline):
        while time.time() < deadline and len(self.results.get(name, [])) < count and not self.results.get("error"):
            time.sleep(0.1)
        assert not self.results.get("error"), self.results["error"]
        assert len(self.results.get(name, [])) >= count, f"the page reported {name}"
        return self.results[name][count - 1]


def sign_in(evaluate, server, email, token, next_path, deadline):
    evaluate(f"location.href = {json.dumps(server + '/login?next=' + urllib.parse.quote(next_path, safe=''))}")
    while time.time() < deadline and not evaluate("!!document.querySelector('input[name=api_token]')"):
        time.sleep(0.1)
    evaluate(f"""
        document.querySelector('input[name=email]').value = {json.dumps(email)};
        document.querySelector('input[name=api_token]').value = {json.dumps(token)};
        document.querySelector('form').submit();
    """)


def test_connect_page_and_custom_ui_call_jira_as_the_signed_in_user(server, tmp_path):
    browser = chromium()
    app = PageApp()
    installed = cli(server, "install", app.base_url + "/atlassian-connect.json")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    folder = tmp_path / "custom-ui"
    folder.mkdir()
    (folder / "index.html").write_text(CUSTOM_UI.replace("RESULTS", app.base_url + "/forge-results"))
    forge = requests.post(f"{server}/_understudy/forge/apps", headers=CONTROL, json={
        "name": "Tour (Forge UI)", "scopes": ["read:user.property:jira", "write:user.property:jira"],
        "resources": [{"key": "main", "path": str(folder)}],
        "modules": [{"key": "tour-page", "resource": "main", "title": "Tour (Forge)"}]})
    assert forge.status_code == 201, forge.text
    forge_app = forge.json()

    user_data = tmp_path / "profile"
    process = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={user_data}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        socket, evaluate = page_session(user_data, deadline)
        connect_page = "/plugins/servlet/ac/com.example.tour-page/tour-page"

        # Bob, not an administrator, signs in with the form and lands on the app's page.
        sign_in(evaluate, server, "bob@example.com", "bob-token", connect_page, deadline)
        bob = app.wait_for("first", 1, deadline)
        assert bob["accountId"] == "557058:bob"
        assert bob["put"]["status"] == 201
        assert bob["callback"] == {"status": 200, "text": '{"key":"tour","value":{"step":3}}'}
        assert bob["other"]["status"] == 403
        assert "the signed-in user's Jira permissions refused it" in bob["other"]["explain"]
        assert bob["remove"]["status"] == 403
        assert "Connect scopes" in bob["remove"]["explain"] and "not by the user's permissions" in bob["remove"]["explain"]
        assert bob["notJson"]["status"] == 400
        assert bob["context"] == {"jira": {}}
        claims = jwt.decode(bob["token"], app.secret, algorithms=["HS256"])
        assert claims["qsh"] == "context-qsh" and claims["sub"] == "557058:bob"
        assert claims["exp"] - claims["iat"] == 900

        view = app.views[-1]
        assert view["qshMatches"], "atlassian-jwt computes the same qsh for the iframe's GET"
        assert view["claims"]["sub"] == "557058:bob" and view["claims"]["exp"] - view["claims"]["iat"] == 180
        assert view["query"]["xdm_e"] == server and view["query"]["lic"] == "none"
        assert view["query"]["xdm_deprecated_addon_key_do_not_use"] == "com.example.tour-page"

        # A message that does not come from the module's own frame is ignored by the host page.
        evaluate("""window.postMessage({understudy: 'call', id: 'forged', name: 'request',
            payload: {url: '/rest/api/3/user/properties/forged?accountId=557058%3Abob', type: 'PUT',
                      contentType: 'application/json', data: '{}'}}, '*')""")
        time.sleep(1)
        forged = requests.get(f"{server}/_understudy/requests", headers=CONTROL,
                              params={"path": "/rest/api/3/user/properties/forged"}).json()["requests"]
        assert forged == [], "the host page relays only its app's frame"

        # Thirteen hours later by the site clock the session is over: the next call is refused.
        assert requests.put(f"{server}/_understudy/clock", headers=CONTROL, json={"offsetSeconds": 13 * 3600}).ok
        app.phase = "expired"
        expired = app.wait_for("expired", 1, deadline)
        assert expired["status"] == 401 and "expired" in expired["explain"]
        assert requests.put(f"{server}/_understudy/clock", headers=CONTROL, json={"offsetSeconds": 0}).ok
        app.phase = "wait"

        # Ada, an administrator: another person's property is hers to read, but the app's scopes
        # still refuse what they do not cover.
        sign_in(evaluate, server, "ada@example.com", "ada-token", connect_page, deadline)
        ada = app.wait_for("first", 2, deadline)
        assert ada["accountId"] == "557058:ada"
        assert ada["other"]["status"] == 200 and json.loads(ada["other"]["body"])["value"] == {"step": 3}
        assert ada["remove"]["status"] == 403 and "Connect scopes" in ada["remove"]["explain"]

        journal = requests.get(f"{server}/_understudy/requests", headers=CONTROL,
                               params={"caller": "AP.request"}).json()["requests"]
        assert journal and all(entry["caller"]["via"] == "AP.request" for entry in journal)
        assert {entry["caller"]["accountId"] for entry in journal} == {"557058:bob", "557058:ada"}

        # Bob again, in the Forge app's Custom UI.
        uuid = forge_app["appId"].rsplit("/", 1)[1]
        sign_in(evaluate, server, "bob@example.com", "bob-token", f"/forge/apps/{uuid}/tour-page", deadline)
        while time.time() < deadline and not app.forge_results:
            time.sleep(0.1)
        assert app.forge_results, "the Custom UI reported"
        seen = app.forge_results[0]
        assert seen["context"]["accountId"] == "557058:bob"
        assert seen["context"]["moduleKey"] == "tour-page"
        assert seen["context"]["extension"] == {"type": "jira:globalPage"}
        assert seen["put"]["status"] == 201
        assert seen["get"] == {"status": 200, "body": {"key": "forge-tour", "value": {"step": 7}}}
        assert seen["other"]["status"] == 403 and "not an administrator" in seen["other"]["explain"]
        assert seen["myself"]["status"] == 401
        assert json.loads(seen["myself"]["body"]) == {"code": 401, "message": "Unauthorized; scope does not match"}
        assert "read:jira-user" in seen["myself"]["explain"]
        assert "createHistory" in seen["unsupported"]
        assert seen["sameOrigin"] is False, "the Custom UI runs sandboxed, apart from the host page"

        bridge = requests.get(f"{server}/_understudy/requests", headers=CONTROL,
                              params={"caller": "@forge/bridge"}).json()["requests"]
        assert len(bridge) == 4 and all(entry["caller"]["appId"] == forge_app["appId"] for entry in bridge)
        socket.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        app.server.shutdown()
        # The server is shared with later tests: back to the seeded site, clock included.
        requests.put(f"{server}/_understudy/clock", headers=CONTROL, json={"offsetSeconds": 0})
        requests.post(f"{server}/_understudy/reset", headers=CONTROL)
