#!/usr/bin/env python3
"""Checks that docs/deployment.md shows exactly the nginx configuration that
tests/proxy/run.sh tests.

    docs_config.py [REPO_ROOT]

The tested files are tests/proxy/nginx.conf.in (a self-contained test nginx
around the `upstream` and two `server` blocks) and tests/proxy/sse-server.conf
(the locations both `server` blocks include). Their production form is the
`upstream` and `server` blocks of nginx.conf.in with the @NAMES@ filled in as
PRODUCTION says and the test-only @EXTRA@ left out, and sse-server.conf as it
is. The ```nginx blocks of docs/deployment.md must be, in order:

    1. the `upstream` block and the HTTP/1.1 `server` block;
    2. sse-server.conf;
    3. the HTTP/2 `server` block.

Comments, indentation and blank lines do not count; every directive does.
A planted change to a copy must be caught, so the check can fail. Prints
"ok: ..." or "FAILED: ..." with a diff, and ends with "N passed, M failed".
"""
import difflib
import re
import sys
from pathlib import Path

PRODUCTION = {
    "@LISTEN@": "80",
    "@LISTEN_TLS@": "443",
    "@UPSTREAM@": "127.0.0.1:8000",
    "@TLS@": "/etc/letsencrypt/live/app.example.com",
}


def directives(text):
    """The lines that configure something: comments (outside quotes),
    indentation and blank lines removed."""
    out = []
    for line in text.splitlines():
        kept, quoted = [], False
        for char in line:
            if char == '"':
                quoted = not quoted
            elif char == "#" and not quoted:
                break
            kept.append(char)
        line = " ".join("".join(kept).split())
        if line:
            out.append(line)
    return out


def production_blocks(template):
    """The `upstream` and `server` blocks inside `http { }`, each a list of
    lines, with the @NAMES@ filled in and the @EXTRA@ lines left out."""
    for name, value in PRODUCTION.items():
        template = template.replace(name, value)
    blocks, current, depth = [], None, 0
    for line in directives(template):
        if line == "@EXTRA@":
            continue
        if depth == 1 and re.match(r"^(upstream|server)\b.*\{$", line):
            current = []
            blocks.append(current)
        if current is not None:
            current.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 1:
            current = None
    return blocks


def expected_fences(root):
    blocks = production_blocks((root / "tests/proxy/nginx.conf.in").read_text())
    if len(blocks) != 3 or not blocks[0][0].startswith("upstream"):
        raise SystemExit(f"nginx.conf.in: expected an upstream and two server blocks, found {len(blocks)} blocks")
    snippet = directives((root / "tests/proxy/sse-server.conf").read_text())
    return [blocks[0] + blocks[1], snippet, blocks[2]]


def doc_fences(markdown):
    return [directives(body) for body in re.findall(r"^```nginx\n(.*?)^```$", markdown, re.S | re.M)]


def compare(expected, found):
    """"" when the fences match, else what differs."""
    if len(found) != len(expected):
        return f"{len(found)} ```nginx blocks in the document, {len(expected)} expected"
    for number, (want, got) in enumerate(zip(expected, found), 1):
        if want != got:
            diff = difflib.unified_diff(want, got, "tested", "docs/deployment.md", lineterm="", n=1)
            return f"block {number} differs:\n      " + "\n      ".join(diff)
    return ""


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    expected = expected_fences(root)
    found = doc_fences((root / "docs/deployment.md").read_text())
    passed = failed = 0

    problem = compare(expected, found)
    lines = sum(len(f) for f in expected)
    if problem:
        failed += 1
        print(f"   FAILED: docs/deployment.md shows the tested nginx configuration: {problem}")
    else:
        passed += 1
        print(f"   ok: docs/deployment.md shows the tested nginx configuration "
              f"(3 blocks, {lines} directive lines)")

    # The control: one directive changed in the tested snippet must show.
    planted = [list(fence) for fence in expected]
    planted[1][planted[1].index("proxy_buffering off;")] = "proxy_buffering on;"
    if compare(planted, found):
        passed += 1
        print("   ok: control: a changed directive (proxy_buffering on) is caught")
    else:
        failed += 1
        print("   FAILED: control: a changed directive (proxy_buffering on) went unnoticed")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
