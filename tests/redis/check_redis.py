#!/usr/bin/env python3
"""Several sse-server instances sharing one real Redis Stream.

    check_redis.py --redis-server PATH --tmp DIR [--server-bin PATH]

Started by tests/redis/run.sh, which finds redis-server and makes DIR. This
script starts its own redis-server on a free loopback port (persistence on,
data in DIR) and sse-server instances with --redis, then checks:

  1. publish on A, receive on B with the id A answered;
     1b. a pause (retry=MS&close=1) published on A: the final event carries
     retry: MS and the streams close on A and on B; a client that comes back
     streams again (no 204) and resumes with nothing missing;
     1c. DELETE /publish on A ends the topic on A and B (their streams close,
     both answer 204), and an instance started later answers 204 too;
     1d. one event to two topics through A: one id, once to each stream on B;
     1e. an event published on A with ttl=1 is delivered live on B; once it
     has expired, B and an instance started later hold it no more: ?last=N
     and a resume across it replay none of it, with no reset;
     1f. an Idempotency-Key sent to A, then the same request to B: B answers
     A's answer (A's id), and the event is published once; the same key
     with another body on B is 422;
  2. a client moved from A to B with Last-Event-ID: no gap, no duplicate;
  3. Redis restarted mid-stream: 503 while it is down, /healthz 503 then 200,
     and every subscriber gets every event answered 2xx exactly once, in order;
     3b. only A's link cut (Redis up, B publishing): A resumes XREAD from the
     last id it saw, so its subscribers miss nothing;
     3c. a client moving to A with an id A has not read yet (A cut off)
     gets no reset and none of what it saw, then the new events;
  4. an instance started late replays the stream's history;
  5. --reuse-port: two instances share one port and one stream (5b: without
     the flag the port is refused);
  5c. quiet for more than one XREAD BLOCK period (5 s), four times in a
     row: each instance reads again after every empty reply, so one, two
     and many subscribers get every event each time;
  6. every instance exits 0 on SIGTERM.

A reaches Redis through a small TCP relay in this script, so its link alone
can be cut (3b, 3c); B and the others connect directly.

Every wait has a deadline; nothing asserts how long anything took. "Nothing
more arrived" is proven with a sentinel event published last: everything a
stream receives before the sentinel must be exactly what is expected.
Prints "N passed, M failed"; exits 1 on any failure. Every process it starts
is stopped by pid on exit.
"""

import argparse
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

DEADLINE_S = 15.0          # ordinary waits (an event, an answer)
READ_BLOCK_S = 5.0         # kRedisReadBlockMs: an XREAD with nothing new answers after this
REDIS_DEADLINE_S = 30.0    # the Redis link: reconnect backoff is at most 5 s
SHUTDOWN_DEADLINE_S = 10.0
CHECK_COUNT = 16           # the checks after set-up, for the count when set-up fails


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what, deadline_s=DEADLINE_S, step_s=0.05):
    """Polls predicate() until it returns a true value, which is returned."""
    end = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise CheckFailed("timed out after %.0f s waiting for %s" % (deadline_s, what))
        time.sleep(step_s)


# ---------------------------------------------------------------- processes

class Processes:
    """Every child this script starts, so all are stopped by pid on exit."""

    def __init__(self):
        self.children = []

    def spawn(self, argv, log_path, stdout=None):
        """stdout None: into the log, like stderr."""
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdout=log if stdout is None else stdout, stderr=log,
                                    stdin=subprocess.DEVNULL)
        self.children.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM):
        """Signals proc by pid and waits for it; returns its exit status."""
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(SHUTDOWN_DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self):
        for proc in self.children:
            self.stop(proc)


PROCS = Processes()


class RedisServer:
    def __init__(self, binary, tmp):
        self.binary = binary
        self.dir = os.path.join(tmp, "redis-data")
        self.log_path = os.path.join(tmp, "redis-server.log")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    def start(self):
        # Its own config on the command line (no config file, never the
        # system service); the append-only file makes a restart lose nothing.
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--daemonize", "no", "--protected-mode", "yes", "--logfile", ""]
        self.proc = PROCS.spawn(argv, self.log_path)
        wait_until(self.ping, "redis-server to answer PING on port %d" % self.port)

    def ping(self):
        if self.proc.poll() is not None:
            raise CheckFailed("redis-server exited with status %d (see redis-server.log)" % self.proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        status = PROCS.stop(self.proc, signal.SIGTERM)
        expect(status == 0, "redis-server exited with status %s on SIGTERM" % status)


class LinkRelay:
    """A TCP relay to Redis whose links can be cut and refused at will."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = True
        self.links = []   # (client socket, upstream socket)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refuse = not self.open
            upstream = None
            if not refuse:
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=DEADLINE_S)
                    upstream.settimeout(None)
                except OSError:
                    refuse = True
            if refuse:
                client.close()
                continue
            with self.lock:
                self.links.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """Closes every link and refuses new ones until restore()."""
        with self.lock:
            self.open = False
            links, self.links = self.links, []
        for pair in links:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def restore(self):
        with self.lock:
            self.open = True


class Instance:
    """One sse-server process; port comes from its 'listening on' line."""

    LISTENING = re.compile(rb"listening on http://[^\s]*:(\d+)")

    def __init__(self, name, binary, tmp, redis_port, key, port=0, extra=()):
        self.name = name
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--no-demo",
                "--redis", "127.0.0.1:%d" % redis_port, "--redis-key", key] + list(extra)
        self.log_path = os.path.join(tmp, "sse-server-%s.log" % name)
        self.proc = PROCS.spawn(argv, self.log_path, stdout=subprocess.PIPE)
        self.port = self._read_port()
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _read_port(self):
        end = time.monotonic() + DEADLINE_S
        seen = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                seen += chunk
                match = self.LISTENING.search(seen)
                if match:
                    return int(match.group(1))
            elif self.proc.poll() is not None:
                break
        raise CheckFailed("instance %s printed no 'listening on' line (exit status %s): %s"
                          % (self.name, self.proc.poll(), self.log_tail()))

    def _drain(self):
        try:
            while self.proc.stdout.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def request(self, method, path, body=None):
        return http_request(self.port, method, path, body)

    def publish(self, topic, data):
        return publish(self.port, topic, data)

    def healthz(self):
        return self.request("GET", "/healthz")[0]

    def wait_health(self, want):
        wait_until(lambda: self.healthz() == want, "instance %s /healthz %d" % (self.name, want), REDIS_DEADLINE_S)

    def metric(self, name):
        status, body = self.request("GET", "/metrics")
        expect(status == 200, "GET /metrics on %s answered %s" % (self.name, status))
        match = re.search(r"^%s (\S+)$" % re.escape(name), body, re.M)
        expect(match, "%s missing from /metrics of %s" % (name, self.name))
        return float(match.group(1))

    def held(self, topic):
        """The number of events /topics/<topic> says are held (0 when unknown)."""
        status, body = self.request("GET", "/topics/" + topic)
        match = re.search(r'"events":([0-9]+)', body) if status == 200 else None
        return int(match.group(1)) if match else 0

    def last_id(self, topic):
        status, body = self.request("GET", "/topics/" + topic)
        match = re.search(r'"last_id":"([0-9]+-[0-9]+)"', body) if status == 200 else None
        return match.group(1) if match else None


def http_request(port, method, path, body=None, headers=None):
    """One request on a fresh connection; (status, body text), (0, error) if none."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError as error:
        return 0, str(error)
    finally:
        conn.close()


def publish(port, topic, data):
    """POST /publish; (status, id or None, body)."""
    status, body = http_request(port, "POST", "/publish?topic=" + topic, data.encode())
    match = re.fullmatch(r'\{"id":"([0-9]+-[0-9]+)","queued":[0-9]+\}\s*', body) if status == 200 else None
    return status, (match.group(1) if match else None), body


def publish_ok(instance, topic, data):
    status, event_id, body = instance.publish(topic, data)
    expect(status == 200 and event_id, "POST /publish?topic=%s on %s: expected 200 {\"id\":...}, got %s %r"
           % (topic, instance.name, status, body))
    return event_id


# ------------------------------------------------------------------ streams

class Subscriber:
    """A raw-socket event-stream reader collecting (id, event, data) in a thread."""

    def __init__(self, port, topic, last_event_id=None, name="subscriber", path=None):
        self.name = name
        self.events = []          # dicts: id, event, data
        self.closed = False
        self.started = False      # head and "retry:" received
        self.status = None
        self.cond = threading.Condition()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        path = path or "/latest/" + topic
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" % path
        if last_event_id:
            head += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock.sendall((head + "\r\n").encode())
        self.sock.settimeout(None)
        threading.Thread(target=self._run, daemon=True).start()
        wait_until(lambda: self.started or self.closed, "%s's stream head" % name)
        expect(self.status == 200, "%s: GET %s answered %s" % (name, path, self.status))

    def _run(self):
        buffer = b""
        in_body = False
        fields = {}
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                if not in_body:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    self.status = int(buffer[:buffer.find(b"\r\n")].split()[1])
                    buffer = buffer[end + 4:]
                    in_body = True
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    line = line.rstrip(b"\r").decode("utf-8", "replace")
                    if line == "":
                        if "data" in fields or "id" in fields:
                            with self.cond:
                                self.events.append({"id": fields.get("id"), "event": fields.get("event", ""),
                                                    "data": "\n".join(fields.get("data", [])),
                                                    "retry": fields.get("retry")})
                                self.cond.notify_all()
                        fields = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if key == "data":
                            fields.setdefault("data", []).append(value)
                        elif key in ("id", "event"):
                            fields[key] = value
                        elif key == "retry":
                            fields["retry"] = value
                            self.started = True
        except OSError:
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def wait_count(self, count, deadline_s=DEADLINE_S):
        end = time.monotonic() + deadline_s
        with self.cond:
            while len(self.events) < count:
                left = end - time.monotonic()
                expect(not self.closed, "%s: stream closed after %d of %d events: %s"
                       % (self.name, len(self.events), count, self.events))
                expect(left > 0, "%s: %d of %d events within %.0f s: %s"
                       % (self.name, len(self.events), count, deadline_s, self.events))
                self.cond.wait(left)
            return list(self.events)

    def wait_for_id(self, event_id, deadline_s=DEADLINE_S):
        """Waits for event_id; returns every event before it (not itself)."""
        end = time.monotonic() + deadline_s
        with self.cond:
            while True:
                for index, event in enumerate(self.events):
                    if event["id"] == event_id:
                        return list(self.events[:index])
                left = end - time.monotonic()
                expect(not self.closed, "%s: stream closed before event %s; got %s" % (self.name, event_id, self.events))
                expect(left > 0, "%s: event %s not received within %.0f s; got %s"
                       % (self.name, event_id, deadline_s, self.events))
                self.cond.wait(left)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def expect_exactly(subscriber, received, expected):
    """expected: list of (id, data); received events must be exactly these."""
    resets = [e for e in received if e["event"] == "reset"]
    expect(not resets, "%s: unexpected reset event(s): %s" % (subscriber.name, resets))
    got = [(e["id"], e["data"]) for e in received]
    if got != expected:
        missing = [e for e in expected if e not in got]
        extra = [e for e in got if e not in expected]
        raise CheckFailed("%s: events differ from those answered 2xx (in order, once each)\n"
                          "      expected %s\n      got      %s\n      missing %s, extra/duplicate %s"
                          % (subscriber.name, expected, got, missing, extra))


class PresenceWatcher(Subscriber):
    """A GET /presence stream; knows the latest count of each topic."""

    def __init__(self, instance, topics, name):
        super().__init__(instance.port, None, name=name, path="/presence?type=" + ",".join(topics))

    def counts(self):
        latest = {}
        with self.cond:
            for event in self.events:
                if event["event"] == "presence":
                    data = json.loads(event["data"])
                    latest[data["topic"]] = data["subscribers"]
        return latest

    def wait_counts(self, want, what, deadline_s=DEADLINE_S):
        """Waits until every topic of `want` has its count; returns the seconds it took."""
        start = time.monotonic()
        wait_until(lambda: all(self.counts().get(t) == n for t, n in want.items()),
                   "%s to see %s (%s); it saw %s" % (self.name, want, what, self.counts()), deadline_s)
        return time.monotonic() - start


def redis_command(port, *words):
    """One command to Redis over RESP; the reply as a list of strings (arrays) or a string."""
    request = "*%d\r\n" % len(words) + "".join("$%d\r\n%s\r\n" % (len(w.encode()), w) for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as s:
        s.sendall(request.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            try:
                value, _ = parse_resp(data)
                return value
            except IndexError:
                continue
    raise CheckFailed("redis closed the link before replying to %s" % (words,))


def parse_resp(data):
    """(value, rest) for one RESP2 reply; IndexError when incomplete."""
    line_end = data.index(b"\r\n")
    kind, line, rest = data[:1], data[1:line_end].decode(), data[line_end + 2:]
    if kind in (b"+", b"-", b":"):
        return line, rest
    if kind == b"$":
        n = int(line)
        if n < 0:
            return None, rest
        if len(rest) < n + 2:
            raise IndexError
        return rest[:n].decode(), rest[n + 2:]
    if kind == b"*":
        items = []
        for _ in range(max(int(line), 0)):
            item, rest = parse_resp(rest)
            items.append(item)
        return items, rest
    raise CheckFailed("unexpected RESP reply %r" % data[:40])


# ------------------------------------------------------------------- checks

class Suite:
    def __init__(self, args):
        self.args = args
        self.tmp = args.tmp
        self.redis = RedisServer(args.redis_server, args.tmp)
        self.relay = None
        self.key = "test:%08x" % random.getrandbits(32)
        self.instances = {}
        self.history = {}   # topic -> [(id, data)] answered 2xx, in id order
        self.passed = 0
        self.failed = 0

    def run(self, name, function):
        try:
            function()
            self.passed += 1
            print("   ok: " + name, flush=True)
        except CheckFailed as failure:
            self.failed += 1
            print("   FAILED: %s\n      %s" % (name, failure), flush=True)
        except Exception as error:  # a broken check is a failure, not a crash
            self.failed += 1
            print("   FAILED: %s\n      %s: %s" % (name, type(error).__name__, error), flush=True)

    def start_instance(self, name, port=0, extra=(), redis_port=None):
        instance = Instance(name, self.args.server_bin, self.tmp, redis_port or self.redis.port, self.key,
                            port, extra)
        self.instances[name] = instance
        return instance

    def publish(self, instance, topic, data):
        event_id = publish_ok(instance, topic, data)
        self.history.setdefault(topic, []).append((event_id, data))
        return event_id

    def sentinel(self, instance, topic, subscribers):
        """Publishes a last event; returns each subscriber's events before it."""
        event_id = self.publish(instance, topic, "sentinel")
        return [s.wait_for_id(event_id) for s in subscribers]

    def expect_refused_while_down(self, instance, topic):
        """Publishes until instance answers 503; a 2xx meanwhile is an accepted event."""
        def refused():
            status, event_id, body = instance.publish(topic, "while down")
            if status == 200 and event_id:
                self.history.setdefault(topic, []).append((event_id, "while down"))
                return False
            expect(status == 503, "%s: publish while its Redis link is down answered %s %r"
                   % (instance.name, status, body))
            return True
        wait_until(refused, "%s to answer 503 to a publish while its Redis link is down" % instance.name)
        instance.wait_health(503)
        status, body = instance.request("GET", "/healthz")
        expect(status == 503 and "redis unavailable" in body,
               "%s /healthz while its Redis link is down: %s %r" % (instance.name, status, body))
        expect(instance.metric("sse_redis_up") == 0, "%s sse_redis_up is not 0 while its link is down" % instance.name)
        status, _, body = instance.publish(topic, "refused")
        expect(status == 503, "%s: publish while its Redis link is down answered %s %r" % (instance.name, status, body))

    # set-up, itself a check so a broken environment is reported plainly
    def setup(self):
        self.redis.start()
        self.relay = LinkRelay(self.redis.port)
        a = self.start_instance("A", redis_port=self.relay.port)
        b = self.start_instance("B")
        for instance in (a, b):
            instance.wait_health(200)
            expect(instance.metric("sse_redis_up") == 1, "%s: sse_redis_up is not 1" % instance.name)

    # 1.
    def publish_on_a_receive_on_b(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "cross"
        on_b = Subscriber(b.port, topic, name="subscriber on B")
        on_a = Subscriber(a.port, topic, name="subscriber on A")
        event_id = self.publish(a, topic, "from A")
        for sub in (on_b, on_a):
            got = sub.wait_count(1)
            expect(got[0]["id"] == event_id and got[0]["data"] == "from A",
                   "%s: expected id %s data 'from A' (A's answer), got %s" % (sub.name, event_id, got[0]))
        event_id = self.publish(b, topic, "from B")
        got = on_a.wait_count(2)
        expect(got[1]["id"] == event_id, "subscriber on A: expected id %s (B's answer), got %s" % (event_id, got[1]))
        expected = list(self.history[topic])
        for sub, events in zip((on_a, on_b), self.sentinel(a, topic, [on_a, on_b])):
            expect_exactly(sub, events, expected)
        on_a.close()
        on_b.close()

    # 1b.
    def pause_travels(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "paused"
        on_a = Subscriber(a.port, topic, name="subscriber on A")
        on_b = Subscriber(b.port, topic, name="subscriber on B")
        status, body = http_request(a.port, "POST", "/publish?topic=%s&retry=2000&close=1" % topic, b"pause")
        match = re.match(r'\{"id":"([0-9]+-[0-9]+)"', body) if status == 200 else None
        expect(match, "POST /publish?...&retry=2000&close=1 on A: expected 200 with an id, got %s %r" % (status, body))
        pause_id = match.group(1)
        self.history.setdefault(topic, []).append((pause_id, "pause"))
        for sub in (on_a, on_b):
            got = sub.wait_count(1)
            expect(got[0]["id"] == pause_id and got[0]["retry"] == "2000",
                   "%s: expected the pause %s with retry: 2000, got %s" % (sub.name, pause_id, got[0]))
            wait_until(lambda: sub.closed, "%s's stream closed by the pause" % sub.name)
        # Away meanwhile: one event. Each comes back, to the other instance,
        # and gets exactly that one, then the sentinel.
        self.publish(b, topic, "while paused")
        back_on_b = Subscriber(b.port, topic, last_event_id=pause_id, name="came back on B")
        back_on_a = Subscriber(a.port, topic, last_event_id=pause_id, name="came back on A")
        expected = [e for e in self.history[topic] if e[1] == "while paused"]
        for sub, events in zip((back_on_b, back_on_a), self.sentinel(a, topic, [back_on_b, back_on_a])):
            expect_exactly(sub, events, expected)
        for sub in (on_a, on_b, back_on_a, back_on_b):
            sub.close()

    # 5c.
    def reads_again_after_quiet(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "quiet"
        subs = [Subscriber(a.port, topic, name="one on A")]
        subs += [Subscriber(b.port, topic, name="B's %d" % i) for i in range(2)]
        subs += [Subscriber((a, b)[i % 2].port, topic, name="many %d" % i) for i in range(10)]
        for period in range(4):
            # Longer than one XREAD BLOCK with nothing new: every reader has
            # had an empty reply and must have asked again.
            time.sleep(READ_BLOCK_S + 1.0)
            event_id = self.publish((a, b)[period % 2], topic, "after quiet %d" % period)
            for sub in subs:
                sub.wait_for_id(event_id)
        expected = list(self.history[topic])
        for sub, events in zip(subs, self.sentinel(a, topic, subs)):
            expect_exactly(sub, events, expected)
        for sub in subs:
            sub.close()

    # 1c.
    def end_travels(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "ended-everywhere"
        self.publish(a, topic, "before the end")
        on_a = Subscriber(a.port, topic, name="subscriber on A")
        on_b = Subscriber(b.port, topic, name="subscriber on B")
        status, body = http_request(a.port, "DELETE", "/publish?topic=" + topic)
        expect(status == 200 and '"ended_streams"' in body, "DELETE on A answered %s %r" % (status, body))
        for sub in (on_a, on_b):
            wait_until(lambda: sub.closed, "%s's stream ended by the DELETE on A" % sub.name)
            sub.close()
        for instance in (a, b):
            status, _ = http_request(instance.port, "GET", "/latest/" + topic)
            expect(status == 204, "GET /latest/%s on %s after the end: %s, not 204" % (topic, instance.name, status))
        g = self.start_instance("G")
        g.wait_health(200)
        status, _ = http_request(g.port, "GET", "/latest/" + topic)
        expect(status == 204, "GET /latest/%s on an instance started after the end: %s, not 204" % (topic, status))
        # Publishing revives it everywhere, in stream order.
        self.publish(b, topic, "revived")
        wait_until(lambda: http_request(g.port, "HEAD", "/latest/" + topic)[0] == 200, "the topic revived on G")

    # 1d.
    def multi_topic_travels(self):
        a, b = self.instances["A"], self.instances["B"]
        only_x = Subscriber(b.port, "multi-x", name="stream of multi-x on B")
        only_y = Subscriber(b.port, "multi-y", name="stream of multi-y on B")
        status, body = http_request(a.port, "POST", "/publish?topic=multi-x&topic=multi-y", b"both")
        match = re.match(r'\{"id":"([0-9]+-[0-9]+)"', body) if status == 200 else None
        expect(match, "POST /publish?topic=multi-x&topic=multi-y on A answered %s %r" % (status, body))
        for sub, topic in ((only_x, "multi-x"), (only_y, "multi-y")):
            got = sub.wait_count(1)
            expect(got[0]["id"] == match.group(1) and got[0]["data"] == "both",
                   "%s: expected %s 'both', got %s" % (sub.name, match.group(1), got[0]))
            self.history.setdefault(topic, []).append((match.group(1), "both"))
            (before,) = self.sentinel(a, topic, [sub])
            expect_exactly(sub, before, [(match.group(1), "both")])
            sub.close()

    # 1e.
    def ttl_travels(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "expiring"
        kept = self.publish(a, topic, "kept")
        on_b = Subscriber(b.port, topic, name="subscriber on B")
        status, body = http_request(a.port, "POST", "/publish?topic=%s&ttl=1" % topic, b"brief")
        match = re.match(r'\{"id":"([0-9]+-[0-9]+)"', body) if status == 200 else None
        expect(match, "POST /publish?topic=%s&ttl=1 on A answered %s %r" % (topic, status, body))
        got = on_b.wait_count(1)
        expect(got[0]["id"] == match.group(1) and got[0]["data"] == "brief",
               "subscriber on B: expected the ttl event %s live, got %s" % (match.group(1), got[0]))
        on_b.close()
        # B read it (it was delivered there), so it held two events until
        # the expiry the entry carries, and then only "kept".
        wait_until(lambda: b.held(topic) == 1, "B to stop holding the expired event of '%s'" % topic)
        h = self.start_instance("H")
        h.wait_health(200)
        expect(h.held(topic) == 1, "an instance started after the expiry holds %d events of '%s', not 1"
               % (h.held(topic), topic))
        subs = []
        for instance in (b, h):
            subs.append(Subscriber(instance.port, topic, last_event_id=kept,
                                   name="resumed on %s after the expiry" % instance.name))
            subs.append(Subscriber(instance.port, topic + "?last=5", name="?last=5 on %s" % instance.name))
        for sub, before in zip(subs, self.sentinel(a, topic, subs)):
            expected = [(kept, "kept")] if "last" in sub.name else []
            expect_exactly(sub, before, expected)
            sub.close()

    # 1f.
    def idempotency_across_instances(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "once"
        subs = [Subscriber(a.port, topic, name="subscriber on A"), Subscriber(b.port, topic, name="subscriber on B")]
        key = {"Idempotency-Key": '"order-%08x"' % random.getrandbits(32)}
        path = "/publish?topic=" + topic
        status, first = http_request(a.port, "POST", path, b"exactly once", key)
        match = re.fullmatch(r'\{"id":"([0-9]+-[0-9]+)","queued":[0-9]+\}\s*', first) if status == 200 else None
        expect(match, "POST %s with an Idempotency-Key on A answered %s %r" % (path, status, first))
        self.history.setdefault(topic, []).append((match.group(1), "exactly once"))
        # The retry goes to B, as it would through a load balancer.
        status, again = http_request(b.port, "POST", path, b"exactly once", key)
        expect(status == 200 and again == first,
               "the same request and key on B: expected A's answer %r, got %s %r" % (first, status, again))
        status, other = http_request(b.port, "POST", path, b"another body", key)
        expect(status == 422, "the same key with another body on B: expected 422, got %s %r" % (status, other))
        expected = list(self.history[topic])
        for sub, events in zip(subs, self.sentinel(a, topic, subs)):
            expect_exactly(sub, events, expected)
        for sub in subs:
            sub.close()

    # 1g.
    def presence_across_instances(self):
        interval = ["--presence-interval-ms", "200"]
        p1, p2, p3 = (self.start_instance(name, extra=interval) for name in ("P1", "P2", "P3"))
        for instance in (p1, p2, p3):
            instance.wait_health(200)
        watchers = [PresenceWatcher(p1, ["room", "hall"], "watcher on P1"),
                    PresenceWatcher(p2, ["room"], "watcher on P2")]
        streams = {p1: 2, p2: 3, p3: 1}
        subs = [Subscriber(p.port, "room", name="room on " + p.name) for p, n in streams.items() for _ in range(n)]
        for watcher in watchers:
            watcher.wait_counts({"room": 6}, "2 on P1 + 3 on P2 + 1 on P3")
        expect(watchers[0].counts().get("hall") == 0, "hall: %s" % watchers[0].counts())
        # Churn on a topic nobody watches is not even reported to Redis.
        elsewhere = [Subscriber(p2.port, "elsewhere", name="elsewhere on P2") for _ in range(5)]
        late = PresenceWatcher(p3, ["room"], "late watcher on P3")
        late.wait_counts({"room": 6}, "every instance's count, learnt through Redis")
        reports = redis_command(self.redis.port, "HGETALL", self.key + ":presence")
        expect(isinstance(reports, list) and len(reports) >= 6, "presence reports in redis: %r" % (reports,))
        expect(not any("elsewhere" in r for r in reports), "an unwatched topic was reported: %r" % (reports,))
        for sub in elsewhere:
            sub.close()
        # An instance killed outright stops being counted once its lease
        # (3 intervals) ends and a watcher's instance next exchanges.
        killed_at = time.monotonic()
        os.kill(p3.proc.pid, signal.SIGKILL)
        p3.proc.wait(timeout=DEADLINE_S)
        for watcher in watchers:
            watcher.wait_counts({"room": 5}, "P3 killed")
        print("      P3 killed: its stream left the count after %.2f s (lease 0.6 s + interval 0.2 s)"
              % (time.monotonic() - killed_at), flush=True)
        # One stopped cleanly withdraws at once, before its streams have
        # finished closing.
        stopped_at = time.monotonic()
        p2.proc.send_signal(signal.SIGTERM)
        watchers[0].wait_counts({"room": 2}, "P2 stopped")
        print("      P2 stopped: its streams left the count after %.2f s" % (time.monotonic() - stopped_at), flush=True)
        p2.proc.wait(SHUTDOWN_DEADLINE_S)
        expect(p2.proc.returncode == 0, "P2 exited with status %s on SIGTERM" % p2.proc.returncode)
        for sub in subs[:2]:
            sub.close()
        watchers[0].wait_counts({"room": 0}, "every stream closed")
        for closable in watchers + subs + [late]:
            closable.close()
        del self.instances["P2"], self.instances["P3"]

    # 2.
    def move_from_a_to_b(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "moving"
        first = Subscriber(a.port, topic, name="first stream (on A)")
        for i in range(3):
            self.publish((a, b)[i % 2], topic, "seen %d" % i)
        seen = first.wait_count(3)
        expect_exactly(first, seen, self.history[topic])
        first.close()
        for i, instance in enumerate((a, b, a, b)):
            self.publish(instance, topic, "missed %d" % i)
        missed = self.history[topic][3:]
        # The client moves once B holds what was published (B learns of A's
        # events through XREAD, a moment after A answered).
        wait_until(lambda: b.last_id(topic) == missed[-1][0], "B to hold the newest event of '%s'" % topic)
        second = Subscriber(b.port, topic, last_event_id=seen[-1]["id"], name="resumed stream (on B)")
        expect_exactly(second, second.wait_count(len(missed)), missed)
        for i, instance in enumerate((a, b)):
            self.publish(instance, topic, "live %d" % i)
        expected = self.history[topic][3:]
        (before,) = self.sentinel(b, topic, [second])
        expect_exactly(second, before, expected)
        second.close()

    # 3.
    def redis_restart(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "restart"
        subs = [Subscriber(a.port, topic, name="subscriber on A"), Subscriber(b.port, topic, name="subscriber on B")]
        for i in range(4):
            self.publish((a, b)[i % 2], topic, "before %d" % i)
        for sub in subs:
            sub.wait_count(4)
        self.redis.stop()
        for instance in (a, b):
            self.expect_refused_while_down(instance, topic)
        for sub in subs:
            expect(not sub.closed, "%s: stream closed while Redis was down" % sub.name)
        self.redis.start()
        for instance in (a, b):
            instance.wait_health(200)
            expect(instance.metric("sse_redis_up") == 1, "%s sse_redis_up is not 1 after the restart" % instance.name)
            expect(instance.metric("sse_redis_reconnects_total") >= 2,
                   "%s: sse_redis_reconnects_total < 2 after the restart" % instance.name)
        for i in range(4):
            self.publish((b, a)[i % 2], topic, "after %d" % i)
        expected = list(self.history[topic])
        for sub, before in zip(subs, self.sentinel(a, topic, subs)):
            expect_exactly(sub, before, expected)
        for sub in subs:
            sub.close()

    # 3b.
    def link_cut_resumes(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "cut"
        subs = [Subscriber(a.port, topic, name="subscriber on A"), Subscriber(b.port, topic, name="subscriber on B")]
        self.publish(a, topic, "before")
        for sub in subs:
            sub.wait_count(1)
        self.relay.cut()
        self.expect_refused_while_down(a, topic)
        for i in range(3):   # Redis is up: B keeps publishing
            self.publish(b, topic, "while A is cut off %d" % i)
        expect(not subs[0].closed, "subscriber on A: stream closed while A's link was down")
        self.relay.restore()
        a.wait_health(200)
        self.publish(a, topic, "after")
        expected = list(self.history[topic])
        for sub, before in zip(subs, self.sentinel(b, topic, subs)):
            expect_exactly(sub, before, expected)
        for sub in subs:
            sub.close()

    # 3c.
    def move_to_instance_behind(self):
        a, b = self.instances["A"], self.instances["B"]
        topic = "ahead"
        on_b = Subscriber(b.port, topic, name="first stream (on B)")
        self.publish(b, topic, "known to both")
        on_b.wait_count(1)
        a.wait_health(200)
        wait_until(lambda: a.last_id(topic) == self.history[topic][-1][0], "A to hold the first event of '%s'" % topic)
        self.relay.cut()   # A falls behind: it cannot read what B publishes now
        self.expect_refused_while_down(a, topic)
        for i in range(3):
            self.publish(b, topic, "A has not read this %d" % i)
        seen = on_b.wait_count(4)
        on_b.close()
        # The client moves to A with an id A has not read yet: A must take it
        # as "ahead of me", not as unknown, and skip what the client has seen.
        moved = Subscriber(a.port, topic, last_event_id=seen[-1]["id"], name="moved stream (on A, behind)")
        self.relay.restore()
        a.wait_health(200)
        self.publish(b, topic, "new after the move")
        expected = self.history[topic][4:]
        (before,) = self.sentinel(a, topic, [moved])
        expect_exactly(moved, before, expected)
        moved.close()

    # 4.
    def late_instance_replays(self):
        c = self.start_instance("C")
        c.wait_health(200)
        for topic, early in (("moving", 1), ("restart", 2)):
            later = self.history[topic][early + 1:]
            sub = Subscriber(c.port, topic, last_event_id=self.history[topic][early][0],
                             name="stream on C (%s)" % topic)
            expect_exactly(sub, sub.wait_count(len(later)), later)
            (before,) = self.sentinel(self.instances["A"], topic, [sub])
            expect_exactly(sub, before, later)
            sub.close()
        # Without Last-Event-ID a stream starts at the next event.
        sub = Subscriber(c.port, "moving", name="fresh stream on C")
        (before,) = self.sentinel(c, "moving", [sub])
        expect(before == [], "fresh stream on C: got events before the live one: %s" % before)
        sub.close()

    # 5.
    def reuse_port(self):
        port = free_port()
        d = self.start_instance("D", port, ["--reuse-port"])
        e = self.start_instance("E", port, ["--reuse-port"])
        expect(d.port == port and e.port == port, "D and E listen on %d and %d, not %d" % (d.port, e.port, port))
        expect(d.alive() and e.alive(), "an instance on the shared port exited: %s / %s" % (d.log_tail(), e.log_tail()))
        # Each connection lands on either instance; one still loading the
        # stream answers 503 (with Retry-After), which a client retries.
        wait_until(lambda: all(http_request(port, "GET", "/healthz")[0] == 200 for _ in range(8)),
                   "eight /healthz in a row answered 200 through the shared port", REDIS_DEADLINE_S)
        topic = "shared"
        subs = [Subscriber(port, topic, name="shared-port subscriber %d" % i) for i in range(4)]
        published = []
        for i in range(4):
            data = "shared %d" % i
            event_id = wait_until(lambda data=data: self._publish_retrying_503(port, topic, data),
                                  "a 2xx publish through the shared port", REDIS_DEADLINE_S)
            published.append((event_id, data))
        for sub in subs:
            expect_exactly(sub, sub.wait_count(len(published)), published)
        expect(d.alive() and e.alive(), "an instance on the shared port exited")
        for sub in subs:
            sub.close()

    @staticmethod
    def _publish_retrying_503(port, topic, data):
        status, event_id, body = publish(port, topic, data)
        expect(status in (200, 503), "publish through the shared port answered %s %r" % (status, body))
        return event_id if status == 200 else None

    # 5b. the control: without --reuse-port the same port is refused
    def reuse_port_needed(self):
        port = self.instances["D"].port
        argv = [self.args.server_bin, "--port", str(port), "--bind", "127.0.0.1", "--no-demo"]
        log_path = os.path.join(self.tmp, "sse-server-F.log")
        proc = PROCS.spawn(argv, log_path)
        try:
            status = proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise CheckFailed("an instance without --reuse-port also runs on port %d" % port)
        with open(log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace").strip()
        expect(status != 0 and "in use" in log,
               "without --reuse-port: expected a non-zero exit and 'Address already in use', got %s %r"
               % (status, log))

    # 6.
    def clean_shutdown(self):
        for name, instance in self.instances.items():
            expect(instance.alive(), "instance %s had exited (status %s): %s"
                   % (name, instance.proc.returncode, instance.log_tail()))
            status = PROCS.stop(instance.proc)
            expect(status == 0, "instance %s exited with status %s on SIGTERM: %s" % (name, status, instance.log_tail()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-server", required=True)
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--server-bin", default=os.environ.get("SSE_SERVER_BIN", "./sse-server"))
    args = parser.parse_args()
    # run.sh's trap stops us with SIGTERM: unwind, so the children are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    suite = Suite(args)
    try:
        suite.run("set-up: redis-server and instances A (through a relay) and B up", suite.setup)
        if suite.failed:
            print("%d passed, %d failed" % (suite.passed, suite.failed + CHECK_COUNT))
            return 1
        suite.run("1. publish on A is received on B with A's id", suite.publish_on_a_receive_on_b)
        suite.run("1b. a pause published on A closes the streams on A and B; they resume, nothing lost",
                  suite.pause_travels)
        suite.run("1c. DELETE on A ends the topic on A and B, and on an instance started later", suite.end_travels)
        suite.run("1d. one event to two topics through A reaches B's stream of each, once", suite.multi_topic_travels)
        suite.run("1e. a ttl=1 event from A is live on B, then replayed by neither B nor a later instance, "
                  "with no reset", suite.ttl_travels)
        suite.run("1f. an Idempotency-Key on A, then on B: B answers A's id, the event is published once",
                  suite.idempotency_across_instances)
        suite.run("1g. presence summed over three instances; a killed one stops counting, so does a stopped one",
                  suite.presence_across_instances)
        suite.run("2. a client moved from A to B with Last-Event-ID: no gap, no duplicate", suite.move_from_a_to_b)
        suite.run("3. Redis restarted mid-stream: 503 while down, then nothing lost", suite.redis_restart)
        suite.run("3b. A's link alone cut while B publishes: A resumes, nothing lost", suite.link_cut_resumes)
        suite.run("3c. a client moves to an instance that has not read its id yet: no reset, no duplicate",
                  suite.move_to_instance_behind)
        suite.run("4. an instance started late replays the stream's history", suite.late_instance_replays)
        suite.run("5. --reuse-port: two instances share one port and one stream", suite.reuse_port)
        suite.run("5b. without --reuse-port the shared port is refused", suite.reuse_port_needed)
        suite.run("5c. quiet for longer than an XREAD BLOCK, 4 times: every event still reaches 1, 2 and 10 "
                  "subscribers", suite.reads_again_after_quiet)
        suite.run("6. every instance exits 0 on SIGTERM", suite.clean_shutdown)
    finally:
        PROCS.stop_all()
        if suite.relay:
            suite.relay.cut()
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
