#!/usr/bin/env python3
"""OAuth 2.0 codes and refresh tokens, and Forge tokens, under concurrency, on one server over SQLite and on two
servers over one PostgreSQL database (when UNDERSTUDY_TEST_POSTGRES_URL and the .ci/postgres
variables are set). Checks:

1. one authorization code exchanged 16 times at once (spread over the servers): exactly one 200,
   every other answer 403 invalid_grant;
2. one refresh token presented 16 times at once within the reuse leeway: every answer 200, every
   new refresh token distinct, and each of them works;
3. a consent revoked through one server: its access token is refused through the other within 1 s
   (servers on PostgreSQL cache grants and forget them on NOTIFY: in practice a few ms);
4. 16 Forge tokens minted at once (spread over the servers): all distinct, each acting as the right
   principal through every server at once.

127.0.0.1 only; bounded (about 10 s). Exits non-zero on any finding.

    python3 Tests/Reliability/oauth_races.py --binary .build/debug/understudy
"""

import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import sys
import tempfile
import time
import urllib.parse

from understudy_site import free_port, seeded_database, start

CLIENT = ("race-client", "race-client-secret")
CALLBACK = "http://localhost:9/callback"
CONTROL = "race-control-token"
FORGE_APP = "ari:cloud:ecosystem::app/0d0d0d0d-1e1e-4f2f-8a3a-4b4b4b4b4b4b"
SITE = {
    "site": {"cloudId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "name": "Races"},
    "users": [{"accountId": "557058:race", "emailAddress": "race@example.com", "displayName": "Race",
               "apiTokens": ["race-token"], "groups": ["jira-software-users"]}],
    "oauthApps": [{"clientId": CLIENT[0], "clientSecret": CLIENT[1], "name": "Races", "callbackUrls": [CALLBACK],
                   "scopes": ["read:jira-user", "offline_access"]}],
    "forgeApps": [{"appId": FORGE_APP, "name": "Race Forge app", "scopes": ["read:jira-user"],
                   "accountId": "557058:race-forge"}],
}
findings = []


def finding(text):
    print("FINDING:", text)
    findings.append(text)


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def code(port):
    form = urllib.parse.urlencode({
        "client_id": CLIENT[0], "redirect_uri": CALLBACK, "response_type": "code", "state": "s",
        "scope": "read:jira-user offline_access", "email": "race@example.com", "api_token": "race-token",
        "decision": "accept"})
    status, headers, _ = request(port, "POST", "/authorize", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    location = headers.get("Location") or headers.get("location")
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]


def token(port, fields):
    basic = "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
    status, _, body = request(port, "POST", "/oauth/token", urllib.parse.urlencode(fields),
                              {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic})
    return status, json.loads(body)


def at_once(calls):
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def races(ports, label):
    the_code = code(ports[0])
    answers = at_once([lambda p=ports[n % len(ports)]: token(p, {
        "grant_type": "authorization_code", "code": the_code, "redirect_uri": CALLBACK}) for n in range(16)])
    statuses = sorted(status for status, _ in answers)
    if statuses != [200] + [403] * 15 or any(s == 403 and b["error"] != "invalid_grant" for s, b in answers):
        finding(f"{label}: one code exchanged 16 times at once answered {statuses}")
    granted = next(body for status, body in answers if status == 200)
    print(f"{label}: one code exchanged 16 times at once: {statuses.count(200)} x 200, {statuses.count(403)} x 403")

    refreshes = at_once([lambda p=ports[n % len(ports)]: token(p, {
        "grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}) for n in range(16)])
    fresh = {body.get("refresh_token") for status, body in refreshes if status == 200}
    if any(status != 200 for status, _ in refreshes) or len(fresh) != 16:
        finding(f"{label}: 16 reuses within the leeway answered {[s for s, _ in refreshes]}, {len(fresh)} distinct")
    for index, new_token in enumerate(sorted(fresh)):
        status, _ = token(ports[index % len(ports)], {"grant_type": "refresh_token", "refresh_token": new_token})
        if status != 200:
            finding(f"{label}: a refresh token issued in the race was refused ({status})")
    print(f"{label}: one refresh token presented 16 times at once within the leeway: "
          f"{sum(s == 200 for s, _ in refreshes)} x 200, {len(fresh)} distinct new refresh tokens, each usable")

    bearer = {"Authorization": "Bearer " + granted["access_token"]}
    before = request(ports[-1], "GET", "/oauth/token/accessible-resources", headers=bearer)[0]
    revoked = request(ports[0], "DELETE", f"/_understudy/oauth/consents/{CLIENT[0]}/557058:race",
                      headers={"Authorization": f"Bearer {CONTROL}"})[0]
    revoked_at = time.monotonic()
    after = request(ports[-1], "GET", "/oauth/token/accessible-resources", headers=bearer)[0]
    while after != 401 and time.monotonic() - revoked_at < 1:
        time.sleep(0.005)
        after = request(ports[-1], "GET", "/oauth/token/accessible-resources", headers=bearer)[0]
    delay = time.monotonic() - revoked_at
    if (before, revoked, after) != (200, 204, 401):
        finding(f"{label}: revocation through one server, then the token through another: {before}, {revoked}, {after}")
    print(f"{label}: consent revoked through one server, its token refused through "
          f"{'the other' if len(ports) > 1 else 'it'} after {1000 * delay:.0f} ms")


def forge_tokens(ports, label):
    control = {"Authorization": f"Bearer {CONTROL}", "Content-Type": "application/json"}
    bodies = [{"appId": FORGE_APP, "accountId": "557058:race"} if n % 2 else {"appId": FORGE_APP} for n in range(16)]
    minted = at_once([lambda p=ports[n % len(ports)], b=bodies[n]: request(p, "POST", "/_understudy/forge/tokens",
                                                                        json.dumps(b), control) for n in range(16)])
    tokens = [json.loads(body) for status, _, body in minted if status == 201]
    if len(tokens) != 16 or len({t["token"] for t in tokens}) != 16:
        finding(f"{label}: 16 Forge tokens minted at once: {[status for status, _, _ in minted]}")
    wrong = 0
    for index, minted_token in enumerate(tokens):
        for port in ports:
            status, headers, _ = request(port, "GET", f"/ex/jira/{SITE['site']['cloudId']}/rest/api/3/myself",
                                         headers={"Authorization": "Bearer " + minted_token["token"]})
            acting = headers.get("X-AAccountId") or headers.get("x-aaccountid")
            if status != 200 or acting != minted_token["accountId"]:
                wrong += 1
    if wrong:
        finding(f"{label}: {wrong} Forge token uses answered with the wrong status or principal")
    print(f"{label}: 16 Forge tokens minted at once, all distinct; each acts as its principal through "
          f"{'every server' if len(ports) > 1 else 'the server'} at once ({wrong} wrong)")


def postgres_database():
    url = os.environ.get("UNDERSTUDY_TEST_POSTGRES_URL")
    if not url or "UNDERSTUDY_TEST_PG_CTL" not in os.environ:
        return None
    from postgres_servers import fresh_database
    return fresh_database(url)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    options = parser.parse_args()
    servers = []
    try:
        database = seeded_database(options.binary, SITE, "understudy-oauth-races-")
        port = free_port()
        servers.append(start(options.binary, database, port, ["--control-token", CONTROL]))
        races([port], "SQLite, one server")
        forge_tokens([port], "SQLite, one server")
        pg = postgres_database()
        if pg:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as site:
                json.dump(SITE, site)
            import subprocess
            subprocess.run([options.binary, "seed", site.name, "--database", pg], check=True, stdout=subprocess.DEVNULL)
            ports = [free_port(), free_port()]
            for each in ports:
                servers.append(start(options.binary, pg, each, ["--control-token", CONTROL]))
            races(ports, "PostgreSQL, two servers")
            forge_tokens(ports, "PostgreSQL, two servers")
        else:
            print("PostgreSQL: skipped (no UNDERSTUDY_TEST_POSTGRES_URL)")
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    if findings:
        print(f"{len(findings)} findings")
        sys.exit(1)


if __name__ == "__main__":
    main()
