// Shared by the browser and eventsource tests: start a real sse-server on an
// ephemeral loopback port, count named checks, and wait with deadlines.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const running = new Set();

// Whatever way this process ends, no server it started outlives it.
process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => process.exit(130));
}

function serverBinary() {
    const bin = process.env.SSE_SERVER_BIN || './sse-server';
    return isAbsolute(bin) ? bin : join(repoRoot, bin);
}

// Starts ./sse-server on 127.0.0.1 with a port the kernel picks, plus `flags`.
// Resolves with { url, port, stop, log } once it printed where it listens.
export function startServer(flags = [], timeoutMs = 10000) {
    const child = spawn(serverBinary(), ['--port', '0', '--bind', '127.0.0.1', '--www', join(repoRoot, 'www'), ...flags], {
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const log = [];
    return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => fail(new Error(`sse-server did not start in ${timeoutMs} ms`)), timeoutMs);
        function fail(error) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            reject(new Error(`${error.message}\n${log.join('')}`));
        }
        child.on('error', fail);
        child.on('exit', (code) => {
            running.delete(child);
            fail(new Error(`sse-server exited with status ${code}`));
        });
        child.stderr.on('data', (chunk) => log.push(chunk.toString()));
        let out = '';
        child.stdout.on('data', (chunk) => {
            log.push(chunk.toString());
            out += chunk;
            const match = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
            if (!match) return;
            clearTimeout(timer);
            child.removeAllListeners('exit');
            child.on('exit', () => running.delete(child));
            resolvePromise({ url: match[1], port: Number(match[2]), log, stop: () => stopServer(child) });
        });
    });
}

function stopServer(child) {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolvePromise) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('exit', () => {
            clearTimeout(timer);
            resolvePromise();
        });
        child.kill('SIGTERM');
    });
}

export function delay(ms) {
    return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

// Resolves true once check() is truthy, false when the deadline passes.
export async function waitFor(check, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check()) return true;
        if (Date.now() > deadline) return false;
        await delay(50);
    }
}

// Named checks, printed as they happen; summary() prints "<suite>: N passed, M failed".
export class Checks {
    constructor(suite) {
        this.suite = suite;
        this.passed = 0;
        this.failed = 0;
    }

    check(name, ok, detail = '') {
        if (ok) {
            this.passed += 1;
            console.log(`  ok    ${name}`);
        } else {
            this.failed += 1;
            console.log(`  FAIL  ${name}${detail ? `: ${detail}` : ''}`);
        }
        return ok;
    }

    // Runs fn; a throw counts as one failed check instead of ending the suite.
    async guard(name, fn) {
        try {
            await fn();
        } catch (error) {
            this.check(name, false, error.stack || String(error));
        }
    }

    summary() {
        console.log(`${this.suite}: ${this.passed} passed, ${this.failed} failed`);
        return this.failed === 0 && this.passed > 0;
    }
}

// POSTs data to a topic of a test server; answers the parsed JSON.
export async function publishTo(base, topic, data, { event = '', headers = {} } = {}) {
    const query = new URLSearchParams({ topic });
    if (event) query.set('event', event);
    const response = await fetch(`${base}/publish?${query}`, { method: 'POST', body: data, headers });
    if (!response.ok) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    return response.json();
}

// An HS256 JSON Web Token (RFC 7519) carrying `claims`, signed with `key`:
// base64url(header) "." base64url(claims) "." base64url(HMAC-SHA-256 of
// the two with the key). Enough to mint test tokens without a JWT library.
export function signHs256(claims, key) {
    const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
    const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
    return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}
