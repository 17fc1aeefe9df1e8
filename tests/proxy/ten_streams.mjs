// Ten EventSources to one origin in real Chromium, through each front of the
// nginx that tests/proxy/run.sh started:
//
//   node tests/proxy/ten_streams.mjs --server PORT --h2 URL --h1 URL --spki HASH
//
// Through the HTTP/2 front (--h2, https) all ten must open on one connection
// and receive every event; closing one must free its stream in sse-server
// while the other nine go on. Through the HTTP/1.1 front (--h1, the control)
// Chromium's limit of six connections per host must show: six open, the
// seventh to tenth stay CONNECTING until one of the six is closed.
// Chromium trusts the throwaway certificate of run.sh through
// --ignore-certificate-errors-spki-list: only a certificate for that one key
// (HASH, base64 of the SHA-256 of its SubjectPublicKeyInfo) is let through,
// where --ignore-certificate-errors would accept any certificate at all.
// Ends with "ten-streams: N passed, M failed"; exits 1 on any failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Checks, publishTo, repoRoot, waitFor } from '../browser/lib.mjs';

// playwright-core is installed with the browser tests' packages.
const { chromium } = createRequire(join(repoRoot, 'tests', 'browser', 'package.json'))('playwright-core');

const kStreams = 10;
const kHttp1Connections = 6;   // Chromium's limit per host on HTTP/1.1
const kEvents = 3;             // published to the open streams
const kWaitMs = 10000;         // the deadline of every wait
const kRunMs = 180000;         // the deadline of the whole run

const { values: args } = parseArgs({
    options: {
        server: { type: 'string' },
        h2: { type: 'string' },
        h1: { type: 'string' },
        spki: { type: 'string' },
        chromium: { type: 'string', default: process.env.CHROMIUM_BIN || '/usr/bin/chromium' },
    },
});
const server = `http://127.0.0.1:${args.server}`;
const checks = new Checks('ten-streams');

async function launch() {
    const userDataDir = await mkdtemp(join(tmpdir(), 'sse-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: args.chromium,
        headless: true,
        // The SPKI list is honoured only with a --user-data-dir, which a
        // persistent context passes.
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               `--ignore-certificate-errors-spki-list=${args.spki}`],
    });
    return {
        context,
        close: async () => {
            await context.close().catch(() => {});
            await rm(userDataDir, { recursive: true, force: true });
        },
    };
}

// sse-server's count of the topic's subscribers (0 for a topic it does not know).
async function subscribers(topic) {
    const response = await fetch(`${server}/topics/${topic}`);
    if (response.status === 404) return 0;
    return (await response.json()).subscribers;
}

async function waitForSubscribers(topic, count) {
    const deadline = Date.now() + kWaitMs;
    let now = await subscribers(topic);
    while (now !== count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        now = await subscribers(topic);
    }
    return now;
}

// Waits for a condition evaluated in the page; true when met, false at the deadline.
async function pageWait(page, condition, arg) {
    try {
        await page.waitForFunction(condition, arg, { timeout: kWaitMs, polling: 50 });
        return true;
    } catch {
        return false;
    }
}

// A page of the front's origin with kStreams EventSources to /latest/TOPIC,
// opened in order, and what Chromium says of each stream's response (its
// protocol and connection, from the DevTools protocol).
async function openTen(context, base, topic) {
    const page = await context.newPage();
    const responses = [];
    const cdp = await context.newCDPSession(page);
    cdp.on('Network.responseReceived', ({ type, response }) => {
        if (type === 'EventSource') responses.push({ protocol: response.protocol, connection: response.connectionId });
    });
    await cdp.send('Network.enable');
    await page.goto(`${base}/healthz`);
    await page.evaluate(({ count, url }) => {
        window.streams = [];
        for (let i = 0; i < count; i += 1) {
            const stream = { source: new EventSource(url), events: [] };
            stream.source.onmessage = (event) => stream.events.push({ id: event.lastEventId, data: event.data });
            window.streams.push(stream);
        }
    }, { count: kStreams, url: `/latest/${topic}` });
    return { page, responses };
}

// Each stream's readyState (0 CONNECTING, 1 OPEN, 2 CLOSED) and events.
const streams = (page) => page.evaluate(() => window.streams.map(
    ({ source, events }) => ({ readyState: source.readyState, events })));

const states = (list) => list.map((s) => ['CONNECTING', 'OPEN', 'CLOSED'][s.readyState]).join(' ');

// Publishes kEvents events to the topic; their { id, data }, in order.
async function publishSome(topic, label) {
    const sent = [];
    for (let i = 1; i <= kEvents; i += 1) {
        const data = `${label}-${i}`;
        sent.push({ id: (await publishTo(server, topic, data)).id, data });
    }
    return sent;
}

// Waits until the streams at `indexes` hold `count` events each.
const waitForEvents = (page, indexes, count) => pageWait(page, ({ indexes, count }) =>
    indexes.every((i) => window.streams[i].events.length >= count), { indexes, count });

const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

async function throughHttp2(context) {
    const topic = 'ten-h2';
    const { page, responses } = await openTen(context, args.h2, topic);
    try {
        const opened = await pageWait(page, () => window.streams.every((s) => s.source.readyState === 1));
        let list = await streams(page);
        checks.check(`HTTP/2: all ${kStreams} EventSources to one origin reach OPEN`, opened, states(list));
        const counted = await waitForSubscribers(topic, kStreams);
        checks.check(`HTTP/2: sse-server counts ${kStreams} subscribers`, counted === kStreams, `${counted}`);

        const sent = await publishSome(topic, 'h2');
        const arrived = await waitForEvents(page, range(0, kStreams), kEvents);
        list = await streams(page);
        const everyEvent = list.every((s) => JSON.stringify(s.events) === JSON.stringify(sent));
        checks.check(`HTTP/2: each of the ${kStreams} receives all ${kEvents} events, in order, with their ids`,
                     arrived && everyEvent, JSON.stringify(list.map((s) => s.events.length)));

        // The DevTools events travel apart from the page's own state.
        await waitFor(() => responses.length >= kStreams, kWaitMs);
        const protocols = [...new Set(responses.map((r) => r.protocol))];
        const connections = new Set(responses.map((r) => r.connection));
        checks.check(`HTTP/2: Chromium reports h2 for every stream, all on one connection`,
                     responses.length === kStreams && protocols.join() === 'h2' && connections.size === 1,
                     `${responses.length} responses, protocols ${protocols}, ${connections.size} connection(s)`);
        // Bounded: over HTTP/1.1 with six streams open the fetch would wait
        // for a connection forever.
        const timing = await page.evaluate(async (ms) => {
            const fetched = await fetch('/healthz', { signal: AbortSignal.timeout(ms) })
                .then((response) => response.text()).then(() => 'done', (error) => String(error));
            const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/healthz'));
            return { fetched, fetch: entry?.nextHopProtocol, page: performance.getEntriesByType('navigation')[0]?.nextHopProtocol };
        }, kWaitMs);
        checks.check(`HTTP/2: performance entries say nextHopProtocol h2 (the page and a fetch)`,
                     timing.page === 'h2' && timing.fetch === 'h2', JSON.stringify(timing));

        // One stream of the shared connection goes away (RST_STREAM): nginx
        // must close its upstream connection, the other nine carry on.
        await page.evaluate(() => window.streams[0].source.close());
        const left = await waitForSubscribers(topic, kStreams - 1);
        checks.check(`HTTP/2: closing one EventSource frees its stream in sse-server (${kStreams} -> ${kStreams - 1})`,
                     left === kStreams - 1, `${left}`);
        const more = await publishTo(server, topic, 'after-close');
        const stillArrive = await waitForEvents(page, range(1, kStreams), kEvents + 1);
        list = await streams(page);
        const lastOk = list.slice(1).every((s) => s.events.at(-1)?.id === more.id && s.readyState === 1);
        checks.check(`HTTP/2: the other ${kStreams - 1} stay open and receive the next event`, stillArrive && lastOk,
                     `${states(list)}; counts ${JSON.stringify(list.map((s) => s.events.length))}`);
    } finally {
        await page.close();
    }
}

async function throughHttp1(context) {
    const topic = 'ten-h1';
    const { page, responses } = await openTen(context, args.h1, topic);
    try {
        const six = range(0, kHttp1Connections);
        const waiting = range(kHttp1Connections, kStreams);
        const opened = await pageWait(page, (indexes) => indexes.every((i) => window.streams[i].source.readyState === 1),
                                      six);
        const counted = await waitForSubscribers(topic, kHttp1Connections);
        // Six have opened and been counted; every event published now
        // reaches them. Once it has, the other four must still be waiting.
        const sent = await publishSome(topic, 'h1');
        const arrived = await waitForEvents(page, six, kEvents);
        const list = await streams(page);
        const sixGot = six.every((i) => list[i].readyState === 1 && JSON.stringify(list[i].events) === JSON.stringify(sent));
        checks.check(`HTTP/1.1 (control): the first ${kHttp1Connections} EventSources open and receive all ${kEvents} events`,
                     opened && arrived && sixGot && counted === kHttp1Connections,
                     `${states(list)}; sse-server counts ${counted}`);
        const stuck = waiting.every((i) => list[i].readyState === 0 && list[i].events.length === 0);
        const still = await subscribers(topic);
        checks.check(`HTTP/1.1 (control): the seventh to tenth stay CONNECTING, unseen by sse-server`,
                     stuck && still === kHttp1Connections, `${states(list)}; sse-server counts ${still}`);

        await waitFor(() => responses.length >= kHttp1Connections, kWaitMs);
        const protocols = [...new Set(responses.map((r) => r.protocol))];
        const connections = new Set(responses.map((r) => r.connection));
        checks.check(`HTTP/1.1 (control): Chromium reports http/1.1, ${kHttp1Connections} streams on ${kHttp1Connections} connections`,
                     responses.length === kHttp1Connections && protocols.join() === 'http/1.1'
                     && connections.size === kHttp1Connections,
                     `${responses.length} responses, protocols ${protocols}, ${connections.size} connection(s)`);

        // They wait for a connection, nothing else: closing one of the six
        // lets the seventh open.
        await page.evaluate(() => window.streams[0].source.close());
        const seventh = await pageWait(page, (i) => window.streams[i].source.readyState === 1, kHttp1Connections);
        const after = await streams(page);
        checks.check(`HTTP/1.1 (control): closing one of the six lets the seventh open`,
                     seventh && after.filter((s) => s.readyState === 1).length === kHttp1Connections,
                     states(after));
    } finally {
        await page.close();
    }
}

// Whatever hangs, the run ends with a verdict (Playwright kills the
// Chromium it launched when this process exits).
setTimeout(() => {
    checks.check(`the run ends within ${kRunMs / 1000} s`, false);
    checks.summary();
    process.exit(1);
}, kRunMs).unref();

const browser = await launch();
try {
    await checks.guard('HTTP/2 front', () => throughHttp2(browser.context));
    await checks.guard('HTTP/1.1 front', () => throughHttp1(browser.context));
} finally {
    await browser.close();
}
process.exit(checks.summary() ? 0 : 1);
