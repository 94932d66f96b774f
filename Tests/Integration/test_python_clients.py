"""Unmodified third-party Jira clients against a running Understudy, as a developer would use them."""

import socket
import urllib.parse

import pytest
import requests
from atlassian.jira import JiraCloud
from jira import JIRA


def cloud(url, email, token):
    return JiraCloud(url=url, username=email, password=token, api_version=3)


def test_atlassian_python_api_property_round_trip(server):
    jira = cloud(server, "bob@example.com", "bob-token")
    me = jira.get_current_user()
    assert me["accountId"] == "557058:bob"
    assert me["accountType"] == "atlassian"

    jira.set_user_property("tour.progress", account_id="557058:bob", data={"step": 3, "done": False})
    assert jira.get_user_property("tour.progress", account_id="557058:bob") == {
        "key": "tour.progress", "value": {"step": 3, "done": False}}

    jira.set_user_property("tour.progress", account_id="557058:bob", data={"step": 4})
    assert jira.get_user_property("tour.progress", account_id="557058:bob")["value"] == {"step": 4}, "PUT replaces"

    keys = jira.get_user_property_keys(account_id="557058:bob")
    assert [entry["key"] for entry in keys["keys"]] == ["tour.progress"]
    assert keys["keys"][0]["self"] == f"{server}/rest/api/3/user/properties/tour.progress?accountId=557058:bob"

    jira.delete_user_property("tour.progress", account_id="557058:bob")
    assert jira.get_user_property_keys(account_id="557058:bob") == {"keys": []}


def test_atlassian_python_api_sees_jiras_errors(server):
    bob = cloud(server, "bob@example.com", "bob-token")
    with pytest.raises(requests.HTTPError) as forbidden:
        bob.set_user_property("x", account_id="557058:ada", data={"a": 1})
    assert forbidden.value.response.status_code == 403
    assert "You do not have permission to access the properties of this user." in str(forbidden.value)
    assert "Administer Jira" in forbidden.value.response.headers["X-Understudy-Explain"]

    with pytest.raises(requests.HTTPError) as missing:
        bob.get_user_property("never-set", account_id="557058:bob")
    assert missing.value.response.status_code == 404
    assert "The property with key 'never-set' does not exist." in str(missing.value)

    with pytest.raises(requests.HTTPError) as gdpr:
        bob.get_user_property_keys(username="bob")
    assert gdpr.value.response.status_code == 400
    assert "The query parameter 'username' is not supported in GDPR strict mode." in str(gdpr.value)

    with pytest.raises(requests.HTTPError) as unauthorised:
        cloud(server, "ada@example.com", "bob-token").get_current_user()
    assert unauthorised.value.response.status_code == 401
    assert "You are not authenticated" in str(unauthorised.value), "the client shows the message: exact Content-Type"


def test_pycontribs_jira_reads_server_info_and_myself(server):
    client = JIRA(server=server, basic_auth=("ada@example.com", "ada-token"))
    info = client.server_info()
    assert info["deploymentType"] == "Cloud"
    assert client.myself()["accountId"] == "557058:ada"


def test_admin_ui_properties_are_not_listed_but_explained(server):
    response = requests.get(f"{server}/rest/api/2/user/properties", params={"accountId": "557058:bob"},
                            auth=("bob@example.com", "bob-token"))
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert "1 admin-UI" in response.headers["X-Understudy-Explain"]


def raw_request(server, request: bytes, read_timeout=5.0) -> bytes:
    parsed = urllib.parse.urlparse(server)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=read_timeout) as connection:
        try:
            connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
        return received


def test_an_oversized_chunked_body_is_refused_without_reading_it_all(server):
    import base64
    auth = base64.b64encode(b"ada@example.com:ada-token").decode()
    head = (f"PUT /rest/api/3/user/properties/big?accountId=557058:ada HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Basic {auth}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"a" * 16384
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
    answer = raw_request(server, head + body)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request"), answer[:200]
    assert b"The property value is too long: 32769 bytes, the maximum is 32768." in answer
    assert b"connection: close" in answer.lower()
    # The server goes on serving.
    assert requests.get(f"{server}/status").json() == {"state": "RUNNING"}


def test_declared_oversized_body_is_refused_from_content_length(server):
    response = requests.put(f"{server}/rest/api/3/user/properties/big", params={"accountId": "557058:ada"},
                            data=b"1" * 40000, auth=("ada@example.com", "ada-token"))
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": ["The property value is too long: 40000 bytes, the maximum is 32768."], "errors": {}}
