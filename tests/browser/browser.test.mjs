// The demo page in headless Chromium against a real server: every section
// must work live, the page must log no errors, and screenshots are saved in
// out/ for a person to look at (screenshot.png is the one the README shows).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Checks, delay, repoRoot, startServer } from './lib.mjs';

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
    page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
        // Streams the page closes on purpose end as aborted requests; anything else is a failure.
        if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
            errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
        }
    });

    const response = await page.goto(`${server.url}/`);
    checks.check('page: GET / answers 200 with the demo page',
                 response.status() === 200 && (await page.title()).includes('sse-server'));
    await checks.guard('quick start', () => quickStart(page));
    await checks.guard('topics', () => topics(page));
    await checks.guard('connection', () => connectionOpen(page));
    await checks.guard('wire', () => wire(page));
    await checks.guard('publish', () => publishForm(page));
    await checks.guard('resume', () => resume(page));
    await checks.guard('ending', () => ending(page));

    await page.click('#wire-stop');
    await checks.guard('close', () => closeAndReconnect(page));
    await saveScreenshots(page);
    await checks.guard('layout', () => phoneLayout(page));
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

async function main() {
    await mkdir(kOut, { recursive: true });
    const server = await startServer();
    const browser = await launch();
    try {
        await checks.guard('demo page', () => mainPage(browser, server));
        await checks.guard('token page', () => tokenPage(browser));
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
