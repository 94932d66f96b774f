"""A Forge Remote and a Forge Container, written as their Python backends are, against a running
server: the remote calls the API gateway (the FIT's apiBaseUrl) with the app system and app user
tokens Forge puts in x-forge-oauth-system / x-forge-oauth-user; the container calls
FORGE_EGRESS_PROXY_URL/jira/... with forge-proxy-authorization."""

import requests

from conftest import CLOUD_ID, CONTROL_TOKEN, FORGE_APP_ID, FORGE_INSTALLATION_ID

CONTROL = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
# The server is shared by the session: these tests write only this key, and remove it again.
KEY = "forge.tests.step"


def forge_tokens(server, account_id=None):
    """What Forge hands the remote with an invocation: the two token headers."""
    def mint(body):
        response = requests.post(f"{server}/_understudy/forge/tokens", json=body, headers=CONTROL)
        assert response.status_code == 201, response.text
        return response.json()["token"]
    headers = {"x-forge-oauth-system": mint({"appId": FORGE_APP_ID})}
    if account_id:
        headers["x-forge-oauth-user"] = mint({"appId": FORGE_APP_ID, "accountId": account_id})
    return headers


class TourRemote:
    """The remote's own code: a session per invocation against apiBaseUrl."""

    def __init__(self, api_base_url, invocation_headers):
        self.base = api_base_url
        self.system = invocation_headers["x-forge-oauth-system"]
        self.user = invocation_headers.get("x-forge-oauth-user")

    def _call(self, token, method, path, **kwargs):
        return requests.request(method, f"{self.base}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def save_step(self, account_id, step):
        return self._call(self.user, "PUT", f"/rest/api/3/user/properties/{KEY}?accountId={account_id}",
                          json={"step": step})

    def forget_step(self, account_id):
        return self._call(self.user, "DELETE", f"/rest/api/3/user/properties/{KEY}?accountId={account_id}")

    def step_as_app(self, account_id):
        return self._call(self.system, "GET", f"/rest/api/3/user/properties/{KEY}?accountId={account_id}")

    def settings(self):
        return self._call(self.system, "GET", "/rest/atlassian-connect/1/addons/com.example.tour/properties/settings")


def test_forge_remote_as_user_and_as_app(server):
    remote = TourRemote(f"{server}/ex/jira/{CLOUD_ID}", forge_tokens(server, "557058:bob"))
    saved = remote.save_step("557058:bob", 3)
    assert saved.status_code in (200, 201), saved.text
    assert saved.headers["X-AAccountId"] == "557058:bob"

    refused = remote.step_as_app("557058:bob")
    assert refused.status_code == 403
    assert refused.json() == {"errorMessages": ["You do not have permission to access the properties of this user."],
                              "errors": {}}
    assert "manage:jira-configuration" in refused.headers["X-Understudy-Explain"]

    missing = remote.settings()
    assert missing.status_code == 404, "the Forge app reaches its Connect app's properties (none set yet)"
    assert missing.json() == {"message": "Property with key not found.", "statusCode": 404}

    assert remote.forget_step("557058:bob").status_code == 204
    journal = requests.get(f"{server}/_understudy/requests", params={"caller": FORGE_APP_ID, "limit": 4},
                           headers=CONTROL).json()["requests"]
    assert [entry["caller"]["type"] for entry in journal] == ["forge"] * 4


def test_forge_container_through_the_egress_proxy(server):
    egress = server  # FORGE_EGRESS_PROXY_URL
    as_app = {"forge-proxy-authorization": f"Forge as=app,installationId={FORGE_INSTALLATION_ID}"}
    me = requests.get(f"{egress}/jira/rest/api/3/myself", headers=as_app)
    assert me.status_code == 200
    assert me.json()["accountType"] == "app"

    as_user = {"forge-proxy-authorization":
               f"Forge as=user,installationId={FORGE_INSTALLATION_ID},accountId=557058:bob"}
    target = f"{egress}/jira/rest/api/3/user/properties/{KEY}?accountId=557058:bob"
    put = requests.put(target, json=True, headers=as_user)
    assert put.status_code in (200, 201), put.text
    assert requests.delete(target, headers=as_user).status_code == 204

    unauthenticated = requests.get(f"{egress}/jira/rest/api/3/myself",
                                   headers={"forge-proxy-authorization": f"Forge as=user,installationId={FORGE_INSTALLATION_ID}"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["forge-proxy-error"] == "NEEDS_AUTHENTICATION_ERR"
    assert unauthenticated.json() == {"code": 401, "message": "Unauthorized"}
