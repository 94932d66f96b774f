"""Connect apps signing with the common Python libraries (atlassian-jwt, PyJWT): every generated
request is accepted exactly as signed, and every tampered one is refused."""

import http.client
import random
import time
import urllib.parse

import jwt as pyjwt
from atlassian_jwt import encode_token
from atlassian_jwt.url_utils import hash_url

APP_KEY = "com.example.tour"
CLIENT_KEY = "jira:tour"
SECRET = "tour-shared-secret-0123456789abcdef"

# Characters that trip canonicalisers: spaces, plus, reserved, unreserved, percent, unicode.
ALPHABET = list("abcXYZ019-._~ +*!'()$,;:@/?=[]#%\"<>^`{|}") + ["é", "ü", "😀", "中", "\u00a0"]


def random_text(rng, low=0, high=8):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))


def random_query(rng):
    """A query string as some client might really send it, in one of several encodings."""
    pairs = []
    for _ in range(rng.randint(1, 6)):
        name = random_text(rng, 1, 5).replace("jwt", "jwx")
        if name == "jwt":
            name = "jw"
        repeats = rng.choice([1, 1, 1, 2, 3])
        for _ in range(repeats):
            pairs.append((name, random_text(rng)))
    style = rng.choice(["plus", "percent", "mixed"])
    parts = []
    for name, value in pairs:
        if style == "plus":
            parts.append(urllib.parse.quote_plus(name) + "=" + urllib.parse.quote_plus(value))
        elif style == "percent":
            parts.append(urllib.parse.quote(name, safe="") + "=" + urllib.parse.quote(value, safe=""))
        else:
            safe = rng.choice(["", "~", "*!'()", ":@"])
            encoded_value = urllib.parse.quote(value, safe=safe)
            parts.append(urllib.parse.quote(name, safe="") + ("" if not value and rng.random() < 0.3 else "=" + encoded_value))
    return "&".join(parts)


def send(server, method, target, token, in_query=False):
    parsed = urllib.parse.urlparse(server)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    headers = {}
    if in_query:
        target = target + ("&" if "?" in target else "?") + "jwt=" + token
    else:
        headers["Authorization"] = "JWT " + token
    connection.request(method, target, headers=headers)
    response = connection.getresponse()
    body = response.read()
    explanation = response.getheader("X-Understudy-Explain")
    connection.close()
    return response.status, body, explanation


def sign_with_atlassian_jwt(method, target):
    return encode_token(method, target, CLIENT_KEY, SECRET, timeout_secs=120, payload_kwargs={"iss": APP_KEY})


def sign_with_pyjwt(method, target):
    now = int(time.time())
    claims = {"iss": APP_KEY, "iat": now, "exp": now + 120, "qsh": hash_url(method, target), "sub": "557058:bob"}
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def test_hundreds_of_awkward_query_strings_are_accepted(server):
    rng = random.Random(20261129)
    failures = []
    for index in range(300):
        target = "/rest/api/3/myself?" + random_query(rng)
        signer = sign_with_atlassian_jwt if index % 2 == 0 else sign_with_pyjwt
        status, body, explanation = send(server, "GET", target, signer("GET", target), in_query=index % 5 == 0)
        if status != 200:
            failures.append((target, status, explanation))
    assert not failures, f"{len(failures)} of 300 refused, e.g. {failures[:3]}"


def test_user_properties_with_awkward_keys_round_trip(server):
    rng = random.Random(7)
    for _ in range(40):
        key = random_text(rng, 1, 10)
        path = "/rest/api/3/user/properties/" + urllib.parse.quote(key, safe="") + "?accountId=557058%3Abob"
        # PUT carries a body, which is not hashed.
        parsed = urllib.parse.urlparse(server)
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        connection.request("PUT", path, body=b'{"k":1}',
                           headers={"Authorization": "JWT " + sign_with_pyjwt("PUT", path),
                                    "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status in (200, 201), (key, response.status, response.getheader("X-Understudy-Explain"))
        connection.close()
        status, body, explanation = send(server, "GET", path, sign_with_atlassian_jwt("GET", path))
        assert status == 200, (key, status, explanation)
        status, _, explanation = send(server, "DELETE", path, sign_with_atlassian_jwt("DELETE", path))
        assert status == 204, (key, status, explanation)


def test_tampered_requests_are_refused(server):
    rng = random.Random(99)
    for index in range(100):
        target = "/rest/api/3/myself?" + random_query(rng)
        token = sign_with_atlassian_jwt("GET", target)
        tampered = rng.choice([
            target + "&extra=1",
            target.replace("?", "?a=b&", 1),
            "/rest/api/2/myself" + target[len("/rest/api/3/myself"):],
        ])
        if hash_url("GET", tampered) == hash_url("GET", target):
            continue
        status, _, explanation = send(server, "GET", tampered, token)
        assert status == 401, (target, tampered, status)
        assert explanation.startswith("Query string hash mismatch"), explanation
    # Another method with the same URL.
    target = "/rest/api/3/user/properties/x?accountId=557058%3Abob"
    status, _, _ = send(server, "DELETE", target, sign_with_atlassian_jwt("GET", target))
    assert status == 401


def test_signing_with_the_client_key_as_issuer_is_explained(server):
    target = "/rest/api/3/myself"
    token = encode_token("GET", target, CLIENT_KEY, SECRET)  # the library's default: iss = clientKey
    status, _, explanation = send(server, "GET", target, token)
    assert status == 401
    assert explanation == (f"Signed with iss={CLIENT_KEY} which is this site's clientKey for app {APP_KEY}; "
                           f"an app signs requests to Jira with its app key (iss={APP_KEY}).")


def test_wrong_secret_and_alg_none_are_refused(server):
    target = "/rest/api/3/myself"
    now = int(time.time())
    claims = {"iss": APP_KEY, "iat": now, "exp": now + 60, "qsh": hash_url("GET", target)}
    assert send(server, "GET", target, pyjwt.encode(claims, "not-the-secret", algorithm="HS256"))[0] == 401
    assert send(server, "GET", target, pyjwt.encode(claims, SECRET, algorithm="HS512"))[0] == 401
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    status, _, explanation = send(server, "GET", target, unsigned)
    assert status == 401 and "alg is none" in explanation
    expired = dict(claims, iat=now - 600, exp=now - 300)
    status, _, explanation = send(server, "GET", target, pyjwt.encode(expired, SECRET, algorithm="HS256"))
    assert status == 401 and "checking iat and exp" in explanation
