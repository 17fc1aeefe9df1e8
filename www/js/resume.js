// Section 4, resume without loss. The page publishes numbered events to a
// topic of its own, drops its stream, publishes more while away, and
// reconnects from the last id it saw; then it counts what is missing.
import { byId, delay, logStep, openEventSource, parseJson, randomSuffix, waitUntil } from './dom.js';
import { publish } from './publisher.js';

const topic = `resume-demo-${randomSuffix()}`;
const kPublishedBefore = 3;   // numbered events sent while connected
const kPublishedAway = 3;     // ... and while disconnected
const kWaitMs = 10000;

let run = 0;
let published = [];
let received = [];
let lastId = '';
let phase = 'live';

export function startResume() {
    byId('resume-run').addEventListener('click', () => busy(dropAndResume));
    byId('resume-reset').addEventListener('click', () => busy(resumeFromUnknownId));
}

// Runs one demo at a time, with the buttons disabled meanwhile.
async function busy(demo) {
    const buttons = [byId('resume-run'), byId('resume-reset')];
    buttons.forEach((button) => { button.disabled = true; });
    byId('resume-log').replaceChildren();
    showResult('running', 'Running…');
    try {
        await demo();
    } catch (error) {
        showResult('failed', `The demo stopped: ${error.message}`);
    } finally {
        buttons.forEach((button) => { button.disabled = false; });
    }
}

function step(text, tone) {
    logStep(byId('resume-log'), text, { tone, max: 20 });
}

function showResult(state, text) {
    const result = byId('resume-result');
    result.dataset.state = state;
    result.textContent = text;
}

function showCounts() {
    byId('resume-published').textContent = published.length;
    byId('resume-received').textContent = received.length;
}

// Every event of this run is {"run":R,"n":N}; remember N and the event's id.
function receive(event) {
    const body = parseJson(event.data);
    if (body?.run !== run) return;
    received.push(body.n);
    lastId = event.lastEventId;
    showCounts();
    step(`#${body.n} arrived${phase === 'replay' ? ' (replayed)' : ''}, id ${event.lastEventId}`);
}

async function publishNumber(n) {
    const answer = await publish(topic, JSON.stringify({ run, n }));
    if (!answer.ok) throw new Error(answer.message);
    published.push(n);
    showCounts();
    return answer;
}

async function dropAndResume() {
    run += 1;
    published = [];
    received = [];
    phase = 'live';
    showCounts();
    byId('resume-missed').textContent = '–';
    byId('resume-duplicates').textContent = '–';

    let source = await openEventSource(`/latest/${topic}`);
    source.addEventListener('message', receive);
    step(`subscribed to /latest/${topic}`);
    try {
        for (let n = 1; n <= kPublishedBefore; n++) await publishNumber(n);
        await waitUntil(() => received.length >= kPublishedBefore, kWaitMs, 'the first events');

        source.close();
        step(`dropped the connection; the last id seen is ${lastId}`, 'warn');
        for (let n = kPublishedBefore + 1; n <= kPublishedBefore + kPublishedAway; n++) {
            const answer = await publishNumber(n);
            step(`published #${n} while away, id ${answer.id}`);
        }

        phase = 'replay';
        const resumeUrl = `/latest/${topic}?lastEventId=${encodeURIComponent(lastId)}`;
        source = await openEventSource(resumeUrl);
        source.addEventListener('message', receive);
        step(`reconnected to ${resumeUrl}`, 'good');
        const lastAway = kPublishedBefore + kPublishedAway;
        await waitUntil(() => received.includes(lastAway), kWaitMs, 'the replay').catch(() => {});

        phase = 'live';
        await publishNumber(lastAway + 1);
        await waitUntil(() => received.includes(lastAway + 1), kWaitMs, 'a live event').catch(() => {});
    } finally {
        source.close();
    }
    report();
}

function report() {
    const missed = published.filter((n) => !received.includes(n)).length;
    const duplicates = received.length - new Set(received).size;
    byId('resume-missed').textContent = missed;
    byId('resume-duplicates').textContent = duplicates;
    if (missed === 0 && duplicates === 0) {
        showResult('done', `missed: 0, duplicates: 0. All ${published.length} events arrived once, ` +
                           `the ${kPublishedAway} published while away through the replay.`);
    } else {
        showResult('failed', `missed: ${missed}, duplicates: ${duplicates}.`);
    }
}

// An id from the future is one this server never issued, so it cannot know
// what the client missed: it sends event: reset, then all it holds.
async function resumeFromUnknownId() {
    const unknownId = `${Date.now() + 365 * 24 * 3600 * 1000}-0`;
    let reset = null;
    let rebuilt = 0;
    const source = new EventSource(`/latest/${topic}?lastEventId=${unknownId}`);
    step(`connecting with ?lastEventId=${unknownId}`);
    source.addEventListener('reset', (event) => {
        reset = parseJson(event.data) ?? {};
        rebuilt = 0;  // forget everything; what follows is the whole picture
        step(`event: reset, data: ${event.data}`, 'warn');
    });
    source.addEventListener('message', () => {
        if (reset) rebuilt += 1;
    });
    try {
        await waitUntil(() => reset !== null, kWaitMs, 'event: reset');
        await delay(1000);  // time for the replay behind it to arrive
    } finally {
        source.close();
    }
    const held = rebuilt === 0 ? ' (run “Drop and resume” first to give it something to replay)' : '';
    step(`rebuilt from ${rebuilt} replayed events${held}`, 'good');
    showResult('reset', `Reset received (reason: ${reset.reason}, oldest held: ${reset.oldest}). ` +
                        `The page dropped what it had and rebuilt from the ${rebuilt} events that followed.`);
}
