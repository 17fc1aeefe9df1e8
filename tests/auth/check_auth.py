#!/usr/bin/env python3
"""Private topics against tokens minted by PyJWT, a real JWT library.

    check_auth.py --tmp DIR [--server-bin PATH]

Started by tests/auth/run.sh, which makes DIR. This script writes two HS256
key files into DIR and starts its own sse-server with both (rotation), a
random --publish-token (so a loopback peer no longer publishes freely and a
publish grant is what lets a token publish), --public news and
--jwt-audience sse-test, leaving --jwt-leeway at its default (5 s). Then:

  1. a PyJWT HS256 token (exp, nbf, iat, aud, sse.subscribe) opens a private
     stream (200, text/event-stream) that receives an event published to
     it, from each place a token may come in: Authorization: Bearer, the
     sse_token cookie, ?access_token=;
  2. no token: 401 with WWW-Authenticate: Bearer (news stays public); a
     valid token that does not grant the topic: 403; patterns in the grant
     cover pattern streams and ?type= lists;
  3. a token whose sse.publish covers a topic publishes to it; one that
     grants only subscribe, or another topic, is answered 403;
  4. refused with 401, both to subscribe and to publish: a tampered payload,
     a tampered signature, a key the server does not have, exp in the past
     beyond the leeway, nbf in the future, another audience, no audience,
     alg none (PyJWT's own and one written by hand), a real RS256 token
     (python3-cryptography; by hand without it), an RS256 header over an
     HS256 signature, PyJWT's HS384 and HS512, a token over 4096 bytes
     (and, as its control, one just under is accepted); within the leeway
     exp and nbf are accepted;
  5. key rotation: a token signed with the second key file is accepted;
  6. no answer body, streams included, ever contains a token;
  7. the server exits 0 on SIGTERM (under ASan: no leak, no error).

Every wait has a deadline; nothing asserts how long anything took. Prints
"N passed, M failed"; exits 1 on any failure. The server is stopped by pid
on exit.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import jwt

try:
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:  # the RS256 token is then written by hand
    rsa = None

DEADLINE_S = 15.0
SHUTDOWN_DEADLINE_S = 10.0
AUDIENCE = "sse-test"
MAX_TOKEN_BYTES = 4096    # kMaxTokenBytes in src/auth/jwt.h
LEEWAY_S = 5              # the default --jwt-leeway
PRIVATE = "user.42.orders"
GRANT = "user.42.**"


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


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


# ------------------------------------------------------------------- tokens

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# Every token this script made, so no answer may contain one (check 6).
TOKENS = []


def remember(token):
    TOKENS.append(token)
    return token


def claims(subscribe=(GRANT,), publish=(GRANT,), **changes):
    """The claims of a token valid for ten minutes; a change to None removes a claim."""
    now = int(time.time())
    body = {"sub": "alice", "iat": now, "nbf": now, "exp": now + 600, "aud": AUDIENCE,
            "sse": {"subscribe": list(subscribe), "publish": list(publish)}}
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def mint(key, algorithm="HS256", **claim_changes):
    """A token signed by PyJWT."""
    return remember(jwt.encode(claims(**claim_changes), key, algorithm=algorithm))


def by_hand(header, payload, signature=b""):
    """A token written without the library: base64url(header).base64url(payload).base64url(signature)."""
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    return remember("%s.%s.%s" % (head, body, b64url(signature)))


def hs256_by_hand(header, payload, key):
    """Like by_hand, with a real HMAC-SHA-256 signature under key."""
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return remember("%s.%s.%s" % (head, body, b64url(signature)))


def tampered_payload(token):
    """The same header and signature over a payload that grants everything."""
    head, payload, signature = token.split(".")
    body = json.loads(b64url_decode(payload))
    body["sub"] = "mallory"
    body["sse"] = {"subscribe": ["**"], "publish": ["**"]}
    return remember("%s.%s.%s" % (head, b64url(json.dumps(body, separators=(",", ":")).encode()), signature))


def tampered_signature(token):
    """The same header and payload; one bit of the signature flipped."""
    head, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return remember("%s.%s.%s" % (head, payload, b64url(bytes(raw))))


def sized(key, low, high):
    """A PyJWT HS256 token of low < length <= high bytes, padded by a claim."""
    pad = 0
    while True:
        token = jwt.encode(claims(pad="p" * pad), key, algorithm="HS256")
        if len(token) > low:
            expect(len(token) <= high, "could not size a token into (%d, %d]: %d" % (low, high, len(token)))
            return remember(token)
        pad += max(1, (low + 1 - len(token)) * 3 // 4)


def rs256(payload):
    """A real RS256 token from PyJWT with a throwaway RSA key, or by hand."""
    if rsa is None:
        return by_hand({"alg": "RS256", "typ": "JWT"}, payload, secrets.token_bytes(256)), "written by hand"
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return remember(jwt.encode(payload, private_key, algorithm="RS256")), "PyJWT with a fresh RSA-2048 key"


# ---------------------------------------------------------------- the server

class Server:
    """One sse-server process; its port comes from its 'listening on' line."""

    LISTENING = re.compile(rb"listening on http://[^\s]*:(\d+)")

    def __init__(self, binary, tmp, flags):
        self.log_path = os.path.join(tmp, "sse-server.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([binary, "--port", "0", "--bind", "127.0.0.1", "--no-demo"] + flags,
                                         stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        self.port = self._read_port()
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
        raise CheckFailed("sse-server printed no 'listening on' line (exit status %s): %s"
                          % (self.proc.poll(), self.log_tail()))

    def _drain(self):
        # Keep reading stdout so the server never blocks on a full pipe.
        try:
            while self.proc.stdout.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-800:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM by pid, SIGKILL after the deadline; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(SHUTDOWN_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# Every body the server answered, streams included, for check 6.
BODIES = []


def request(port, method, path, headers=None, body=None):
    """One request on a fresh connection; (status, headers, body text).

    A stream's body is not read (it would not end): its status and head
    are enough for a refusal check."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        if response.getheader("Content-Type", "").startswith("text/event-stream"):
            return response.status, response, ""
        text = response.read().decode("utf-8", "replace")
        BODIES.append(text)
        return response.status, response, text
    finally:
        conn.close()


def bearer(token):
    return {"Authorization": "Bearer " + token}


class Stream:
    """A raw-socket event stream, read in a thread into (id, event, data)."""

    def __init__(self, port, path, headers=None, name="stream"):
        self.name = name
        self.status = None
        self.headers = {}
        self.raw = b""
        self.events = []
        self.closed = False
        self.cond = threading.Condition()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" % path
        for field, value in (headers or {}).items():
            head += "%s: %s\r\n" % (field, value)
        self.sock.sendall((head + "\r\n").encode())
        self.sock.settimeout(None)
        threading.Thread(target=self._run, daemon=True).start()
        with self.cond:
            end = time.monotonic() + DEADLINE_S
            while self.status is None and not self.closed and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
        expect(self.status is not None, "%s: no answer to GET %s" % (name, path[:80]))

    def _run(self):
        buffer = b""
        fields = {}
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                with self.cond:
                    self.raw += chunk
                buffer += chunk
                if self.status is None:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    lines = buffer[:end].decode("latin-1").split("\r\n")
                    with self.cond:
                        self.headers = {k.strip().lower(): v.strip()
                                        for k, _, v in (line.partition(":") for line in lines[1:])}
                        self.status = int(lines[0].split()[1])
                        self.cond.notify_all()
                    buffer = buffer[end + 4:]
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    line = line.rstrip(b"\r").decode("utf-8", "replace")
                    if line == "":
                        if "data" in fields:
                            with self.cond:
                                self.events.append({"id": fields.get("id"), "event": fields.get("event", ""),
                                                    "data": "\n".join(fields["data"])})
                                self.cond.notify_all()
                        fields = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if key == "data":
                            fields.setdefault("data", []).append(value)
                        elif key in ("id", "event"):
                            fields[key] = value
        except OSError:
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def expect_open(self):
        """200 and text/event-stream, as an EventSource requires."""
        expect(self.status == 200, "%s: answered %s, not 200: %r" % (self.name, self.status, self.raw[:300]))
        kind = self.headers.get("content-type", "")
        expect(kind.startswith("text/event-stream"), "%s: Content-Type %r" % (self.name, kind))

    def wait_for_id(self, event_id):
        """Waits for the event with id event_id and returns it."""
        end = time.monotonic() + DEADLINE_S
        with self.cond:
            while True:
                for event in self.events:
                    if event["id"] == event_id:
                        return event
                left = end - time.monotonic()
                expect(not self.closed, "%s: stream closed before event %s; got %s" % (self.name, event_id, self.events))
                expect(left > 0, "%s: event %s not received within %.0f s; got %s"
                       % (self.name, event_id, DEADLINE_S, self.events))
                self.cond.wait(left)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.cond:
            BODIES.append(self.raw.decode("utf-8", "replace"))


# ------------------------------------------------------------------- checks

class Suite:
    def __init__(self, args):
        self.args = args
        self.keys = [secrets.token_urlsafe(36), secrets.token_urlsafe(36)]   # 48 bytes each
        self.stranger_key = secrets.token_urlsafe(36)
        self.operator = secrets.token_hex(16)
        self.server = None
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

    @property
    def port(self):
        return self.server.port

    def publish(self, topic, data, headers=None):
        """POST /publish as the operator unless headers say otherwise; the event's id."""
        status, _, body = request(self.port, "POST", "/publish?topic=" + topic,
                                  headers or {"Authorization": "Bearer " + self.operator}, data.encode())
        match = re.match(r'\{"id":"([0-9]+-[0-9]+)"', body) if status == 200 else None
        expect(match, "POST /publish?topic=%s: expected 200 {\"id\":...}, got %s %r" % (topic, status, body))
        return match.group(1)

    def expect_receives(self, path, headers, topic, name):
        """A stream on path opens and receives an event published to topic."""
        stream = Stream(self.port, path, headers, name)
        try:
            stream.expect_open()
            data = "for %s" % name
            event = stream.wait_for_id(self.publish(topic, data))
            expect(event["data"] == data, "%s: expected data %r, got %r" % (name, data, event))
        finally:
            stream.close()

    def expect_refused(self, token, what):
        """token is answered 401 to subscribe and to publish, and never echoed."""
        status, response, body = request(self.port, "GET", "/latest/" + PRIVATE, bearer(token))
        expect(status == 401, "%s: GET /latest/%s answered %s, not 401: %r" % (what, PRIVATE, status, body[:200]))
        challenge = response.getheader("WWW-Authenticate")
        expect(challenge == "Bearer", "%s: WWW-Authenticate %r, not 'Bearer'" % (what, challenge))
        expect_not_echoed(token, body, what)
        status, _, body = request(self.port, "POST", "/publish?topic=" + PRIVATE, bearer(token), b"forged")
        expect(status == 401, "%s: POST /publish?topic=%s answered %s, not 401: %r"
               % (what, PRIVATE, status, body[:200]))
        expect_not_echoed(token, body, what)

    # set-up, itself a check so a broken environment is reported plainly
    def setup(self):
        files = []
        for index, key in enumerate(self.keys):
            path = os.path.join(self.args.tmp, "key%d" % index)
            with open(path, "w") as f:
                f.write(key + "\n")
            files += ["--jwt-key-file", path]
        flags = files + ["--publish-token", self.operator, "--public", "news", "--jwt-audience", AUDIENCE]
        self.server = Server(self.args.server_bin, self.args.tmp, flags)
        # The library reads back what it wrote: these are real PyJWT tokens.
        token = mint(self.keys[0])
        decoded = jwt.decode(token, self.keys[0], algorithms=["HS256"], audience=AUDIENCE)
        expect(decoded["sse"]["subscribe"] == [GRANT], "PyJWT did not read back its own token: %s" % decoded)

    # 1.
    def bearer_source(self):
        self.expect_receives("/latest/" + PRIVATE, bearer(mint(self.keys[0])), PRIVATE, "Bearer stream")

    def cookie_source(self):
        cookie = "theme=dark; sse_token=%s; lang=en" % mint(self.keys[0])
        self.expect_receives("/latest/" + PRIVATE, {"Cookie": cookie}, PRIVATE, "cookie stream")

    def query_source(self):
        path = "/latest/%s?access_token=%s" % (PRIVATE, mint(self.keys[0]))
        self.expect_receives(path, {}, PRIVATE, "?access_token= stream")

    def fractional_times(self):
        """PyJWT's common idiom: exp = time.time() + 600, a fraction (RFC 7519
        allows any JSON number); and the RFC 9068 typ at+jwt."""
        now = time.time()
        token = remember(jwt.encode(claims(exp=now + 600, nbf=now - 1.5, iat=now), self.keys[0], algorithm="HS256"))
        self.expect_receives("/latest/" + PRIVATE, bearer(token), PRIVATE, "fractional exp stream")
        at_jwt = remember(jwt.encode(claims(), self.keys[0], algorithm="HS256", headers={"typ": "at+jwt"}))
        self.expect_receives("/latest/" + PRIVATE, bearer(at_jwt), PRIVATE, "typ at+jwt stream")
        expired = remember(jwt.encode(claims(exp=now - 30.5), self.keys[0], algorithm="HS256"))
        status, _, _ = request(self.port, "GET", "/latest/" + PRIVATE, bearer(expired))
        expect(status == 401, "a fractional exp 30.5 s ago answered %s, not 401" % status)

    # 2.
    def no_token(self):
        status, response, body = request(self.port, "GET", "/latest/" + PRIVATE)
        expect(status == 401, "no token: GET /latest/%s answered %s, not 401" % (PRIVATE, status))
        challenge = response.getheader("WWW-Authenticate")
        expect(challenge == "Bearer", "no token: WWW-Authenticate %r, not 'Bearer'" % challenge)
        self.expect_receives("/latest/news", {}, "news", "public stream without a token")

    def not_granted(self):
        token = mint(self.keys[0], subscribe=["user.43.*"])
        status, _, body = request(self.port, "GET", "/latest/" + PRIVATE, bearer(token))
        expect(status == 403, "a token granting user.43.*: GET /latest/%s answered %s, not 403: %r"
               % (PRIVATE, status, body[:200]))
        expect_not_echoed(token, body, "403")
        # A grant of user.42.** does not cover the wider pattern user.**.
        status, _, body = request(self.port, "GET", "/latest/user.**", bearer(mint(self.keys[0])))
        expect(status == 403, "a token granting %s: GET /latest/user.** answered %s, not 403" % (GRANT, status))

    def patterns(self):
        token = mint(self.keys[0])
        self.expect_receives("/latest/user.42.*", bearer(token), PRIVATE, "pattern stream user.42.*")
        stream = Stream(self.port, "/latest?type=news,%s" % PRIVATE, bearer(token), "?type=news,%s" % PRIVATE)
        try:
            stream.expect_open()
            for topic in ("news", PRIVATE):
                event = stream.wait_for_id(self.publish(topic, "on " + topic))
                expect(event["event"] == topic, "?type= stream: event %s arrived as %r" % (topic, event))
        finally:
            stream.close()

    # 3.
    def publish_grant(self):
        topic = "chat.room1"
        reader = Stream(self.port, "/latest/" + topic, bearer(mint(self.keys[0], subscribe=["chat.*"])), "chat reader")
        try:
            reader.expect_open()
            writer = mint(self.keys[0], subscribe=[], publish=["chat.*"])
            event = reader.wait_for_id(self.publish(topic, "from a token", bearer(writer)))
            expect(event["data"] == "from a token", "chat reader got %r" % event)
        finally:
            reader.close()

    def publish_not_granted(self):
        for what, token in (("subscribe only", mint(self.keys[0], subscribe=["chat.*"], publish=[])),
                            ("publish to other.*", mint(self.keys[0], subscribe=[], publish=["other.*"]))):
            status, _, body = request(self.port, "POST", "/publish?topic=chat.room1", bearer(token), b"x")
            expect(status == 403, "%s: POST /publish?topic=chat.room1 answered %s, not 403: %r"
                   % (what, status, body[:200]))
            expect_not_echoed(token, body, what)
        status, _, _ = request(self.port, "POST", "/publish?topic=chat.room1", {}, b"x")
        expect(status == 401, "no token, loopback, --publish-token set: publish answered %s, not 401" % status)

    # 4.
    def refusals(self):
        """(name, function) for each refused token."""
        key = self.keys[0]
        now = int(time.time())
        good = mint(key)
        return [
            ("tampered payload (grants **, same signature)", lambda: tampered_payload(good)),
            ("tampered signature (one bit flipped)", lambda: tampered_signature(good)),
            ("signed with a key the server does not have", lambda: mint(self.stranger_key)),
            ("expired: exp 60 s ago, beyond the 5 s leeway",
             lambda: mint(key, iat=now - 120, nbf=now - 120, exp=now - 60)),
            ("not yet valid: nbf 600 s ahead", lambda: mint(key, nbf=now + 600, exp=now + 1200)),
            ("another audience (aud: elsewhere)", lambda: mint(key, aud="elsewhere")),
            ("audiences that do not include sse-test", lambda: mint(key, aud=["elsewhere", "other"])),
            ("no audience", lambda: mint(key, aud=None)),
            ("alg none: PyJWT's, unsigned", lambda: remember(jwt.encode(claims(), None, algorithm="none"))),
            ("alg none: by hand, {\"alg\":\"none\"} and an empty signature",
             lambda: by_hand({"alg": "none"}, claims())),
            ("alg none: by hand, over the valid HS256 signature",
             lambda: by_hand({"alg": "none", "typ": "JWT"}, claims()).rstrip(".") + "." + good.split(".")[2]),
            ("RS256 header over an HS256 signature with the server's key",
             lambda: hs256_by_hand({"alg": "RS256", "typ": "JWT"}, claims(), key)),
            ("HS384 from PyJWT with the server's key", lambda: mint(key, algorithm="HS384")),
            ("HS512 from PyJWT with the server's key", lambda: mint(key, algorithm="HS512")),
            ("over 4096 bytes (valid otherwise)", lambda: sized(key, MAX_TOKEN_BYTES, MAX_TOKEN_BYTES + 200)),
        ]

    def refused(self, what, make):
        self.expect_refused(remember(make()), what)

    def real_rs256(self):
        token, how = rs256(claims())
        print("      (RS256 token: %s)" % how, flush=True)
        self.expect_refused(token, "RS256 (%s)" % how)

    def under_the_cap(self):
        token = sized(self.keys[0], MAX_TOKEN_BYTES - 40, MAX_TOKEN_BYTES)
        self.expect_receives("/latest/" + PRIVATE, bearer(token), PRIVATE, "%d-byte token stream" % len(token))

    def within_leeway(self):
        now = int(time.time())
        late = mint(self.keys[0], iat=now - 60, nbf=now - 60, exp=now - 2)
        early = mint(self.keys[0], nbf=now + 2)
        for what, token in (("exp 2 s ago", late), ("nbf 2 s ahead", early)):
            status, _, body = request(self.port, "GET", "/latest/" + PRIVATE, bearer(token))
            expect(status == 200, "%s, within the 5 s leeway: answered %s, not 200: %r" % (what, status, body[:200]))

    # 5.
    def rotation(self):
        token = mint(self.keys[1])
        self.expect_receives("/latest/" + PRIVATE, bearer(token), PRIVATE, "second-key stream")
        token = mint(self.keys[1], subscribe=[], publish=["chat.*"])
        status, _, body = request(self.port, "POST", "/publish?topic=chat.room2", bearer(token), b"x")
        expect(status == 200, "second key: publish answered %s, not 200: %r" % (status, body[:200]))

    # 6.
    def nothing_echoed(self):
        expect(len(TOKENS) > 20 and len(BODIES) > 20, "too few tokens (%d) or answers (%d) to judge"
               % (len(TOKENS), len(BODIES)))
        for token in TOKENS:
            for body in BODIES:
                expect_not_echoed(token, body, "an answer")

    # 7.
    def clean_shutdown(self):
        expect(self.server.proc.poll() is None, "sse-server had exited (status %s): %s"
               % (self.server.proc.returncode, self.server.log_tail()))
        status = self.server.stop()
        expect(status == 0, "sse-server exited with status %s on SIGTERM: %s" % (status, self.server.log_tail()))


def expect_not_echoed(token, body, what):
    """Neither the token nor its payload or signature part appears in body."""
    parts = [token] + [part for part in token.split(".")[1:] if len(part) >= 16]
    for part in parts:
        expect(part not in body, "%s: the answer contains the token (or part of it): %r" % (what, body[:200]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--server-bin", default=os.environ.get("SSE_SERVER_BIN", "./sse-server"))
    args = parser.parse_args()
    # run.sh's trap stops us with SIGTERM: unwind, so the server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("== PyJWT %s, %s" % (jwt.__version__, "python3-cryptography present" if rsa else "no cryptography"),
          flush=True)

    suite = Suite(args)
    try:
        checks = [
            ("1a. a PyJWT HS256 token in Authorization: Bearer opens a private stream that gets its event",
             suite.bearer_source),
            ("1b. the same in the sse_token cookie", suite.cookie_source),
            ("1c. the same in ?access_token=", suite.query_source),
            ("1d. fractional exp/nbf (time.time() + 600) and typ at+jwt are accepted; a fractional past exp is not",
             suite.fractional_times),
            ("2a. no token: 401 with WWW-Authenticate: Bearer; the public topic needs none", suite.no_token),
            ("2b. a valid PyJWT token that does not grant the topic (or the wider pattern): 403",
             suite.not_granted),
            ("2c. a grant of user.42.** opens /latest/user.42.* and ?type=news,user.42.orders", suite.patterns),
            ("3a. a PyJWT token with sse.publish chat.* publishes to chat.room1 (event received)",
             suite.publish_grant),
            ("3b. publish: a token granting only subscribe, or another topic: 403; no token: 401",
             suite.publish_not_granted),
        ]
        checks += [("4. refused (401 to subscribe and to publish): " + what,
                    lambda what=what, make=make: suite.refused(what, make)) for what, make in suite.refusals()]
        checks += [
            ("4. refused (401 to subscribe and to publish): RS256", suite.real_rs256),
            ("4. control: a PyJWT token just under 4096 bytes is accepted", suite.under_the_cap),
            ("4. leeway: exp 2 s ago and nbf 2 s ahead are accepted (default 5 s)", suite.within_leeway),
            ("5. rotation: a PyJWT token signed with the second key file subscribes and publishes",
             suite.rotation),
            ("6. no answer body, streams included, contains any token sent", suite.nothing_echoed),
            ("7. sse-server exits 0 on SIGTERM", suite.clean_shutdown),
        ]
        suite.run("set-up: sse-server with two key files, a publish token, --public news, --jwt-audience",
                  suite.setup)
        if suite.failed:
            print("%d passed, %d failed" % (suite.passed, suite.failed + len(checks)))
            return 1
        for name, function in checks:
            suite.run(name, function)
    finally:
        if suite.server:
            suite.server.stop()
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
