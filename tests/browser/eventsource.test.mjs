// A second, independent client: the npm eventsource package (the usual
// EventSource for Node.js) against a real server. Named events, reconnection
// when the server ends a stream, Last-Event-ID replay with nothing lost or
// doubled, reset for an unknown id, no reconnection after a 204, and private
// topics with tokens signed by jose, a widely used JWT library.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { Checks, delay, publishTo, startServer, waitFor } from './lib.mjs';

const checks = new Checks('eventsource');

// An EventSource whose every request is recorded: the Last-Event-ID it
// sent and, for comparison, lastSeen() at that moment. `extraHeaders` go on
// every request (how a Node client resumes from an id it saved before it
// restarted, or sends its token); a function is asked again for each request
// (how a client renews an expired token before it reconnects).
function recordedSource(url, { extraHeaders = {}, lastSeen = () => null } = {}) {
    const requests = [];
    const source = new EventSource(url, {
        fetch: async (input, init) => {
            const extra = typeof extraHeaders === 'function' ? await extraHeaders() : extraHeaders;
            const headers = { ...init.headers, ...extra };
            requests.push({ sent: new Headers(headers).get('Last-Event-ID'), lastSeen: lastSeen() });
            return fetch(input, { ...init, headers });
        },
    });
    return { source, requests };
}

async function namedEvents(base) {
    const { source } = recordedSource(`${base}/latest?type=alpha,beta`);
    const got = { alpha: [], beta: [], custom: [], message: [] };
    for (const name of Object.keys(got)) {
        source.addEventListener(name, (event) => got[name].push({ data: event.data, id: event.lastEventId }));
    }
    try {
        checks.check('named: the stream opens', await waitFor(() => source.readyState === EventSource.OPEN, 5000));
        const a = await publishTo(base, 'alpha', 'first alpha');
        const b = await publishTo(base, 'beta', 'first beta');
        const c = await publishTo(base, 'alpha', 'named by its publisher', { event: 'custom' });
        await waitFor(() => got.alpha.length + got.beta.length + got.custom.length >= 3, 5000);
        checks.check('named: a topic\'s event reaches the listener named after the topic',
                     got.alpha.length === 1 && got.alpha[0].data === 'first alpha' && got.alpha[0].id === a.id,
                     JSON.stringify(got.alpha));
        checks.check('named: the other topic reaches its own listener',
                     got.beta.length === 1 && got.beta[0].data === 'first beta' && got.beta[0].id === b.id,
                     JSON.stringify(got.beta));
        checks.check('named: a publisher\'s event name wins over the topic',
                     got.custom.length === 1 && got.custom[0].id === c.id, JSON.stringify(got.custom));
        checks.check('named: nothing falls through to message on a multi-topic stream', got.message.length === 0,
                     JSON.stringify(got.message));
    } finally {
        source.close();
    }
}

// The server ends every stream after a second (--max-stream-age 1); the
// client must come back by itself with Last-Event-ID and lose nothing.
async function reconnectAfterStreamAge() {
    const server = await startServer(['--no-demo', '--max-stream-age', '1', '--retry-ms', '200']);
    const received = [];
    let lastId = null;
    const { source, requests } = recordedSource(`${server.url}/latest?type=even,odd`, { lastSeen: () => lastId });
    let opens = 0;
    source.addEventListener('open', () => { opens += 1; });
    for (const topic of ['even', 'odd']) {
        source.addEventListener(topic, (event) => {
            received.push(Number(event.data));
            lastId = event.lastEventId;
        });
    }
    try {
        await waitFor(() => source.readyState === EventSource.OPEN, 5000);
        // Publish until the client has reconnected at least twice (bounded).
        let published = 0;
        while (published < 400 && (opens < 3 || published < 20)) {
            published += 1;
            await publishTo(server.url, published % 2 ? 'odd' : 'even', String(published));
            await delay(40);
        }
        await waitFor(() => received.length >= published, 10000);
        const expected = Array.from({ length: published }, (_, i) => i + 1);
        checks.check('age: the client reconnected by itself after the server ended its stream', opens >= 3,
                     `${opens} opens`);
        checks.check('age: every reconnection sent the id of the last event it had seen as Last-Event-ID',
                     requests.length >= 3 && requests.every((r) => r.sent === r.lastSeen),
                     JSON.stringify(requests));
        checks.check(`age: all ${published} events across both topics arrived once, in order`,
                     JSON.stringify(received) === JSON.stringify(expected),
                     `received ${received.length}: ${received.join(',')}`);
    } finally {
        source.close();
        await server.stop();
    }
}

// A client that saved an id resumes from it: exactly the events after it.
async function resumeFromSavedId(base) {
    const ids = [];
    for (let n = 1; n <= 5; n++) ids.push((await publishTo(base, 'saved', `event ${n}`)).id);
    const { source } = recordedSource(`${base}/latest/saved`, { extraHeaders: { 'Last-Event-ID': ids[1] } });
    const got = [];
    source.addEventListener('message', (event) => got.push(event.data));
    try {
        await waitFor(() => got.length >= 3, 5000);
        await publishTo(base, 'saved', 'event 6');
        await waitFor(() => got.length >= 4, 5000);
        await delay(200);  // room for a wrongly doubled event to show up
        checks.check('resume: Last-Event-ID replays exactly what came after it, then live',
                     JSON.stringify(got) === JSON.stringify(['event 3', 'event 4', 'event 5', 'event 6']),
                     JSON.stringify(got));
    } finally {
        source.close();
    }
}

// An id from the future was never issued: reset first, then all that is held.
async function resetForUnknownId(base) {
    const future = `${Date.now() + 86400000}-0`;
    const { source } = recordedSource(`${base}/latest/saved`, { extraHeaders: { 'Last-Event-ID': future } });
    const order = [];
    source.addEventListener('reset', (event) => order.push(`reset ${JSON.parse(event.data).reason}`));
    source.addEventListener('message', (event) => order.push(event.data));
    try {
        await waitFor(() => order.length >= 7, 5000);
        checks.check('reset: an unknown id gets event: reset (unknown-id), then the whole history',
                     order[0] === 'reset unknown-id' && order.length === 7 && order[6] === 'event 6',
                     JSON.stringify(order));
    } finally {
        source.close();
    }
}

// DELETE ends the topic; the reconnection gets 204 and the client stops.
async function noReconnectAfter204() {
    const server = await startServer(['--no-demo', '--retry-ms', '200']);
    const { source, requests } = recordedSource(`${server.url}/latest/finite`);
    let messages = 0;
    let errors = 0;
    source.addEventListener('message', () => { messages += 1; });
    source.addEventListener('error', () => { errors += 1; });
    try {
        await waitFor(() => source.readyState === EventSource.OPEN, 5000);
        await publishTo(server.url, 'finite', 'last words');
        await waitFor(() => messages === 1, 5000);
        const response = await fetch(`${server.url}/publish?topic=finite`, { method: 'DELETE' });
        const answer = await response.json();
        checks.check('204: DELETE ends the one open stream', answer.ended_streams === 1, JSON.stringify(answer));
        const closed = await waitFor(() => source.readyState === EventSource.CLOSED, 10000);
        checks.check('204: the client reconnects once, gets 204 and turns CLOSED',
                     closed && requests.length === 2 && errors >= 1, `${requests.length} requests, ${errors} errors`);
        await delay(1500);  // several retry delays: no further request may follow
        checks.check('204: no request after the 204', requests.length === 2, `${requests.length} requests`);
    } finally {
        source.close();
        await server.stop();
    }
}

// --- private topics, with tokens from jose ---------------------------------

const AUDIENCE = 'sse-test';
const PRIVATE = 'user.42.orders';

function nowS() {
    return Math.floor(Date.now() / 1000);
}

// An HS256 token signed by jose that grants reading `subscribe`, expiring at
// `exp` (seconds since the epoch).
function joseToken(key, { subscribe = ['user.42.**'], exp = nowS() + 600 } = {}) {
    return new SignJWT({ sse: { subscribe } })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject('alice')
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key));
}

// The same header and signature over a payload that grants everything.
function tamperedPayload(token) {
    const [head, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.sse = { subscribe: ['**'] };
    return [head, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
}

// A jose token in Authorization: the stream opens and gets its event.
async function joseOpens(server, key) {
    const token = await joseToken(key);
    const { source } = recordedSource(`${server.url}/latest/${PRIVATE}`,
                                      { extraHeaders: { Authorization: `Bearer ${token}` } });
    const got = [];
    source.addEventListener('message', (event) => got.push({ data: event.data, id: event.lastEventId }));
    try {
        const opened = await waitFor(() => source.readyState === EventSource.OPEN, 5000);
        checks.check('jose: an HS256 token from jose in Authorization opens a private stream', opened,
                     `readyState ${source.readyState}`);
        const sent = await publishTo(server.url, PRIVATE, 'for alice');
        await waitFor(() => got.length >= 1, 5000);
        checks.check('jose: the stream receives the event published to its private topic',
                     got.length === 1 && got[0].id === sent.id && got[0].data === 'for alice', JSON.stringify(got));
    } finally {
        source.close();
    }
}

// A refused token: one error carrying the status, CLOSED, no second request.
async function joseRefused(server, what, token, status) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const { source, requests } = recordedSource(`${server.url}/latest/${PRIVATE}`, { extraHeaders: headers });
    const codes = [];
    let opened = false;
    source.addEventListener('open', () => { opened = true; });
    source.addEventListener('error', (event) => codes.push(event.code));
    try {
        const closed = await waitFor(() => source.readyState === EventSource.CLOSED, 5000);
        checks.check(`jose: ${what}: the client gets an error with status ${status} and ends CLOSED`,
                     closed && !opened && codes.length === 1 && codes[0] === status && requests.length === 1,
                     JSON.stringify({ readyState: source.readyState, opened, codes, requests: requests.length }));
    } finally {
        source.close();
    }
}

// The first token expires two seconds in: the server ends the stream; the
// client reconnects by itself, its fetch adding a fresh token, and resumes
// with Last-Event-ID, losing nothing of what was published throughout.
async function joseExpiresMidStream(server, key) {
    const tokens = [];
    const received = [];
    let lastId = null;
    const { source, requests } = recordedSource(`${server.url}/latest/${PRIVATE}`, {
        lastSeen: () => lastId,
        extraHeaders: async () => {
            const exp = nowS() + (tokens.length === 0 ? 2 : 600);
            tokens.push({ exp, token: await joseToken(key, { exp }) });
            return { Authorization: `Bearer ${tokens.at(-1).token}` };
        },
    });
    let opens = 0;
    let publishedAtReopen = null;
    let firstEnd = null;
    source.addEventListener('error', () => { firstEnd ??= Date.now(); });
    source.addEventListener('message', (event) => {
        received.push(Number(event.data));
        lastId = event.lastEventId;
    });
    let published = 0;
    source.addEventListener('open', () => {
        opens += 1;
        if (opens === 2) publishedAtReopen = published;
    });
    try {
        await waitFor(() => source.readyState === EventSource.OPEN, 5000);
        // Publish across the expiry until five events went out after the
        // client came back (bounded: about 13 s if it never does).
        while (published < 300 && (publishedAtReopen === null || published < publishedAtReopen + 5)) {
            published += 1;
            await publishTo(server.url, PRIVATE, String(published));
            await delay(40);
        }
        await waitFor(() => received.length >= published, 5000);
        // The server ends the stream at exp (leeway 0); the client learns it a
        // little later, never earlier (the slack covers two clock reads).
        checks.check('jose expiry: the stream ended when its token expired, not before',
                     firstEnd !== null && firstEnd >= tokens[0].exp * 1000 - 250,
                     `ended at ${firstEnd}, token expired at ${tokens[0].exp * 1000}`);
        checks.check('jose expiry: the client came back by itself with a fresh token and Last-Event-ID',
                     opens === 2 && requests.length === 2 && tokens.length === 2 && requests[1].sent !== null &&
                     requests[1].sent === requests[1].lastSeen && tokens[1].token !== tokens[0].token,
                     JSON.stringify({ opens, requests, tokens: tokens.length }));
        const expected = Array.from({ length: published }, (_, i) => i + 1);
        checks.check(`jose expiry: all ${published} events published across the expiry arrived once, in order`,
                     JSON.stringify(received) === JSON.stringify(expected),
                     `received ${received.length}: ${received.join(',')}`);
    } finally {
        source.close();
    }
}

// A server with one key (a file in a fresh folder), --jwt-leeway 0 so a
// token ends exactly at its exp, and a short retry.
async function privateTopicsWithJose() {
    const dir = mkdtempSync(join(tmpdir(), 'sse-jose-'));
    const key = randomBytes(32).toString('hex');
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    try {
        const server = await startServer(['--no-demo', '--jwt-key-file', keyFile, '--jwt-audience', AUDIENCE,
                                          '--jwt-leeway', '0', '--retry-ms', '200']);
        try {
            await checks.guard('jose: opens', () => joseOpens(server, key));
            await checks.guard('jose: no token', () => joseRefused(server, 'no token', null, 401));
            await checks.guard('jose: tampered', async () => joseRefused(
                server, 'a tampered jose token (payload granting **)', tamperedPayload(await joseToken(key)), 401));
            await checks.guard('jose: expired', async () => joseRefused(
                server, 'an expired jose token (exp 60 s ago)', await joseToken(key, { exp: nowS() - 60 }), 401));
            await checks.guard('jose: not granted', async () => joseRefused(
                server, 'a jose token granting only user.43.*', await joseToken(key, { subscribe: ['user.43.*'] }),
                403));
            await checks.guard('jose: expiry', () => joseExpiresMidStream(server, key));
        } finally {
            await server.stop();
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

async function main() {
    const server = await startServer(['--no-demo', '--retry-ms', '300']);
    try {
        await checks.guard('named events', () => namedEvents(server.url));
        await checks.guard('resume', () => resumeFromSavedId(server.url));
        await checks.guard('reset', () => resetForUnknownId(server.url));
    } finally {
        await server.stop();
    }
    await checks.guard('stream age', reconnectAfterStreamAge);
    await checks.guard('204', noReconnectAfter204);
    await checks.guard('jose: a server with --jwt-key-file', privateTopicsWithJose);
    process.exitCode = checks.summary() ? 0 : 1;
}

main().catch((error) => {
    console.error(error);
    checks.check('eventsource test ran to the end', false, error.message);
    checks.summary();
    process.exit(1);
});
