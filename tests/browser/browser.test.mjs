// The demo page in headless Chromium against a real server: every section
// must work live, the page must log no errors, and screenshots are saved in
// out/ for a person to look at (screenshot.png is the one the README shows).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Checks, delay, publishTo, repoRoot, signHs256, startServer } from './lib.mjs';

const kChromium = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const kOut = join(repoRoot, 'tests', 'browser', 'out');
const kDemoWaitMs = 20000;   // demo topics publish every 1-5 s; /random pauses up to 3 s

const checks = new Checks('browser');

async function launch() {
    const userDataDir = await mkdtemp(join(tmpdir(), 'sse-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: kChromium,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1280, height: 900 },
        colorScheme: 'light',
    });
    return {
        context,
        close: async () => {
            await context.close().catch(() => {});
            await rm(userDataDir, { recursive: true, force: true });
        },
    };
}

// Waits for a condition evaluated in the page; true when met, false at the deadline.
async function pageWait(page, condition, arg, timeoutMs = kDemoWaitMs) {
    try {
        await page.waitForFunction(condition, arg, { timeout: timeoutMs, polling: 100 });
        return true;
    } catch {
        return false;
    }
}

// Installed before a page's own scripts: wraps EventSource so a check sees
// what the browser itself did (each open, message and error, and each
// named event page code listens for, with the readyState of that moment)
// and how often page code called new EventSource.
function recordEventSources() {
    const Native = window.EventSource;
    const records = [];
    window.eventSourceRecords = records;
    window.EventSource = class extends Native {
        #record;
        #watched = new Set();

        constructor(url, init) {
            super(url, init);
            this.#record = { url: new URL(url, location.href).pathname, source: this, events: [] };
            records.push(this.#record);
            for (const type of ['open', 'message', 'error']) this.#watch(type);
        }

        // A named event reaches only the listeners for its name.
        addEventListener(type, listener, options) {
            this.#watch(type);
            super.addEventListener(type, listener, options);
        }

        #watch(type) {
            if (this.#watched.has(type)) return;
            this.#watched.add(type);
            super.addEventListener(type, (event) => this.#record.events.push({
                type, readyState: this.readyState, id: event.lastEventId ?? '', data: event.data ?? '',
                at: performance.now(),
            }));
        }
    };
}

// The records of recordEventSources, with each source's readyState now.
const eventSources = (page) => page.evaluate(() => window.eventSourceRecords.map(
    ({ url, source, events }) => ({ url, readyState: source.readyState, events })));

const text = (page, selector) => page.locator(selector).textContent();
const attribute = (page, selector, name) => page.locator(selector).getAttribute(name);

async function quickStart(page) {
    const arrived = await pageWait(page, () => document.querySelectorAll('#random-list li').length >= 2);
    const numbers = await page.locator('#random-list li').allTextContents();
    checks.check('quick start: at least two numbers from /random arrive', arrived, `got ${numbers.length}`);
    const inRange = numbers.length > 0 &&
        numbers.every((n) => /^\d+$/.test(n) && Number(n) >= 1 && Number(n) <= 1000);
    checks.check('quick start: every number is a whole number in 1..1000', inRange, numbers.join(' '));
}

async function topics(page) {
    for (const name of ['news', 'weather', 'stock']) {
        const updated = await pageWait(page, (id) => Number(document.getElementById(id).dataset.updates) >= 1,
                                       `widget-${name}`);
        checks.check(`topics: the ${name} widget updates from its named event`, updated);
    }
    const headline = await text(page, '#news-ticker li:first-child');
    checks.check('topics: the ticker shows a headline', headline && !headline.includes('waiting'), headline);
    const temperature = await text(page, '#weather-temperature');
    checks.check('topics: the weather card shows a temperature', /^-?\d+C$/.test(temperature), temperature);
    const price = await text(page, '#stock-price');
    checks.check('topics: the stock quote shows a price', /^\d+\.\d\d$/.test(price), price);
    const plotted = await pageWait(page, () => Number(document.getElementById('stock-chart').dataset.points) >= 2);
    const inked = await page.evaluate(() => {
        const canvas = document.getElementById('stock-chart');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
        return painted;
    });
    checks.check('topics: the canvas chart plots the prices', plotted && inked > 100, `${inked} painted pixels`);
}

// Presence: the page's own topics stream counts, and one more stream on
// news (as a second tab would open) raises news by one, then lowers it.
async function presence(page) {
    const count = (topic) => page.evaluate((t) => Number(document.getElementById(`presence-${t}`).dataset.count ?? -1),
                                           topic);
    const counted = await pageWait(page, () => ['news', 'weather', 'stock'].every(
        (t) => Number(document.getElementById(`presence-${t}`).dataset.count ?? 0) >= 1));
    const before = await count('news');
    checks.check('presence: the page shows its own stream on each topic', counted, `news ${before}`);
    await page.evaluate(() => { window.secondTab = new EventSource('/latest/news'); });
    const rose = await pageWait(page, (n) => Number(document.getElementById('presence-news').dataset.count) === n + 1,
                                before);
    checks.check('presence: another stream on news raises its count by one', rose, `${before} -> ${await count('news')}`);
    await page.evaluate(() => window.secondTab.close());
    const fell = await pageWait(page, (n) => Number(document.getElementById('presence-news').dataset.count) === n,
                                before);
    checks.check('presence: closing it brings the count back', fell, `${await count('news')}`);
}

async function connectionOpen(page) {
    const open = await pageWait(page, () => document.getElementById('conn-badge').textContent === 'OPEN');
    checks.check('connection: the badge reads OPEN', open, await text(page, '#conn-badge'));
    const lastId = await text(page, '#conn-last-id');
    checks.check('connection: lastEventId shows an id', /^\d+-\d+$/.test(lastId), lastId);
}

async function wire(page) {
    await page.click('#wire-start');
    const data = await pageWait(page, () => document.querySelector('#wire-rows .field-data') !== null);
    const sample = await page.locator('#wire-rows .field-data').first().textContent().catch(() => '');
    checks.check('wire: the panel shows raw data: lines', data && sample.startsWith('data: '), sample);
    const retry = await page.locator('#wire-rows .field-retry').first().textContent().catch(() => '');
    checks.check('wire: the panel shows the retry: line', /^retry: \d+/.test(retry), retry);
    const paired = await pageWait(page, () => document.querySelector('#wire-rows [data-paired="true"]') !== null);
    checks.check('wire: a raw block is shown next to the EventSource event of the same id', paired);
}

async function publishForm(page) {
    const message = `hello from the browser test ${Date.now()}`;
    await page.fill('#publish-topic', 'news');
    await page.fill('#publish-data', message);
    await page.click('#publish-submit');
    const arrived = await pageWait(page, () => {
        const state = document.getElementById('publish-result').dataset.state;
        return state === 'arrived' || state === 'refused' || state === 'failed';
    });
    const state = await attribute(page, '#publish-result', 'data-state');
    checks.check('publish: the form\'s event arrives back', arrived && state === 'arrived',
                 await text(page, '#publish-result'));
    const inTicker = await pageWait(page, (m) => document.getElementById('news-ticker').textContent.includes(m),
                                    message, 10000);
    checks.check('publish: a message to news appears in the ticker', inTicker);
}

async function resume(page) {
    await page.click('#resume-run');
    const finished = await pageWait(page, () => ['done', 'failed'].includes(
        document.getElementById('resume-result').dataset.state), null, 40000);
    const result = await text(page, '#resume-result');
    checks.check('resume: the demo finishes', finished, result);
    const missed = await text(page, '#resume-missed');
    const duplicates = await text(page, '#resume-duplicates');
    checks.check('resume: missed: 0 and duplicates: 0', missed === '0' && duplicates === '0',
                 `missed ${missed}, duplicates ${duplicates}: ${result}`);
    const published = await text(page, '#resume-published');
    const received = await text(page, '#resume-received');
    checks.check('resume: as many received as published', Number(published) > 0 && published === received,
                 `${published} published, ${received} received`);
    const replayed = await page.locator('#resume-log li', { hasText: 'replayed' }).count();
    checks.check('resume: events published while away arrive as replay', replayed >= 3, `${replayed} replayed`);

    await page.click('#resume-reset');
    const reset = await pageWait(page, () => ['reset', 'failed'].includes(
        document.getElementById('resume-result').dataset.state), null, 20000);
    const resetText = await text(page, '#resume-result');
    checks.check('resume: an unknown id gets event: reset (unknown-id) and a rebuild', reset &&
                 resetText.includes('unknown-id') && !resetText.includes(' 0 events'), resetText);
}

async function ending(page) {
    await page.click('#end-run');
    const ended = await pageWait(page, () => ['CLOSED', 'failed'].includes(
        document.getElementById('end-badge').dataset.state), null, 40000);
    const log = await text(page, '#end-log');
    checks.check('ending: after DELETE the browser reconnects once and gives up (CLOSED)',
                 ended && (await attribute(page, '#end-badge', 'data-state')) === 'CLOSED', log);
    const answered204 = await pageWait(page, () => document.getElementById('end-log').textContent.includes('answers 204'),
                                       null, 10000);
    checks.check('ending: the topic now answers 204', answered204, await text(page, '#end-log'));
    checks.check('ending: DELETE reported the ended stream', log.includes('"ended_streams":1'), log);
}

// The pause: one EventSource, a final event carrying retry: 3000, a close,
// and the browser back by itself after the delay, resuming from the final
// event's id. Judged from what the browser did (recordEventSources and the
// requests it sent), not from the page's own log.
async function pause(page) {
    const streamRequests = [];
    const onRequest = (request) => {
        if (request.resourceType() === 'eventsource' && request.url().includes('/latest/pause-demo-')) {
            streamRequests.push(request);
        }
    };
    page.on('request', onRequest);
    await page.click('#pause-run');
    const finished = await pageWait(page, () => document.getElementById('pause-badge').dataset.state === 'failed' ||
        document.getElementById('pause-log').textContent.includes('none lost'), null, 40000);
    page.off('request', onRequest);
    checks.check('pause: the demo finishes', finished && (await attribute(page, '#pause-badge', 'data-state')) === 'OPEN',
                 await text(page, '#pause-log'));

    const mine = (await eventSources(page)).filter((r) => r.url.startsWith('/latest/pause-demo-'));
    checks.check('pause: page code made one EventSource for the paused topic', mine.length === 1, `${mine.length} made`);
    const events = mine[0]?.events ?? [];
    const messages = events.filter((e) => e.type === 'message');
    const opens = events.filter((e) => e.type === 'open');
    const errors = events.filter((e) => e.type === 'error');

    const raw = await text(page, '#pause-wire');
    const finalId = raw.match(/^id: (.+)$/m)?.[1];
    const finalAt = messages.findIndex((m) => m.id === finalId);
    checks.check('pause: the final event carried retry: 3000 and reached the EventSource',
                 /^retry: 3000$/m.test(raw) && finalAt >= 0, raw);

    const closedAfterFinal = errors.length === 1 && finalAt >= 0 && errors[0].at >= messages[finalAt].at;
    checks.check('pause: after the final event the stream closed to CONNECTING, never CLOSED',
                 closedAfterFinal && errors[0].readyState === 0 && !events.some((e) => e.readyState === 2),
                 JSON.stringify(errors));

    checks.check('pause: the browser came back OPEN by itself (one EventSource, two requests)',
                 opens.length === 2 && streamRequests.length === 2 && mine[0]?.readyState === 1,
                 `${opens.length} opens, ${streamRequests.length} requests, readyState ${mine[0]?.readyState}`);

    const away = errors.length ? opens[1]?.at - errors[0].at : NaN;
    const lastEventId = streamRequests.length === 2 ? await streamRequests[1].headerValue('last-event-id') : null;
    checks.check('pause: it came back after the retry: delay, sending Last-Event-ID: <final event id>',
                 away >= 2950 && lastEventId !== null && lastEventId === finalId,
                 `away ${Math.round(away)} ms, Last-Event-ID ${lastEventId}, final event ${finalId}`);

    const whileAway = messages.filter((m) => m.data.includes('while the browser was away'));
    const ids = messages.map((m) => m.id);
    checks.check('pause: the event published while away arrived once, after the return; nothing twice',
                 whileAway.length === 1 && opens.length === 2 && whileAway[0].at > opens[1].at &&
                 new Set(ids).size === ids.length && ids.length === 4, ids.join(' '));
}

// The requests EventSources send for a path, in order, from page.on('request').
function streamRequestsTo(page, path) {
    const requests = [];
    const onRequest = (request) => {
        if (request.resourceType() === 'eventsource' && decodeURIComponent(new URL(request.url()).pathname) === path) {
            requests.push(request);
        }
    };
    page.on('request', onRequest);
    return { requests, stop: () => page.off('request', onRequest) };
}

// What a check needs of a request: its cookie and Last-Event-ID, and the
// answer's status and headers (status 0: no answer).
async function exchange(request) {
    const response = await request.response();
    return {
        cookie: (await request.headerValue('cookie')) ?? '',
        lastEventId: await request.headerValue('last-event-id'),
        status: response?.status() ?? 0,
        headers: response ? await response.allHeaders() : {},
    };
}

const namedEvents = (record) => record?.events.filter((e) => !['open', 'error'].includes(e.type)) ?? [];
const ofType = (record, type) => record?.events.filter((e) => e.type === type) ?? [];

// Section 8 in the server's demo mode, judged from what the browser did:
// the requests it sent (their cookie and Last-Event-ID), the answers, and
// each EventSource's events. Node publishes to the other user's topic
// meanwhile; none of it may reach the page.
async function privateTopics(page, server) {
    const me = await text(page, '#private-me');
    const other = await text(page, '#private-other');
    const mine = `/latest/private.user.${me}.*`;
    const theirs = `/latest/private.user.${other}.*`;
    const toMine = streamRequestsTo(page, mine);
    const toTheirs = streamRequestsTo(page, theirs);
    const secret = `for ${other} only, ${Date.now()}`;
    let finished = false;
    try {
        await page.click('#private-run');
        const granted = await pageWait(page, (path) => window.eventSourceRecords.filter((r) => r.url === path)
            .some((r, i) => i > 0 && r.events.some((e) => e.type === 'open')), mine, 20000);
        if (granted) await publishTo(server.url, `private.user.${other}.inbox`, secret);
        finished = await pageWait(page, () => ['done', 'failed'].includes(
            document.getElementById('private-result').dataset.state), null, 70000);
    } finally {
        toMine.stop();
        toTheirs.stop();
    }
    checks.check('private: the demo finishes', finished && (await attribute(page, '#private-result', 'data-state')) === 'done',
                 await text(page, '#private-log'));

    const records = await eventSources(page);
    const [refused, source] = records.filter((r) => r.url === mine);
    const asked = await Promise.all(toMine.requests.map(exchange));
    const refusedOnce = refused && ofType(refused, 'open').length === 0 &&
        refused.events.some((e) => e.type === 'error' && e.readyState === 2) && refused.readyState === 2;
    checks.check('private: without a token, this user\'s topic is refused 401 (WWW-Authenticate: Bearer) and ' +
                 'the EventSource ends CLOSED', refusedOnce && asked[0]?.status === 401 &&
                 asked[0].headers['www-authenticate'] === 'Bearer' && !asked[0].cookie.includes('sse_token='),
                 `${JSON.stringify(refused?.events)}, answered ${asked[0]?.status}, cookie "${asked[0]?.cookie}"`);

    const shown = await text(page, '#private-token');
    checks.check('private: the page shows the token decoded: exp and the "sse" grant of this user',
                 /"exp":\d+/.test(shown) && shown.includes(`"sse":{"subscribe":["private.user.${me}.**"]`), shown);

    const opens = ofType(source, 'open');
    checks.check('private: with the cookie from /demo/token the same subscription is OPEN',
                 opens.length >= 1 && asked[1]?.status === 200 && asked[1].cookie.includes('sse_token='),
                 `${opens.length} opens, answered ${asked[1]?.status}, cookie "${asked[1]?.cookie}"`);

    const events = namedEvents(source);
    const everywhere = records.flatMap(namedEvents);
    checks.check('private: the stream gets this user\'s events, named by topic, and none of another user\'s',
                 events.some((e) => e.type === `private.user.${me}.inbox`) &&
                 events.some((e) => e.type === `private.user.${me}.alerts`) &&
                 events.every((e) => e.type.startsWith(`private.user.${me}.`)) &&
                 !everywhere.some((e) => e.data === secret),
                 events.map((e) => `${e.type}: ${e.data}`).join('; '));

    const [foreign] = records.filter((r) => r.url === theirs);
    const foreignAsked = await Promise.all(toTheirs.requests.map(exchange));
    checks.check('private: another user\'s topic is refused 403 with the same cookie, and the EventSource ends CLOSED',
                 foreign && ofType(foreign, 'open').length === 0 && foreign.readyState === 2 &&
                 foreign.events.some((e) => e.type === 'error' && e.readyState === 2) &&
                 foreignAsked.length === 1 && foreignAsked[0].status === 403 &&
                 foreignAsked[0].cookie.includes('sse_token='),
                 `${JSON.stringify(foreign?.events)}, answers ${foreignAsked.map((a) => a.status)}`);

    const errors = ofType(source, 'error');
    const lived = errors.length && opens.length ? errors[0].at - opens[0].at : NaN;
    checks.check('private: when its token expires the stream ends to CONNECTING, never CLOSED',
                 errors.length === 1 && errors[0].readyState === 0 && !source.events.some((e) => e.readyState === 2) &&
                 lived >= 15000, `${JSON.stringify(errors)}, ended ${Math.round(lived)} ms after it opened`);

    const before = errors.length ? events.filter((e) => e.at < errors[0].at).at(-1)?.id : undefined;
    checks.check('private: the browser came back OPEN by itself, sending Last-Event-ID of the last event ' +
                 'and the renewed cookie', records.filter((r) => r.url === mine).length === 2 &&
                 opens.length === 2 && asked.length === 3 && asked[2].status === 200 &&
                 asked[2].lastEventId === before && before !== undefined &&
                 asked[2].cookie.includes('sse_token=') && asked[2].cookie !== asked[1].cookie,
                 `${opens.length} opens, ${asked.length} requests, answered ${asked[2]?.status}, ` +
                 `Last-Event-ID ${asked[2]?.lastEventId} (last event before the expiry ${before}), ` +
                 `cookie renewed: ${asked[2]?.cookie !== asked[1]?.cookie}`);

    const whileAway = events.filter((e) => e.data.includes('while the browser was away'));
    const ids = events.map((e) => e.id);
    checks.check('private: the event published while away arrived once, after the return; nothing twice',
                 whileAway.length === 1 && opens.length === 2 && whileAway[0].at > opens[1].at &&
                 new Set(ids).size === ids.length && ids.length === 4, ids.join(' '));
}

async function closeAndReconnect(page) {
    const counts = () => page.evaluate(() => ['widget-news', 'widget-weather', 'widget-stock']
        .map((id) => document.getElementById(id).dataset.updates).join(',') +
        `/${document.getElementById('conn-events').textContent}`);
    await page.click('#conn-close');
    checks.check('connection: Close makes the badge read CLOSED', (await text(page, '#conn-badge')) === 'CLOSED');
    const before = await counts();
    await delay(8000);  // several demo events' worth: none may arrive
    const after = await counts();
    checks.check('connection: after Close no widget updates', before === after, `${before} then ${after}`);
    await page.click('#conn-reconnect');
    const open = await pageWait(page, () => document.getElementById('conn-badge').textContent === 'OPEN');
    checks.check('connection: Reconnect opens the stream again', open);
}

async function phoneLayout(page) {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await delay(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    checks.check('layout: no sideways scrolling on a 390 px wide phone', overflow <= 0, `${overflow} px too wide`);
    await page.screenshot({ path: join(kOut, 'screenshot-phone.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 900 });
}

// screenshot.png: the top of the page through section 2, for the README;
// screenshot-full.png: the whole page with every demo run.
async function saveScreenshots(page) {
    // A chart with some history makes a better picture; not a check.
    await pageWait(page, () => Number(document.getElementById('stock-chart').dataset.points) >= 10, null, 30000);
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    const topics = await page.locator('#topics').boundingBox();
    const top = { x: 0, y: 0, width: 1280, height: Math.ceil(topics.y + topics.height + 16) };
    await page.screenshot({ path: join(kOut, 'screenshot.png'), clip: top, fullPage: true });
    await page.screenshot({ path: join(kOut, 'screenshot-full.png'), fullPage: true });
    console.log(`  (screenshots saved in ${kOut})`);
}

async function mainPage(browser, server) {
    const page = await browser.context.newPage();
    const errors = [];
    const consoleErrors = [];
    page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
        // Streams the page closes on purpose end as aborted requests; anything else is a failure.
        if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
            errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
        }
    });

    await page.addInitScript(recordEventSources);
    const response = await page.goto(`${server.url}/`);
    checks.check('page: GET / answers 200 with the demo page',
                 response.status() === 200 && (await page.title()).includes('sse-server'));
    await checks.guard('quick start', () => quickStart(page));
    await checks.guard('topics', () => topics(page));
    await checks.guard('presence', () => presence(page));
    await checks.guard('connection', () => connectionOpen(page));
    await checks.guard('wire', () => wire(page));
    await checks.guard('publish', () => publishForm(page));
    await checks.guard('resume', () => resume(page));
    await checks.guard('ending', () => ending(page));
    await checks.guard('pause', () => pause(page));

    await page.click('#wire-stop');
    await checks.guard('private', () => privateTopics(page, server));
    await checks.guard('close', () => closeAndReconnect(page));
    await saveScreenshots(page);
    await checks.guard('layout', () => phoneLayout(page));
    // Section 8 is refused on purpose, and Chromium logs each refused request
    // (the EventSource's, and the page's own fetch of the same URL to show
    // the status) as "Failed to load resource". Only those are expected:
    // this user's topic answered 401, the other user's 403.
    const refusedWith = new Map([
        [`${server.url}/latest/private.user.${await text(page, '#private-me')}.*`, 401],
        [`${server.url}/latest/private.user.${await text(page, '#private-other')}.*`, 403],
    ]);
    const expected = ({ text: message, url }) => refusedWith.has(url) &&
        message.startsWith(`Failed to load resource: the server responded with a status of ${refusedWith.get(url)} (`);
    errors.push(...consoleErrors.filter((error) => !expected(error)).map((error) => `console: ${error.text}`));
    checks.check('page: no console errors, page errors or failed requests', errors.length === 0, errors.join('\n'));
    await page.close();
}

// With --publish-token the form must explain the 401, then work with the token.
async function tokenPage(browser) {
    const server = await startServer(['--no-demo', '--publish-token', 'test-token']);
    try {
        const page = await browser.context.newPage();
        await page.goto(`${server.url}/`);
        await page.fill('#publish-topic', 'chat');
        await page.click('#publish-submit');
        await pageWait(page, () => document.getElementById('publish-result').dataset.state === 'refused', null, 10000);
        const refusal = await text(page, '#publish-result');
        checks.check('publish: without the token the form explains the 401', refusal.includes('401') &&
                     refusal.includes('--publish-token'), refusal);
        await page.click('#publish-form summary');
        await page.fill('#publish-token', 'test-token');
        await page.click('#publish-submit');
        const arrived = await pageWait(page, () => document.getElementById('publish-result').dataset.state === 'arrived',
                                       null, 10000);
        checks.check('publish: with the token the event arrives', arrived, await text(page, '#publish-result'));
        await page.close();
    } finally {
        await server.stop();
    }
}

// --- capacity ----------------------------------------------------------------
//
// Past --max-conns a stream request is answered 200 with a retry: and a
// close, so EventSource waits and tries again by itself until there is
// room; any other answer ends it for good. The numbers:
//   --max-conns 6 (kCapacity). Node publishes over one keep-alive
//   connection, open from the start, and holds 3 more places with streams
//   of its own (kHeld): that leaves 2 for the browser.
//   The page's document comes from page.route, not the server; still,
//   Chromium opens one or two sockets to the origin as it navigates and
//   keeps them idle, and the page's first EventSources reuse them. Whatever
//   Chromium does, the server counts at most 6, so at most 2 page streams
//   are served while Node holds its places.
//   The page opens 5 EventSources (kPageStreams): 2 stream, 3 are turned
//   away again and again. With one control EventSource on top that is at
//   most 6 sockets, Chromium's own limit per host for HTTP/1.1.
//   Freeing the 3 held places makes room for all 5 page streams beside
//   Node's publishing connection.
const kCapacity = 6;
const kHeld = 3;
const kPageStreams = 5;

// POST /publish over `agent`'s one keep-alive connection (fetch keeps a
// pool of its own, and at --max-conns each of its connections takes a place).
function publishOver(agent, base, topic, data) {
    return new Promise((resolvePromise, reject) => {
        const request = httpRequest(`${base}/publish?topic=${encodeURIComponent(topic)}`, {
            method: 'POST',
            agent,
            headers: { 'Content-Type': 'text/plain' },
        }, (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk) => { body += chunk; });
            response.on('end', () => {
                if (response.statusCode === 200) resolvePromise(JSON.parse(body));
                else reject(new Error(`publish to ${topic} answered ${response.statusCode}: ${body}`));
            });
        });
        request.on('error', reject);
        request.end(data);
    });
}

// Takes one place at the server with a stream of Node's own. Resolves with
// the socket once the server answered it as a stream that stays open, not
// as one turned away at capacity (that one says Connection: close).
function holdPlace(port) {
    return new Promise((resolvePromise, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
            socket.write('GET /latest/capacity-held HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        });
        let head = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => {
            if (head.includes('\r\n\r\n')) return;  // heartbeats and the like
            head += chunk;
            if (!head.includes('\r\n\r\n')) return;
            if (head.startsWith('HTTP/1.1 200') && /\r\nConnection: keep-alive\r\n/i.test(head)) {
                resolvePromise(socket);
            } else {
                socket.destroy();
                reject(new Error(`could not hold a place: ${head.split('\r\n')[0]}`));
            }
        });
        socket.on('error', reject);
    });
}

// Gives a held place back. Resolves when the server has closed its end
// too, so its count of connections is already down.
function freePlace(socket) {
    return new Promise((resolvePromise) => {
        socket.on('close', resolvePromise);
        socket.end();
    });
}

async function capacityPage(browser) {
    const server = await startServer(['--no-demo', '--max-conns', String(kCapacity), '--retry-ms', '300']);
    const held = [];
    const publisher = new Agent({ keepAlive: true, maxSockets: 1 });
    const page = await browser.context.newPage();
    try {
        // A first event on each topic, published while there is room. The
        // page resumes after it (?lastEventId=), so an event published later
        // reaches each EventSource whenever its stream really starts.
        const urls = [];
        for (let i = 0; i < kPageStreams; i++) {
            const topic = `capacity-${i}`;
            const seed = await publishOver(publisher, server.url, topic, 'before the page');
            urls.push(`/latest/${topic}?lastEventId=${encodeURIComponent(seed.id)}`);
        }
        for (let i = 0; i < kHeld; i++) held.push(await holdPlace(server.port));

        const asked = new Map();   // path -> statuses the browser got, one per request
        page.on('response', (response) => {
            if (response.request().resourceType() !== 'eventsource') return;
            const path = new URL(response.url()).pathname;
            asked.set(path, [...(asked.get(path) ?? []), response.status()]);
        });
        await page.addInitScript(recordEventSources);
        const blank = `${server.url}/capacity-test`;
        await page.route(blank, (route) => route.fulfill({
            contentType: 'text/html',
            body: '<!doctype html><link rel="icon" href="data:,"><title>capacity</title>',
        }));
        await page.goto(blank);
        await page.unroute(blank);

        await page.evaluate((list) => { for (const url of list) new EventSource(url); }, urls);
        // Turned away, retried, turned away again: two errors each, for the
        // three that do not fit.
        const refusedTwice = await pageWait(page, (n) => window.eventSourceRecords.filter(
            (r) => r.events.filter((e) => e.type === 'error').length >= 2).length >= n, kPageStreams - 2, 15000);
        const full = await eventSources(page);
        const errorsOf = (r) => r.events.filter((e) => e.type === 'error');
        const served = full.filter((r) => errorsOf(r).length === 0);
        const refused = full.filter((r) => errorsOf(r).length > 0);
        checks.check(`capacity: while full, at most 2 of the page's ${kPageStreams} streams are served`,
                     refusedTwice && served.length <= 2 && refused.length >= kPageStreams - 2,
                     `${served.length} served, ${refused.length} turned away`);
        const neverClosed = refused.every((r) => [0, 1].includes(r.readyState) &&
                                                 errorsOf(r).every((e) => e.readyState === 0));
        checks.check('capacity: while full, a turned-away EventSource retries (error, CONNECTING), never CLOSED',
                     refusedTwice && neverClosed && refused.every((r) => (asked.get(r.url) ?? []).length >= 2),
                     refused.map((r) => `${r.url} readyState ${r.readyState}, ` +
                                        `errors at readyState ${errorsOf(r).map((e) => e.readyState)}, ` +
                                        `answers ${asked.get(r.url)}`).join('; '));

        // The control: answers other than a 200 event stream end an
        // EventSource for good. A bad topic is a 400 even at capacity, and a
        // request that is not a stream is a 503 while full.
        for (const [url, status] of [['/latest/bad%20name', 400], ['/index.html', 503]]) {
            await page.evaluate((u) => { new EventSource(u); }, url);
            const closed = await pageWait(page, (u) => window.eventSourceRecords.some(
                (r) => r.url === u && r.source.readyState === 2), url, 10000);
            const answers = asked.get(url) ?? [];
            checks.check(`capacity: control: an EventSource answered ${status} is CLOSED for good`,
                         closed && answers.length === 1 && answers[0] === status, `answers ${answers}`);
        }

        const freed = await Promise.race([Promise.all(held.splice(0).map(freePlace)).then(() => true),
                                          delay(10000).then(() => false)]);
        checks.check('capacity: the held places are given back', freed);
        const allOpen = await pageWait(page, (n) => window.eventSourceRecords.slice(0, n)
            .every((r) => r.source.readyState === 1), kPageStreams, 15000);
        for (let i = 0; i < kPageStreams; i++) await publishOver(publisher, server.url, `capacity-${i}`, `room for ${i}`);
        const arrived = await pageWait(page, (n) => window.eventSourceRecords.slice(0, n).every((r, i) =>
            r.events.some((e) => e.type === 'message' && e.data === `room for ${i}`)), kPageStreams, 15000);
        const after = (await eventSources(page)).slice(0, kPageStreams);
        const once = after.every((r, i) => r.readyState === 1 &&
            r.events.filter((e) => e.type === 'message' && e.data === `room for ${i}`).length === 1);
        checks.check(`capacity: with room again all ${kPageStreams} are OPEN and each gets its topic's event once`,
                     allOpen && arrived && once,
                     after.map((r) => `${r.url} readyState ${r.readyState}, ` +
                                      `${r.events.filter((e) => e.type === 'message').length} messages`).join('; '));
        const made = (await eventSources(page)).length;
        const requests = after.reduce((sum, r) => sum + (asked.get(r.url) ?? []).length, 0);
        checks.check('capacity: the browser reconnected them by itself: no more EventSources made than opened',
                     made === kPageStreams + 2 && requests > kPageStreams,
                     `${made} made (${kPageStreams} + 2 controls), ${requests} requests for the ${kPageStreams}`);
    } finally {
        held.forEach((socket) => socket.destroy());
        publisher.destroy();
        await page.close();
        await server.stop();
    }
}

// --- cookies with a real key ---------------------------------------------------
//
// An API server started with --jwt-key-file (a 40-byte key) and
// --cors-origin naming a second server's origin, which serves only a blank
// page (a page from page.route would not do: Chromium counts it as the
// public internet and refuses its requests to loopback). The cookie is a
// token minted here (signHs256), set for 127.0.0.1; cookies do not tell
// ports apart, so it belongs to both origins, and only withCredentials
// decides whether an EventSource from the other origin sends it.

const kBlankPage = '<!doctype html><link rel="icon" href="data:,"><title>cookie test</title>\n';

// Opens an EventSource in the page, with `init` if given, and waits until
// it is OPEN or CLOSED. Answers its readyState then (-1: neither in time).
async function openIn(page, url, init) {
    await page.evaluate(([u, i]) => { new EventSource(u, i); }, [url, init]);
    const path = new URL(url, page.url()).pathname;
    const settled = await pageWait(page, (p) => window.eventSourceRecords.some(
        (r) => r.url === p && r.source.readyState !== 0), path, 10000);
    const [record] = (await eventSources(page)).filter((r) => r.url === path);
    return settled ? record.readyState : -1;
}

const messageArrived = (page, path, data) => pageWait(page, ([p, d]) => window.eventSourceRecords.some(
    (r) => r.url === p && r.events.some((e) => e.type === 'message' && e.data === d)), [path, data], 10000);

async function cookieAuthorized(browser) {
    const dir = await mkdtemp(join(tmpdir(), 'sse-jwt-'));
    const key = randomBytes(20).toString('hex');   // 40 bytes
    const keyFile = join(dir, 'hs256.key');
    await writeFile(keyFile, `${key}\n`, { mode: 0o600 });
    await mkdir(join(dir, 'www'));
    await writeFile(join(dir, 'www', 'index.html'), kBlankPage);
    const servers = [];
    const page = await browser.context.newPage();
    try {
        const other = await startServer(['--no-demo', '--www', join(dir, 'www')]);
        servers.push(other);
        const api = await startServer(['--no-demo', '--www', join(dir, 'www'), '--jwt-key-file', keyFile,
                                       '--cors-origin', other.url]);
        servers.push(api);
        const exp = Math.floor(Date.now() / 1000) + 600;
        const token = signHs256({ sub: 'ada', exp, sse: { subscribe: ['user.ada.**'] } }, key);
        await browser.context.clearCookies();
        await browser.context.addCookies([{ name: 'sse_token', value: token, url: api.url }]);
        await page.addInitScript(recordEventSources);
        const asked = new Map();   // path -> exchanges, one per EventSource request
        page.on('request', (request) => {
            if (request.resourceType() !== 'eventsource') return;
            const path = new URL(request.url()).pathname;
            asked.set(path, [...(asked.get(path) ?? []), exchange(request)]);
        });
        const answers = (path) => Promise.all(asked.get(path) ?? []);

        await page.goto(`${other.url}/`);
        const across = '/latest/user.ada.inbox';
        const opened = await openIn(page, `${api.url}${across}`, { withCredentials: true });
        const data = `across origins ${Date.now()}`;
        if (opened === 1) await publishTo(api.url, 'user.ada.inbox', data);
        const arrived = opened === 1 && await messageArrived(page, across, data);
        const [withCookie] = await answers(across);
        checks.check('cookies: from another origin, EventSource with withCredentials sends the cookie, ' +
                     'is OPEN and gets a private event', arrived && withCookie?.status === 200 &&
                     withCookie.cookie === `sse_token=${token}` &&
                     withCookie.headers['access-control-allow-origin'] === other.url &&
                     withCookie.headers['access-control-allow-credentials'] === 'true',
                     `readyState ${opened}, arrived ${arrived}, ${JSON.stringify(withCookie)}`);

        const control = '/latest/user.ada.control';
        const ended = await openIn(page, `${api.url}${control}`);
        const withoutCookie = await answers(control);
        checks.check('cookies: control: from another origin without withCredentials no cookie is sent: ' +
                     '401, and the EventSource is CLOSED', ended === 2 && withoutCookie.length === 1 &&
                     withoutCookie[0].status === 401 && withoutCookie[0].cookie === '',
                     `readyState ${ended}, ${JSON.stringify(withoutCookie)}`);

        await page.goto(`${api.url}/`);
        const same = '/latest/user.ada.home';
        const sameOpened = await openIn(page, same);
        const sameData = `same origin ${Date.now()}`;
        if (sameOpened === 1) await publishTo(api.url, 'user.ada.home', sameData);
        const sameArrived = sameOpened === 1 && await messageArrived(page, same, sameData);
        const sameAnswers = await answers(same);
        checks.check('cookies: from the server\'s own origin, EventSource sends the cookie, is OPEN and ' +
                     'gets a private event', sameArrived && sameAnswers.length === 1 &&
                     sameAnswers[0].status === 200 && sameAnswers[0].cookie === `sse_token=${token}`,
                     `readyState ${sameOpened}, arrived ${sameArrived}, ${JSON.stringify(sameAnswers)}`);

        const notGranted = '/latest/user.bob.inbox';
        const refused = await openIn(page, notGranted);
        const refusedAnswers = await answers(notGranted);
        checks.check('cookies: control: the same cookie for a topic it does not grant: 403, and CLOSED',
                     refused === 2 && refusedAnswers.length === 1 && refusedAnswers[0].status === 403,
                     `readyState ${refused}, ${JSON.stringify(refusedAnswers)}`);
    } finally {
        await page.close();
        await browser.context.clearCookies();
        for (const server of servers) await server.stop();
        await rm(dir, { recursive: true, force: true });
    }
}

async function main() {
    await mkdir(kOut, { recursive: true });
    const server = await startServer();
    const browser = await launch();
    try {
        await checks.guard('demo page', () => mainPage(browser, server));
        await checks.guard('token page', () => tokenPage(browser));
        await checks.guard('capacity page', () => capacityPage(browser));
        await checks.guard('cookie page', () => cookieAuthorized(browser));
    } finally {
        await browser.close();
        await server.stop();
    }
    process.exitCode = checks.summary() ? 0 : 1;
}

main().catch((error) => {
    console.error(error);
    checks.check('browser test ran to the end', false, error.message);
    checks.summary();
    process.exit(1);
});
