#!/usr/bin/env python3
"""Checks sse-server behind a real nginx (started by tests/proxy/run.sh).

    check_proxy.py --server PORT --nginx PORT [--h2 --cacert CA] [--promtool PATH]

--nginx names one front of nginx. Requests to sse-server itself, and to an
HTTP/1.1 front, are plain sockets on loopback; with --h2 the front speaks
HTTP/2 over TLS, and every request to it goes through `curl --http2` (Python's
standard library has no HTTP/2 client), which must trust CA. Every wait has a
deadline. Prints one line per check ("ok: ..." or "FAILED: ...") and ends
with "N passed, M failed"; exits 1 on any failure.
"""
import argparse
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

ORIGIN = "http://app.example"     # the server runs with --cors-origin ORIGIN --heartbeat-ms 1000
EVENTS_TIMED = 10                 # events in one delay check
DELAY_LIMIT = 0.200               # each event must arrive this soon after its publish
DELAY_ATTEMPTS = 3                # a noisy machine gets this many tries
HOST = "127.0.0.1"
H2_FRONTS = {}                    # port -> CA file: the HTTP/2 fronts, reached through curl


# --- HTTP over a socket ---------------------------------------------------

class HttpExchange:
    """One request on its own connection; the body is read incrementally and
    de-chunked, so a stream can be read event by event."""

    def __init__(self, port, method, target, headers=(), body=b"", source=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source:
            self.sock.bind((source, 0))
        self.sock.settimeout(5)
        self.sock.connect((HOST, port))
        lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{port}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self._start_reading()

    def _start_reading(self):
        self.raw = b""          # bytes received and not yet decoded
        self.closed = False     # the peer closed the connection
        self.version = None     # "HTTP/1.1", "HTTP/2"
        self.status = None
        self.headers = []       # (lower-case name, value) in arrival order
        self.chunked = False
        self.chunk_left = 0     # data bytes left in the current chunk
        self.chunk_crlf = False # the CRLF ending a chunk's data is next
        self.body_done = False  # the last chunk, or Content-Length reached

    def close(self):
        self.sock.close()

    def _receive(self, deadline):
        """Appends what arrives before the deadline; False on timeout."""
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.raw += data
        return True

    def read_head(self, deadline):
        """Reads the status line and header fields; True once they are in."""
        while b"\r\n\r\n" not in self.raw:
            if not self._receive(deadline):
                return False
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.version, status = lines[0].split()[:2]
        self.status = int(status)
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))
        self.chunked = "chunked" in self.header("transfer-encoding").lower()
        return True

    def header(self, name):
        """The field's values joined by ", " ("" when absent)."""
        return ", ".join(v for n, v in self.headers if n == name)

    def header_count(self, name):
        return sum(1 for n, _ in self.headers if n == name)

    def read_body_bytes(self, deadline):
        """The next decoded body bytes; b"" when the body ended or on timeout."""
        while True:
            out = self._take_decoded()
            if out or self.body_done:
                return out
            if not self._receive(deadline):
                return self._take_decoded()

    def _take_decoded(self):
        if not self.chunked:
            out, self.raw = self.raw, b""
            return out
        out = b""
        while not self.body_done:
            if self.chunk_left > 0:                   # inside a chunk's data
                take = min(len(self.raw), self.chunk_left)
                if take == 0:
                    break
                out += self.raw[:take]
                self.raw = self.raw[take:]
                self.chunk_left -= take
                self.chunk_crlf = self.chunk_left == 0
            elif self.chunk_crlf:                     # the CRLF after the data
                if len(self.raw) < 2:
                    break
                self.raw = self.raw[2:]
                self.chunk_crlf = False
            else:                                     # a chunk-size line
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.raw[:line_end].split(b";")[0], 16)
                self.raw = self.raw[line_end + 2:]
                self.body_done = size == 0
                self.chunk_left = size
        return out

    def read_all(self, deadline):
        body = b""
        length = self.header("content-length")
        while not self.body_done:
            piece = self.read_body_bytes(deadline)
            body += piece
            if length and len(body) >= int(length):
                break
            if not piece and (self.closed or time.monotonic() >= deadline):
                break
        return body


class CurlExchange(HttpExchange):
    """The same exchange with an HTTP/2 front over TLS, through one curl
    process: curl --include prints the response head as HTTP/1.1 would (the
    status line says "HTTP/2 200"), then --no-buffer passes the body on as
    it arrives. Closing it ends curl, which closes its connection."""

    responses = []              # the version of every response head read, in order

    def __init__(self, port, method, target, headers=(), body=b"", source=None):
        command = [shutil.which("curl") or "curl", "--http2", "--cacert", H2_FRONTS[port],
                   "--silent", "--show-error", "--include", "--no-buffer",
                   "--request", method, f"https://{HOST}:{port}{target}"]
        for name, value in headers:
            if name.lower() != "connection":        # HTTP/2 has no Connection field
                command += ["--header", f"{name}: {value}"]
        if source:
            command += ["--interface", source]
        if body:
            command += ["--data-binary", "@-"]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE if body else subprocess.DEVNULL,
                                        stdout=subprocess.PIPE)
        if body:
            self.process.stdin.write(body)
            self.process.stdin.close()
        self._start_reading()

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def _receive(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        readable, _, _ = select.select([self.process.stdout], [], [], left)
        if not readable:
            return False
        data = os.read(self.process.stdout.fileno(), 65536)
        if not data:
            self.closed = True
            return False
        self.raw += data
        return True

    def read_head(self, deadline):
        if not super().read_head(deadline):
            return False
        self.chunked = False    # curl prints a chunked body decoded
        CurlExchange.responses.append(self.version)
        return True


def exchange_with(port, method, target, headers=(), body=b"", source=None):
    """An exchange on its own connection: through curl with an HTTP/2 front,
    over a plain socket otherwise."""
    kind = CurlExchange if port in H2_FRONTS else HttpExchange
    return kind(port, method, target, headers, body, source)


def request(port, method, target, headers=(), body=b"", source=None, timeout=5.0):
    """A whole request and answer: (status, HttpExchange, body text)."""
    exchange = exchange_with(port, method, target, list(headers) + [("Connection", "close")], body, source)
    deadline = time.monotonic() + timeout
    try:
        if not exchange.read_head(deadline):
            return None, exchange, ""
        return exchange.status, exchange, exchange.read_all(deadline).decode("utf-8", "replace")
    finally:
        exchange.close()


class SseReader:
    """Reads a text/event-stream body into events: dicts of field -> value,
    with "comments" for ": ..." lines."""

    def __init__(self, exchange):
        self.exchange = exchange
        self.pending = b""  # body bytes not yet a whole event
        self.events = []

    def next_event(self, deadline):
        if self.exchange.status is None and not self.exchange.read_head(deadline):
            return None
        while not self.events:
            if b"\n\n" in self.pending:
                block, self.pending = self.pending.split(b"\n\n", 1)
                self.events.append(parse_event(block.decode("utf-8")))
                continue
            piece = self.exchange.read_body_bytes(deadline)
            if not piece:
                return None
            self.pending += piece
        return self.events.pop(0)

    def next_data_event(self, deadline):
        """The next event carrying data (skips retry-only blocks and comments)."""
        while True:
            event = self.next_event(deadline)
            if event is None or "data" in event:
                return event


def parse_event(block):
    event = {"comments": []}
    for line in block.split("\n"):
        if line.startswith(":"):
            event["comments"].append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        event[name] = event[name] + "\n" + value if name == "data" and name in event else value
    return event


def open_stream(port, target, headers=(), timeout=3.0):
    """Subscribes; returns (exchange, reader) once the head and the opening
    retry: line have arrived, else (exchange, None)."""
    exchange = exchange_with(port, "GET", target, [("Accept", "text/event-stream")] + list(headers))
    deadline = time.monotonic() + timeout
    if not exchange.read_head(deadline) or exchange.status != 200:
        return exchange, None
    reader = SseReader(exchange)
    first = reader.next_event(deadline)
    if first is None or "retry" not in first:
        return exchange, None
    return exchange, reader


def open_stream_unseen(port, target, server, topic, timeout=3.0):
    """Subscribes through a proxy that may hold even the response head back:
    returns (exchange, reader) once sse-server counts the subscriber (asked
    directly), else (exchange, None). The reader reads the head itself."""
    exchange = exchange_with(port, "GET", target, [("Accept", "text/event-stream")])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body = request(server, "GET", "/topics/" + topic)
        if status == 200 and json.loads(body)["subscribers"] == 1:
            return exchange, SseReader(exchange)
        time.sleep(0.02)
    return exchange, None


def publish(port, topic, data, source=None):
    """POST /publish; returns (status, id or None)."""
    status, _, body = request(port, "POST", "/publish?topic=" + urllib.parse.quote(topic),
                              [("Content-Type", "text/plain")], data.encode(), source)
    try:
        return status, json.loads(body)["id"] if status == 200 else None
    except (ValueError, KeyError):
        return status, None


# --- the checks ------------------------------------------------------------

class Results:
    def __init__(self, label=""):
        self.label = label      # said before every check's name ("HTTP/2: ")
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        # A passing check shows only a short detail (a measurement, say);
        # a failing one shows everything it has.
        show = detail and (not ok or len(detail) <= 160)
        print(f"   {'ok' if ok else 'FAILED'}: {self.label}{name}" + (f" ({detail})" if show else ""), flush=True)


def timed_delivery(nginx, server, path_prefix, topic, proxy_buffers):
    """Subscribes through nginx at path_prefix, then publishes EVENTS_TIMED
    events straight to sse-server, one at a time: each must arrive through
    nginx within DELAY_LIMIT, before the next is published. Returns the list
    of delays in seconds (None for an event that did not arrive in time; the
    check stops there), or a string saying why it could not start."""
    target = f"{path_prefix}/latest/{topic}"
    if proxy_buffers:
        exchange, reader = open_stream_unseen(nginx, target, server, topic)
    else:
        exchange, reader = open_stream(nginx, target)
    try:
        if reader is None:
            return f"no stream through nginx (status {exchange.status})"
        delays = []
        for i in range(EVENTS_TIMED):
            payload = f"{topic}-{i}"
            start = time.monotonic()
            status, _ = publish(server, topic, payload)
            if status != 200:
                return f"publish answered {status}"
            event = reader.next_data_event(start + DELAY_LIMIT)
            if event is None:
                delays.append(None)
                return delays
            if event.get("data") != payload:
                return f"expected data {payload!r}, got {event!r}"
            delays.append(time.monotonic() - start)
        return delays
    finally:
        exchange.close()


def format_delays(delays):
    return " ".join("late" if d is None else f"{d * 1000:.1f}" for d in delays) + " ms"


def check_no_buffering(results, nginx, server, path_prefix, name):
    """The timing check, with up to DELAY_ATTEMPTS tries of the whole run."""
    tries = []
    for attempt in range(1, DELAY_ATTEMPTS + 1):
        delays = timed_delivery(nginx, server, path_prefix, f"delay{path_prefix.replace('/', '-')}-{attempt}", False)
        if isinstance(delays, str):
            tries.append(delays)
            continue
        if len(delays) == EVENTS_TIMED and None not in delays:
            results.check(name, True, f"attempt {attempt}, max {max(delays) * 1000:.1f} ms, "
                                      f"each: {format_delays(delays)}")
            return
        tries.append(format_delays(delays))
    results.check(name, False, "; ".join(f"attempt {i + 1}: {t}" for i, t in enumerate(tries)))


def check_buffered_control(results, nginx, server):
    """The negative control: with buffering on and X-Accel-Buffering ignored,
    nginx holds the small events, so the timing check must fail here."""
    delays = timed_delivery(nginx, server, "/test-buffered", "control-buffered", True)
    if isinstance(delays, str):
        results.check("control: a buffering nginx fails the timing check", False, delays)
        return
    held = None in delays
    results.check("control: a buffering nginx fails the timing check (the check can fail)", held,
                  f"delivered in time before being held: {len([d for d in delays if d is not None])} "
                  f"of {EVENTS_TIMED}")


def check_stream_headers(results, nginx):
    exchange, reader = open_stream(nginx, "/latest/headers")
    try:
        ok = (reader is not None and exchange.header("content-type").startswith("text/event-stream")
              and exchange.header("cache-control") == "no-cache, no-transform"
              and exchange.header_count("x-accel-buffering") == 0)
        results.check("a stream through nginx: 200, text/event-stream, no-cache, no-transform, opens with retry:, "
                      "X-Accel-Buffering consumed by nginx", ok,
                      f"status {exchange.status}, headers {exchange.headers}")
    finally:
        exchange.close()


def check_presence(results, nginx):
    """GET /presence through nginx: the count at once, then the change a
    stream opened through nginx makes, as soon as it happens."""
    topic = "proxied-presence"
    exchange, reader = open_stream(nginx, f"/presence?type={topic}")
    counts = []
    try:
        deadline = time.monotonic() + 5.0
        first = reader.next_data_event(deadline) if reader else None
        if first:
            counts.append(json.loads(first.get("data", "{}")).get("subscribers"))
        stream, stream_reader = open_stream(nginx, f"/latest/{topic}")
        try:
            after = reader.next_data_event(deadline) if reader and stream_reader else None
            if after:
                counts.append(json.loads(after.get("data", "{}")).get("subscribers"))
        finally:
            stream.close()
        results.check("presence through nginx: the count at once, then a stream's arrival", counts == [0, 1],
                      f"counts seen {counts}")
    finally:
        exchange.close()


def check_replay(results, nginx):
    topic = "replay"
    ids = []
    for i in range(1, 6):
        status, event_id = publish(nginx, topic, f"replay-{i}")
        if status != 200 or not event_id:
            results.check("publishing 5 events through nginx (loopback peer)", False, f"event {i}: status {status}")
            return
        ids.append(event_id)
    results.check("publishing 5 events through nginx (loopback peer)", True)

    exchange, reader = open_stream(nginx, f"/latest/{topic}", [("Last-Event-ID", ids[1])])
    try:
        got = []
        deadline = time.monotonic() + 2.0
        while reader is not None and len(got) < 3:
            event = reader.next_data_event(deadline)
            if event is None:
                break
            got.append((event.get("id"), event.get("data"), event.get("event")))
        extra = reader.next_data_event(time.monotonic() + 0.3) if reader is not None else None
        expected = [(ids[i], f"replay-{i + 1}", None) for i in (2, 3, 4)]
        results.check("Last-Event-ID of #2 through nginx replays exactly #3..#5", got == expected and extra is None,
                      f"got {got}, then {extra}")
    finally:
        exchange.close()


def check_cors(results, nginx):
    exchange, reader = open_stream(nginx, "/latest/cors", [("Origin", ORIGIN)])
    try:
        ok = (reader is not None and exchange.header_count("access-control-allow-origin") == 1
              and exchange.header("access-control-allow-origin") == ORIGIN
              and exchange.header("access-control-allow-credentials") == "true"
              and "origin" in exchange.header("vary").lower())
        results.check("CORS through nginx: a stream echoes the allowed Origin once, with credentials and Vary",
                      ok, f"status {exchange.status}, headers {exchange.headers}")
    finally:
        exchange.close()

    status, answer, _ = request(nginx, "GET", "/latest/cors", [("Origin", "http://other.example")], timeout=0.5)
    results.check("CORS through nginx: another Origin gets no Access-Control-* header",
                  status == 200 and not any(n.startswith("access-control-") for n, _ in answer.headers),
                  f"status {status}, headers {answer.headers}")

    status, answer, _ = request(nginx, "OPTIONS", "/latest/cors", [
        ("Origin", ORIGIN), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "last-event-id")])
    methods = answer.header("access-control-allow-methods")
    allowed_headers = answer.header("access-control-allow-headers").lower()
    results.check("CORS preflight through nginx: 204 with Allow-Methods and Last-Event-ID allowed",
                  status == 204 and "GET" in methods and "last-event-id" in allowed_headers
                  and answer.header("access-control-allow-origin") == ORIGIN,
                  f"status {status}, headers {answer.headers}")


def check_keepalive(results, nginx, server):
    """Five requests through nginx, each on a new client connection, must
    reach sse-server over (at most) one upstream connection."""
    def accepted():
        status, _, body = request(server, "GET", "/metrics")
        match = re.search(r"^sse_connections_accepted_total (\d+)", body, re.M)
        return int(match.group(1)) if status == 200 and match else None

    before = accepted()
    statuses = [request(nginx, "GET", "/healthz")[0] for _ in range(5)]
    after = accepted()
    new_upstream = None if before is None or after is None else after - before - 1  # less the second /metrics
    results.check("nginx keeps its upstream connection alive (proxy_http_version 1.1, Connection \"\")",
                  statuses == [200] * 5 and new_upstream is not None and new_upstream <= 1,
                  f"/healthz statuses {statuses}, new upstream connections {new_upstream}")


def check_publish_rule(results, nginx):
    status, _ = publish(nginx, "denied", "x", source="127.0.0.2")
    results.check("nginx refuses /publish from an address it does not admit (403)", status == 403, f"status {status}")


def check_heartbeat(results, nginx):
    """sse-server runs with --heartbeat-ms 1000: the comment of a quiet stream
    must pass nginx too (it is what keeps proxies from cutting the stream)."""
    exchange, reader = open_stream(nginx, "/latest/quiet")
    try:
        start = time.monotonic()
        event = reader.next_event(start + 3.0) if reader is not None else None
        waited = time.monotonic() - start
        results.check("a quiet stream's ': heartbeat' passes nginx", event is not None and "heartbeat" in
                      event["comments"], f"after {waited * 1000:.0f} ms: {event}")
    finally:
        exchange.close()


SHORT_READ_TIMEOUT = 2.0          # proxy_read_timeout of /test-short-read/ in run.sh
HEARTBEAT = 1.0                   # sse-server's --heartbeat-ms, in seconds


def check_heartbeats_outlast_read_timeout(results, nginx):
    """A quiet stream behind nginx lives only while heartbeats keep coming:
    held for more than three proxy_read_timeouts, it must stay open, see a
    heartbeat in every period, and still deliver an event at the end."""
    exchange, reader = open_stream(nginx, "/test-short-read/latest/quiet-long")
    try:
        hold = 3 * SHORT_READ_TIMEOUT + HEARTBEAT
        end = time.monotonic() + hold
        comments = 0
        while reader is not None and time.monotonic() < end:
            event = reader.next_event(end)
            if event is None:
                break
            comments += event["comments"].count("heartbeat")
        still_open = reader is not None and not exchange.closed
        wanted = 3  # at least one per read timeout; more depends on the clock
        results.check(f"a quiet stream outlives 3 x proxy_read_timeout ({SHORT_READ_TIMEOUT:.0f} s) on heartbeats",
                      still_open and comments >= wanted,
                      f"open {still_open}, {comments} heartbeats in {hold:.0f} s (want >= {wanted})")
        status, event_id = publish(nginx, "quiet-long", "still here")
        event = reader.next_event(time.monotonic() + 3.0) if still_open else None
        while event is not None and event.get("data") is None:
            event = reader.next_event(time.monotonic() + 3.0)
        results.check("... and still delivers an event after them", status == 200 and event is not None and
                      event.get("id") == event_id, f"publish {status}, got {event}")
    finally:
        exchange.close()


def subscribers(server, topic):
    status, _, body = request(server, "GET", "/topics/" + topic)
    return json.loads(body)["subscribers"] if status == 200 else 0 if status == 404 else None


def check_client_abort(results, nginx, server):
    """A browser that goes away must free its stream at sse-server too, or
    streams leak upstream of nginx."""
    exchange, reader = open_stream(nginx, "/latest/abort")
    before = subscribers(server, "abort")
    exchange.close()
    deadline = time.monotonic() + 2.0
    after = before
    while time.monotonic() < deadline and after != 0:
        time.sleep(0.02)
        after = subscribers(server, "abort")
    results.check("a client leaving nginx ends its stream at sse-server within 2 s",
                  reader is not None and before == 1 and after == 0, f"subscribers {before} -> {after}")


def check_metrics(results, server, nginx, promtool):
    # Labelled series exist once a stream is open and events were published.
    exchange, reader = open_stream(nginx, "/latest?type=metrics-a,metrics-b")
    try:
        publish(server, "metrics-a", "m")
        status, _, text = request(server, "GET", "/metrics")
    finally:
        exchange.close()
    labelled = ('sse_connections{kind="stream"}' in text and 'sse_topic_subscribers{topic="metrics-a"}' in text)
    results.check("/metrics answers 200 with labelled series", status == 200 and reader is not None and labelled,
                  f"status {status}")
    if not promtool:
        results.check("promtool check metrics", False, "promtool not found (Debian: apt-get install prometheus)")
        return
    run = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    said = (run.stdout + run.stderr).strip()
    results.check("promtool check metrics: no problem reported", run.returncode == 0 and not said,
                  f"exit {run.returncode}" + (f", output: {said}" if said else ", no output"))
    # The check can fail: promtool must object to a planted problem.
    planted = "# HELP sse_planted Planted.\n# TYPE sse_planted counter\nsse_planted 1\n"
    run = subprocess.run([promtool, "check", "metrics"], input=planted, capture_output=True, text=True, timeout=30)
    results.check("control: promtool reports a planted problem", run.returncode != 0 and "_total" in run.stdout + run.stderr,
                  f"exit {run.returncode}")


def check_http2(results, nginx):
    """Through the HTTP/2 front every answer must really be HTTP/2 (ALPN
    chose h2), or the checks above proved nothing about it."""
    status, answer, _ = request(nginx, "GET", "/healthz")
    versions = CurlExchange.responses
    results.check(f"every answer through this front came over HTTP/2 ({len(versions)} answers)",
                  status == 200 and answer.version == "HTTP/2" and len(versions) > 10
                  and set(versions) == {"HTTP/2"},
                  f"/healthz {status} over {answer.version}, versions seen {sorted(set(versions))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", type=int, required=True, help="sse-server's port on 127.0.0.1")
    parser.add_argument("--nginx", type=int, required=True, help="the port of nginx's front on 127.0.0.1")
    parser.add_argument("--h2", action="store_true", help="the front speaks HTTP/2 over TLS (checked with curl)")
    parser.add_argument("--cacert", default="", help="with --h2: the CA that signed the front's certificate")
    parser.add_argument("--promtool", default="", help="path of promtool")
    args = parser.parse_args()
    if args.h2:
        H2_FRONTS[args.nginx] = args.cacert

    results = Results("HTTP/2: " if args.h2 else "")
    check_stream_headers(results, args.nginx)
    check_no_buffering(results, args.nginx, args.server, "",
                       f"events pass nginx unbuffered (proxy_buffering off): each within {DELAY_LIMIT * 1000:.0f} ms")
    check_no_buffering(results, args.nginx, args.server, "/test-accel",
                       f"events pass nginx unbuffered (buffering on, X-Accel-Buffering: no): "
                       f"each within {DELAY_LIMIT * 1000:.0f} ms")
    check_buffered_control(results, args.nginx, args.server)
    check_replay(results, args.nginx)
    check_presence(results, args.nginx)
    check_cors(results, args.nginx)
    check_heartbeat(results, args.nginx)
    check_heartbeats_outlast_read_timeout(results, args.nginx)
    check_client_abort(results, args.nginx, args.server)
    check_keepalive(results, args.nginx, args.server)
    check_publish_rule(results, args.nginx)
    check_metrics(results, args.server, args.nginx, args.promtool)
    if args.h2:
        check_http2(results, args.nginx)
    print(f"{results.passed} passed, {results.failed} failed")
    return 0 if results.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
