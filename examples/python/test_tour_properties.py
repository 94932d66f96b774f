"""An app's tests, written against Understudy with the pytest plugin of `understudy-jira`.

Run them with `pytest` in this folder (the site comes from site.json, named in pytest.ini).
"""

import requests
from atlassian.jira import JiraCloud

BOB = ("bob@example.com", "bob-token")
FORGE_APP = "ari:cloud:ecosystem::app/6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a"


def test_a_user_reads_and_advances_their_own_tour(understudy_site):
    jira = JiraCloud(url=understudy_site.base_url, username=BOB[0], password=BOB[1], api_version=3)
    assert jira.get_user_property("tour.progress", account_id="557058:bob")["value"] == {"step": 2}
    jira.set_user_property("tour.progress", account_id="557058:bob", data={"step": 3})
    assert jira.get_user_property("tour.progress", account_id="557058:bob")["value"] == {"step": 3}


def test_each_test_starts_from_the_seeded_site(understudy_site):
    response = requests.get(f"{understudy_site.base_url}/rest/api/3/user/properties/tour.progress",
                            params={"accountId": "557058:bob"}, auth=BOB)
    assert response.json()["value"] == {"step": 2}, "the previous test's write was reset"


def test_another_users_property_is_refused_with_the_reason(understudy_site):
    response = requests.put(f"{understudy_site.base_url}/rest/api/3/user/properties/x",
                            params={"accountId": "557058:ada"}, json=1, auth=BOB)
    assert response.status_code == 403
    [entry] = understudy_site.journal(limit=1)
    assert "Administer Jira" in entry["explanation"]


def test_an_oauth_app_through_the_gateway(understudy_site):
    tokens = understudy_site.oauth_tokens("example-client", "557058:bob", ["read:jira-user"])
    response = requests.get(f"{understudy_site.gateway_url}/rest/api/3/myself",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.json()["accountId"] == "557058:bob"
    refused = requests.put(f"{understudy_site.gateway_url}/rest/api/3/user/properties/x",
                           params={"accountId": "557058:bob"}, json=1,
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}


def test_a_forge_remote_as_the_app(understudy_site):
    token = understudy_site.forge_token(FORGE_APP)
    me = requests.get(f"{understudy_site.gateway_url}/rest/api/3/myself", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["accountType"] == "app"


def test_a_rate_limit_the_app_must_survive(understudy_site):
    understudy_site.fault(path="/rest/api/3/myself", status=429, retry_after=1, times=1)
    first = requests.get(f"{understudy_site.base_url}/rest/api/3/myself", auth=BOB)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert requests.get(f"{understudy_site.base_url}/rest/api/3/myself", auth=BOB).status_code == 200
