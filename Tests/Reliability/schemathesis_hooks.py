"""Schemathesis hooks for `openapi_fuzz.py`: sign app-property requests as the demo Connect app.

App properties need the calling app's JWT, whose qsh covers the exact method, path and query, so a
static header cannot do: every generated request is signed here, with atlassian-jwt, for the URL
that will be sent. Jira's own resources are called with Basic credentials.
"""

import base64
import os
import urllib.parse

import atlassian_jwt
import requests
import schemathesis

APP_KEY = "com.example.tour"
SHARED_SECRET = "tour-shared-secret-0123456789abcdef"


@schemathesis.auth().apply_to(path_regex="^/rest/atlassian-connect/")
class ConnectJWT:
    def get(self, case, context):
        return SHARED_SECRET

    def set(self, case, data, context):
        url = requests.Request(case.method, "http://understudy" + case.formatted_path, params=case.query).prepare().url
        parts = urllib.parse.urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        token = atlassian_jwt.encode_token(case.method, target, APP_KEY, data, timeout_secs=600)
        case.headers = {**(case.headers or {}), "Authorization": "JWT " + token}


@schemathesis.auth().apply_to(path_regex="^/rest/api/")
class Basic:
    """Ada, the demo site's administrator, for Jira's own resources."""

    def get(self, case, context):
        return "Basic " + base64.b64encode(b"ada@example.com:ada-demo-token").decode()

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


DEMO_CLIENT = ("demo-oauth-client", "demo-oauth-secret")
DEMO_CALLBACK = "http://localhost:3000/callback"


@schemathesis.auth().apply_to(path_regex="^/(ex/jira/|oauth/token/accessible-resources|me$)")
class Bearer:
    """An OAuth 2.0 access token of the demo OAuth app, consented to by Ada (an administrator), with
    every scope the app has: got once through the authorization-code flow, as an app gets it."""

    token = None

    def get(self, case, context):
        if Bearer.token is None:
            base = os.environ["UNDERSTUDY_BASE_URL"]
            consent = requests.post(f"{base}/authorize", allow_redirects=False, data={
                "client_id": DEMO_CLIENT[0], "redirect_uri": DEMO_CALLBACK, "response_type": "code", "state": "fuzz",
                "scope": "read:jira-user write:jira-work read:me offline_access",
                "email": "ada@example.com", "api_token": "ada-demo-token", "decision": "accept"})
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(consent.headers["Location"]).query)["code"][0]
            Bearer.token = requests.post(f"{base}/oauth/token", auth=DEMO_CLIENT, data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_CALLBACK}).json()["access_token"]
        return "Bearer " + Bearer.token

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@schemathesis.auth().apply_to(path_regex="^/jira/")
class ForgeEgress:
    """The demo Forge app's installation, acting as Ada (an administrator), as a container's
    egress names it."""

    def get(self, case, context):
        return ("Forge as=user,installationId=ari:cloud:ecosystem::installation/3f2c9a1e-7b4d-4e6f-8a9b-0c1d2e3f4a5b,"
                "accountId=557058:ada")

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "forge-proxy-authorization": data}


@schemathesis.auth().apply_to(path="/oauth/token")
class Client:
    """The demo OAuth app's client credentials, as HTTP Basic."""

    def get(self, case, context):
        return "Basic " + base64.b64encode(":".join(DEMO_CLIENT).encode()).decode()

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}
