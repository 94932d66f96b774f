"""Schemathesis hooks for `openapi_fuzz.py`: sign app-property requests as the demo Connect app.

App properties need the calling app's JWT, whose qsh covers the exact method, path and query, so a
static header cannot do: every generated request is signed here, with atlassian-jwt, for the URL
that will be sent. Jira's own resources are called with Basic credentials.
"""

import base64
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
