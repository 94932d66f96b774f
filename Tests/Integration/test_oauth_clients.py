"""OAuth 2.0 (3LO) end to end with real OAuth and Jira client libraries: requests-oauthlib and
authlib drive the authorization-code flow (the consent form posted as a browser posts it), then
atlassian-python-api and jira call the API gateway with the tokens they got."""

import json
import os
import urllib.parse
from html.parser import HTMLParser

import pytest
import requests
from atlassian.jira import JiraCloud
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from jira import JIRA
from requests_oauthlib import OAuth2Session

from conftest import CLOUD_ID, OAUTH_CALLBACK, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET

# Both libraries refuse plain http unless told that this is a local test server.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

SCOPES = ["read:jira-user", "write:jira-work", "offline_access"]


class FormReader(HTMLParser):
    """The consent page's form fields, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.action = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def consent(server, authorization_url, email="bob@example.com", token="bob-token", decision="accept"):
    """Opens the consent page, signs in and decides; returns the redirect's Location."""
    page = requests.get(authorization_url)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    form = FormReader()
    form.feed(page.text)
    assert form.action == "/authorize"
    fields = dict(form.fields, email=email, api_token=token, decision=decision)
    answer = requests.post(server + form.action, data=fields, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def gateway(server):
    return f"{server}/ex/jira/{CLOUD_ID}"


def test_requests_oauthlib_full_flow(server):
    oauth = OAuth2Session(OAUTH_CLIENT_ID, redirect_uri=OAUTH_CALLBACK, scope=SCOPES)
    authorization_url, state = oauth.authorization_url(
        f"{server}/authorize", audience="api.atlassian.com", prompt="consent")
    location = consent(server, authorization_url)
    assert location.startswith(OAUTH_CALLBACK + "?")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["state"] == [state]

    token = oauth.fetch_token(f"{server}/oauth/token", authorization_response=location,
                              client_secret=OAUTH_CLIENT_SECRET)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert "refresh_token" in token

    me = oauth.get(f"{gateway(server)}/rest/api/3/myself")
    assert me.status_code == 200
    assert me.json()["accountId"] == "557058:bob"
    assert me.headers["X-AAccountId"] == "557058:bob"

    resources = oauth.get(f"{server}/oauth/token/accessible-resources").json()
    assert resources[0]["id"] == CLOUD_ID
    assert resources[0]["scopes"] == ["read:jira-user", "write:jira-work"]

    first_refresh = token["refresh_token"]
    refreshed = oauth.refresh_token(f"{server}/oauth/token", client_id=OAUTH_CLIENT_ID,
                                    client_secret=OAUTH_CLIENT_SECRET)
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != first_refresh, "refresh tokens rotate"
    assert oauth.get(f"{gateway(server)}/rest/api/2/myself").status_code == 200


def test_authlib_flow_and_the_scope_mismatch(server):
    client = AuthlibSession(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, scope="read:jira-user offline_access",
                            redirect_uri=OAUTH_CALLBACK)
    authorization_url, _ = client.create_authorization_url(f"{server}/authorize", audience="api.atlassian.com")
    location = consent(server, authorization_url)
    token = client.fetch_token(f"{server}/oauth/token", authorization_response=location)
    assert token["scope"] == "read:jira-user offline_access"

    keys = client.get(f"{gateway(server)}/rest/api/3/user/properties?accountId=557058:bob")
    assert keys.status_code == 200

    # The classic mistake: the token lacks write:jira-work, and Jira's gateway says only this.
    refused = client.put(f"{gateway(server)}/rest/api/3/user/properties/tour?accountId=557058:bob", json={"a": 1})
    assert refused.status_code == 401
    assert refused.text == '{"code":401,"message":"Unauthorized; scope does not match"}'
    assert refused.headers["x-failure-category"] == "FAILURE_CLIENT_SCOPE_CHECK"
    assert refused.headers["X-Understudy-Explain"] == (
        "PUT /rest/api/3/user/properties/{propertyKey} needs write:jira-work (classic) or "
        "write:user.property:jira (granular); the token has offline_access, read:jira-user.")

    new_token = client.refresh_token(f"{server}/oauth/token")
    assert new_token["access_token"] != token["access_token"]


def test_atlassian_python_api_through_the_gateway(server):
    oauth = OAuth2Session(OAUTH_CLIENT_ID, redirect_uri=OAUTH_CALLBACK, scope=SCOPES)
    authorization_url, _ = oauth.authorization_url(f"{server}/authorize")
    token = oauth.fetch_token(f"{server}/oauth/token", authorization_response=consent(server, authorization_url),
                              client_secret=OAUTH_CLIENT_SECRET)

    jira = JiraCloud(url=gateway(server), oauth2={"client_id": OAUTH_CLIENT_ID, "token": token}, api_version=3)
    assert jira.get_current_user()["accountId"] == "557058:bob"
    jira.set_user_property("oauth.demo", account_id="557058:bob", data={"via": "gateway"})
    stored = jira.get_user_property("oauth.demo", account_id="557058:bob")
    assert stored == {"key": "oauth.demo", "value": {"via": "gateway"}}
    keys = jira.get_user_property_keys(account_id="557058:bob")["keys"]
    assert f"{gateway(server)}/rest/api/3/user/properties/oauth.demo?accountId=557058:bob" in [k["self"] for k in keys]

    # Scopes never override Jira's permissions: Bob may not write Ada's properties.
    with pytest.raises(requests.HTTPError) as forbidden:
        jira.set_user_property("oauth.demo", account_id="557058:ada", data={"x": 1})
    assert forbidden.value.response.status_code == 403
    jira.delete_user_property("oauth.demo", account_id="557058:bob")


def test_jira_token_auth_through_the_gateway(server):
    token = requests.post(f"{server}/oauth/token", json={
        "grant_type": "authorization_code", "client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET,
        "code": urllib.parse.parse_qs(urllib.parse.urlsplit(consent(
            server, f"{server}/authorize?" + urllib.parse.urlencode({
                "client_id": OAUTH_CLIENT_ID, "redirect_uri": OAUTH_CALLBACK, "scope": " ".join(SCOPES),
                "state": "json-flow", "response_type": "code", "audience": "api.atlassian.com",
                "prompt": "consent"}))).query)["code"][0],
        "redirect_uri": OAUTH_CALLBACK}).json()

    jira = JIRA(server=gateway(server), token_auth=token["access_token"])
    assert jira.myself()["accountId"] == "557058:bob"
    url = f"{gateway(server)}/rest/api/3/user/properties/jira.lib?accountId=557058:bob"
    assert jira._session.put(url, data=json.dumps({"n": 1})).status_code == 201
    assert jira._session.get(url).json() == {"key": "jira.lib", "value": {"n": 1}}
    assert jira._session.delete(url).status_code == 204


def test_classic_mistakes_explained(server):
    # A Bearer token sent to the site URL instead of the gateway.
    refused = requests.get(f"{server}/rest/api/3/myself", headers={"Authorization": "Bearer anything"})
    assert refused.status_code == 401
    assert f"/ex/jira/{CLOUD_ID}/rest/api/3/myself" in refused.headers["X-Understudy-Explain"]

    # A scoped API token on the site URL, and then where it belongs.
    on_site = requests.get(f"{server}/rest/api/3/myself", auth=("ada@example.com", "ada-scoped-token"))
    assert on_site.status_code == 401
    assert on_site.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    on_gateway = requests.get(f"{gateway(server)}/rest/api/3/myself", auth=("ada@example.com", "ada-scoped-token"))
    assert on_gateway.status_code == 200

    # A redirect_uri that differs by a trailing slash: a 400 page, no redirect.
    page = requests.get(f"{server}/authorize?" + urllib.parse.urlencode({
        "client_id": OAUTH_CLIENT_ID, "redirect_uri": OAUTH_CALLBACK + "/", "scope": "read:jira-user",
        "state": "x", "response_type": "code"}), allow_redirects=False)
    assert page.status_code == 400
    assert "trailing slash" in page.headers["X-Understudy-Explain"]

    # The wrong cloudId.
    wrong = requests.get(f"{server}/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself",
                         auth=("ada@example.com", "ada-scoped-token"))
    assert wrong.status_code == 401
    assert CLOUD_ID in wrong.headers["X-Understudy-Explain"]

    # offline_access forgotten: no refresh token, and the failed refresh says why.
    oauth = OAuth2Session(OAUTH_CLIENT_ID, redirect_uri=OAUTH_CALLBACK, scope=["read:jira-user"])
    authorization_url, _ = oauth.authorization_url(f"{server}/authorize")
    token = oauth.fetch_token(f"{server}/oauth/token", authorization_response=consent(server, authorization_url),
                              client_secret=OAUTH_CLIENT_SECRET)
    assert "refresh_token" not in token
    failed = requests.post(f"{server}/oauth/token", data={
        "grant_type": "refresh_token", "client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET})
    assert failed.status_code == 400
    assert failed.json()["error"] == "invalid_request"
    assert "offline_access" in failed.headers["X-Understudy-Explain"]
