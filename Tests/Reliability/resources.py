#!/usr/bin/env python3
"""Resource bounds: huge bodies, huge headers and slow connections cannot exhaust the server.

1. 100 clients at once send 10 MB bodies (half with Content-Length, half chunked; half of them
   authenticated): each is refused (400 or 401, or the connection closed) without the server
   reading the body, and the server's memory stays bounded.
2. Header sections just under 16 KiB are served, just over get 431, far over (200 KiB) are refused.
3. 40 connections drip one byte a second and 40 send nothing: each is closed by the server after
   the request timeout / idle timeout (3 s here, set on the command line), not left open.

All the while a monitor asks for /status every 50 ms: every answer must be a 200 within 2 s.
Prints the peak resident memory (VmHWM) and exits non-zero on any finding. 127.0.0.1 only; about
20 seconds.

    python3 Tests/Reliability/resources.py --binary .build/debug/understudy
"""

import argparse
import base64
import http.client
import socket
import sys
import threading
import time

from understudy_site import free_port, seeded_database, start

SITE = {"users": [{"accountId": "557058:r", "emailAddress": "r@example.com", "displayName": "R",
                   "apiTokens": ["r-token"], "groups": ["jira-software-users"]}]}
AUTH = "Basic " + base64.b64encode(b"r@example.com:r-token").decode()
TEN_MB = 10 * 1024 * 1024
TIMEOUT_SECONDS = 3


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def connect(port):
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def status_line(connection):
    """The status code of the first answer on `connection`, or None if it was closed without one."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if not data.startswith(b"HTTP/1.1 "):
        return None
    return int(data[9:12])


def huge_body(port, index, outcomes):
    chunked = index % 2 == 1
    authenticated = index % 4 < 2
    head = f"PUT /rest/api/3/user/properties/big{index}?accountId=557058:r HTTP/1.1\r\nHost: x\r\n"
    head += "Content-Type: application/json\r\n"
    if authenticated:
        head += f"Authorization: {AUTH}\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {TEN_MB}\r\n\r\n"
    piece = b"[" + b"1," * 32_767 + b"1"  # 64 KiB of a JSON array
    sent = 0
    connection = connect(port)
    try:
        connection.sendall(head.encode())
        while sent < TEN_MB:
            data = piece if sent + len(piece) <= TEN_MB else piece[:TEN_MB - sent]
            connection.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent += len(data)
        if chunked:
            connection.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection: expected once it has refused the body
    outcomes.append((index, status_line(connection), sent))
    connection.close()


def header_section(port, size):
    connection = connect(port)
    filler = "a" * max(0, size - 40)
    request = f"GET /status HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\nConnection: close\r\n\r\n"
    try:
        connection.sendall(request.encode())
    except OSError:
        pass
    code = status_line(connection)
    connection.close()
    return code


def is_closed(connection):
    try:
        return connection.recv(1, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slow_connections(port, count, drip):
    """Opens `count` connections; drips a byte a second into each if `drip`. Returns seconds to close each."""
    connections = [connect(port) for _ in range(count)]
    opened = time.monotonic()
    request = b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
    closed_after = [None] * count
    for second in range(4 * TIMEOUT_SECONDS):
        for index, connection in enumerate(connections):
            if closed_after[index] is not None:
                continue
            if is_closed(connection):
                closed_after[index] = time.monotonic() - opened
            elif drip:
                try:
                    connection.send(request[second:second + 1])
                except OSError:
                    closed_after[index] = time.monotonic() - opened
        if all(value is not None for value in closed_after):
            break
        time.sleep(1)
    for connection in connections:
        connection.close()
    return closed_after


def monitor(port, stop, findings, answered):
    while not stop.is_set():
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/status")
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                findings.append(f"/status answered {response.status}")
            else:
                answered.append(time.monotonic() - started)
        except (OSError, http.client.HTTPException) as error:
            findings.append(f"/status did not answer within 2 s: {error!r}")
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    options = parser.parse_args()

    database = seeded_database(options.binary, SITE, "understudy-resources-")
    port = free_port()
    server = start(options.binary, database, port,
                   ["--request-timeout", str(TIMEOUT_SECONDS), "--idle-timeout", str(TIMEOUT_SECONDS)])
    findings, answered = [], []
    stop = threading.Event()
    watcher = threading.Thread(target=monitor, args=(port, stop, findings, answered))
    watcher.start()
    try:
        time.sleep(0.3)
        idle_rss = memory_kib(server.pid, "VmRSS")

        started = time.monotonic()
        outcomes = []
        threads = [threading.Thread(target=huge_body, args=(port, index, outcomes)) for index in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        bodies_seconds = time.monotonic() - started
        refused = [o for o in outcomes if o[1] in (400, 401)]
        closed = [o for o in outcomes if o[1] is None]
        unexpected = [o for o in outcomes if o[1] not in (400, 401, None)]
        if len(outcomes) != 100 or unexpected:
            findings.append(f"huge bodies: {len(outcomes)} finished, unexpected answers {unexpected[:5]}")
        print(f"100 x 10 MB bodies: {len(refused)} refused with 400/401, {len(closed)} closed without an answer, "
              f"{bodies_seconds:.1f} s")

        for size, expected in ((15_000, {200}), (17_000, {431}), (200_000, {400, 431, None})):
            code = header_section(port, size)
            print(f"header section of {size:,} bytes: {code if code is not None else 'closed'}")
            if code not in expected:
                findings.append(f"header section of {size} bytes answered {code}, expected {expected}")

        results = {}
        threads = [threading.Thread(target=lambda kind=kind: results.__setitem__(
            kind, slow_connections(port, 40, kind == "drip"))) for kind in ("drip", "silent")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for kind, closed_after in results.items():
            still_open = sum(1 for value in closed_after if value is None)
            slowest = max(value for value in closed_after if value is not None) if still_open < len(closed_after) \
                else float("nan")
            fastest = min(value for value in closed_after if value is not None) if still_open < len(closed_after) \
                else float("nan")
            print(f"40 {kind} connections: closed by the server after {fastest:.1f}-{slowest:.1f} s, "
                  f"{still_open} still open after {4 * TIMEOUT_SECONDS} s")
            if still_open or fastest < TIMEOUT_SECONDS - 0.5:
                findings.append(f"{kind} connections: {still_open} left open, first closed after {fastest:.1f} s")

        peak = memory_kib(server.pid, "VmHWM")
        after = memory_kib(server.pid, "VmRSS")
        print(f"memory: idle {idle_rss / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, after {after / 1024:.0f} MiB")
        if peak > 200 * 1024:
            findings.append(f"peak resident memory {peak / 1024:.0f} MiB is over 200 MiB")
    finally:
        stop.set()
        watcher.join()
        server.terminate()
        server.wait(10)
    slowest_status = max(answered) if answered else float("nan")
    print(f"/status answered {len(answered)} times while this ran, slowest {slowest_status * 1000:.0f} ms")
    if server.returncode != 0:
        findings.append(f"the server exited with {server.returncode} on SIGTERM")
    for finding in findings:
        print("FINDING:", finding)
    print(f"{len(findings)} findings")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
