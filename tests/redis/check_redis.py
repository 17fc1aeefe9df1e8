#!/usr/bin/env python3
"""Several sse-server instances sharing one Redis Stream, against a real
redis-server: cross-instance delivery, resuming on another instance, Redis
restarts, late instances and SO_REUSEPORT.

Usage: check_redis.py SSE_SERVER_BIN REDIS_SERVER_BIN WORKDIR
Every wait has a deadline; nothing here asserts on time. Prints one line
per check and ends with "N passed, M failed".
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

GUARD = 10.0  # seconds: a guard against a hung peer, never a measurement

SERVER, REDIS, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
KEY = "test:%d" % random.randrange(1 << 30)
passed = failed = 0
processes = []


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("   ok: " + name)
    else:
        failed += 1
        print("   FAILED: " + name + (" (" + detail + ")" if detail else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port):
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", WORK,
                             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                             "--daemonize", "no", "--protected-mode", "no"],
                            stdout=open(os.path.join(WORK, "redis.log"), "a"), stderr=subprocess.STDOUT)
    processes.append(proc)
    deadline = time.time() + GUARD
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_server(redis_port, extra=()):
    args = [SERVER, "--port", "0", "--bind", "127.0.0.1", "--no-demo", "--quiet",
            "--redis", "127.0.0.1:%d" % redis_port, "--redis-key", KEY] + list(extra)
    if "--port" in extra:  # a fixed port given by the caller replaces "--port 0"
        args = [a for i, a in enumerate(args) if not (i in (1, 2))]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=None)
    processes.append(proc)
    line = proc.stdout.readline().decode()
    if "listening on" not in line:
        raise RuntimeError("sse-server did not start: " + line)
    port = int(line.strip().rsplit(":", 1)[1])
    wait_healthy(port)
    return proc, port


def http(port, method, target, body=b"", headers=""):
    with socket.create_connection(("127.0.0.1", port), timeout=GUARD) as s:
        s.sendall(("%s %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n"
                   % (method, target, headers, len(body))).encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload.decode()


def wait_healthy(port, want=200):
    deadline = time.time() + GUARD
    while time.time() < deadline:
        try:
            if http(port, "GET", "/healthz")[0] == want:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def publish(port, topic, data):
    status, body = http(port, "POST", "/publish?topic=" + topic, data.encode())
    return status, (json.loads(body)["id"] if status == 200 else None)


class Stream:
    """One text/event-stream reader over a raw socket."""

    def __init__(self, port, target, last_event_id=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
        extra = "Last-Event-ID: %s\r\n" % last_event_id if last_event_id else ""
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: a\r\n%s\r\n" % (target, extra)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split()[1])

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("stream closed")
        return chunk

    def next_event(self):
        """(id, data, type) of the next event with data; skips retry and comments."""
        while True:
            while b"\n\n" not in self.buf:
                self.buf += self._recv()
            block, _, self.buf = self.buf.partition(b"\n\n")
            fields = {"data": [], "id": None, "event": ""}
            for line in block.decode().split("\n"):
                if not line or line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    fields["data"].append(value)
                elif name in ("id", "event"):
                    fields[name] = value
            if fields["data"]:
                return fields["id"], "\n".join(fields["data"]), fields["event"]

    def close(self):
        self.sock.close()


def main():
    redis_port = free_port()
    redis = start_redis(redis_port)
    _, a = start_server(redis_port)
    _, b = start_server(redis_port)

    # 1. Publish on A, receive on B with the same id.
    on_b = Stream(b, "/latest/news")
    status, id1 = publish(a, "news", "one")
    got = on_b.next_event()
    check("publish on A reaches a subscriber on B with the same id", status == 200 and got[:2] == (id1, "one"),
          "%s %s" % (status, got))

    # 2. A client moves from A to B with its Last-Event-ID: no gap, no duplicate.
    on_a = Stream(a, "/latest/move")
    sent = [publish(a, "move", "m%d" % i)[1] for i in range(3)]
    seen = [on_a.next_event()[0] for _ in range(3)]
    on_a.close()
    for i in range(3, 8):
        sent.append(publish(a if i % 2 else b, "move", "m%d" % i)[1])
    moved = Stream(b, "/latest/move", last_event_id=seen[-1])
    resumed = [moved.next_event()[0] for _ in range(5)]
    sent.append(publish(a, "move", "live")[1])
    live = moved.next_event()
    check("a client moved from A to B resumes exactly", seen == sent[:3] and resumed == sent[3:8]
          and live[0] == sent[8], "seen %s resumed %s expected %s" % (seen, resumed, sent))

    # 3. Redis restarted mid-stream: 503 while down, nothing lost after.
    sub_a, sub_b = Stream(a, "/latest/r"), Stream(b, "/latest/r")
    accepted = []
    for i in range(3):
        status, event_id = publish(a, "r", "r%d" % i)
        accepted.append(event_id)
    redis.send_signal(signal.SIGTERM)
    redis.wait(timeout=GUARD)
    down_status = publish(a, "r", "while-down")[0]
    check("publish while Redis is down gets 503", down_status == 503, str(down_status))
    check("/healthz says 503 while Redis is down", wait_healthy(a, 503))
    redis = start_redis(redis_port)
    check("the instances reconnect (healthz 200 again)", wait_healthy(a) and wait_healthy(b))
    for i in range(3, 6):
        status, event_id = publish(b, "r", "r%d" % i)
        if status == 200:
            accepted.append(event_id)
    for name, sub in (("A", sub_a), ("B", sub_b)):
        ids = [sub.next_event()[0] for _ in range(len(accepted))]
        check("subscriber on %s got every accepted event once, in order, across the restart" % name,
              ids == accepted, "got %s expected %s" % (ids, accepted))

    # 4. An instance started late replays history from the stream.
    _, c = start_server(redis_port)
    late = Stream(c, "/latest/move", last_event_id=sent[2])
    replayed = [late.next_event()[0] for _ in range(6)]
    check("an instance started late replays history", replayed == sent[3:9],
          "got %s expected %s" % (replayed, sent[3:9]))

    # 5. Two instances share one port with --reuse-port.
    shared = free_port()
    _, p1 = start_server(redis_port, ["--port", str(shared), "--reuse-port"])
    proc2, p2 = start_server(redis_port, ["--port", str(shared), "--reuse-port"])
    check("two instances listen on one port with --reuse-port", p1 == p2 == shared and proc2.poll() is None)
    subs = [Stream(shared, "/latest/shared") for _ in range(4)]
    status, shared_id = publish(shared, "shared", "both")
    ids = [s.next_event()[0] for s in subs]
    check("a publish through the shared port reaches every subscriber", ids == [shared_id] * 4, str(ids))


try:
    main()
except Exception as error:  # a check that could not run counts as failed
    check("the checks ran to the end", False, repr(error))
finally:
    for proc in reversed(processes):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=GUARD)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)
