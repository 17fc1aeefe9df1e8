// Section 7, ending a stream, two ways, each on a topic of this page's own.
// Stop for good: DELETE the topic and watch the browser reconnect once, get
// 204 and give up. Pause: publish a last event with retry=3000&close=1 and
// watch the browser wait, come back by itself with Last-Event-ID and get
// what was published while it was away.
import { byId, logStep, randomSuffix, waitUntil } from './dom.js';
import { endTopic, publish } from './publisher.js';

const kGiveUpWaitMs = 30000;
const kPauseMs = 3000;           // the retry= of the pause
const kComeBackWaitMs = 15000;   // kPauseMs plus the server's jitter, with room to spare
const kWaitMs = 10000;
const topicPrefix = `end-demo-${randomSuffix()}`;
const pausePrefix = `pause-demo-${randomSuffix()}`;
let runs = 0;
let pauseRuns = 0;
let pauseSource = null;  // left open after a run, to show it receiving; the next run closes it

export function startEnding() {
    runOnClick('end', endDemo);
    runOnClick('pause', pauseDemo);
}

// The button `${name}-run` runs `demo`, logging to `${name}-log`.
function runOnClick(name, demo) {
    byId(`${name}-run`).addEventListener('click', async () => {
        const button = byId(`${name}-run`);
        button.disabled = true;
        byId(`${name}-log`).replaceChildren();
        try {
            await demo();
        } catch (error) {
            logStep(byId(`${name}-log`), error.message, { tone: 'bad', max: 20 });
            showState(name, 'failed', 'failed');
        } finally {
            button.disabled = false;
        }
    });
}

function showState(name, state, text) {
    const badge = byId(`${name}-badge`);
    badge.dataset.state = state;
    badge.textContent = text;
}

// --- stop for good ----------------------------------------------------------

function step(text, tone) {
    logStep(byId('end-log'), text, { tone, max: 20 });
}

async function endDemo() {
    // A new topic each run: an ended topic answers 204 until it is published to again.
    runs += 1;
    const topic = `${topicPrefix}-${runs}`;
    const url = `/latest/${topic}`;
    showState('end', 'CONNECTING', 'CONNECTING');
    const source = new EventSource(url);
    step(`new EventSource('${url}')`);
    let opens = 0;
    let messages = 0;
    let gaveUp = false;
    source.addEventListener('open', () => {
        opens += 1;
        showState('end', 'OPEN', 'OPEN');
        step(opens === 1 ? 'open' : 'open again: someone published to the topic meanwhile', 'good');
    });
    source.addEventListener('message', (event) => {
        messages += 1;
        step(`message: ${event.data}`);
    });
    source.addEventListener('error', () => {
        if (source.readyState === EventSource.CONNECTING) {
            showState('end', 'CONNECTING', 'CONNECTING');
            step('error, readyState CONNECTING: the stream ended, and the browser will ' +
                 'try again after the retry: delay', 'warn');
        } else {
            gaveUp = true;
            showState('end', 'CLOSED', 'CLOSED');
            step('error, readyState CLOSED: the browser gave up and will not retry', 'good');
        }
    });

    try {
        await waitUntil(() => opens > 0, kWaitMs, 'the stream to open');
        const last = await publish(topic, 'The last event before the topic ends.');
        if (!last.ok) throw new Error(last.message);
        await waitUntil(() => messages > 0, kWaitMs, 'the last event');

        step(`DELETE /publish?topic=${topic}`);
        const ended = await endTopic(topic);
        if (!ended.ok) throw new Error(ended.message);
        step(`the DELETE answered ${ended.text.trim()}`);
        await waitUntil(() => gaveUp, kGiveUpWaitMs, 'the browser to give up');
    } finally {
        source.close();
    }

    // Ask once more by hand, to show what the browser's reconnection got.
    const answer = await fetch(url);
    step(`GET ${url} now answers ${answer.status} ${answer.statusText || 'No Content'}: ` +
         'that is what told EventSource to stop', 'good');
}

// --- pause and come back ----------------------------------------------------

function pauseStep(text, tone) {
    logStep(byId('pause-log'), text, { tone, max: 20 });
}

async function published(topic, data, options) {
    const answer = await publish(topic, data, '', options);
    if (!answer.ok) throw new Error(answer.message);
    return answer;
}

async function pauseDemo() {
    pauseSource?.close();
    byId('pause-wire').replaceChildren();
    // A new topic each run, so the replay holds only this run's events.
    pauseRuns += 1;
    const topic = `${pausePrefix}-${pauseRuns}`;
    const url = `/latest/${topic}`;
    showState('pause', 'CONNECTING', 'CONNECTING');
    const source = new EventSource(url);
    pauseSource = source;
    pauseStep(`new EventSource('${url}'), the only one this demo makes`);

    const arrived = [];    // ids, in the order they came
    let lastId = '';
    let opens = 0;
    let closedAt = 0;
    let awayId = '';
    source.addEventListener('open', () => {
        opens += 1;
        showState('pause', 'OPEN', 'OPEN');
        if (opens === 1) {
            pauseStep('open', 'good');
        } else {
            const seconds = ((performance.now() - closedAt) / 1000).toFixed(1);
            pauseStep(`open again after ${seconds} s, by itself: the browser sent ` +
                      `Last-Event-ID: ${lastId}, the lastEventId of the last event it got`, 'good');
        }
    });
    source.addEventListener('message', (event) => {
        arrived.push(event.lastEventId);
        lastId = event.lastEventId;
        const replayed = event.lastEventId === awayId ? ' (replayed from the history)' : '';
        pauseStep(`message, lastEventId ${event.lastEventId}: ${event.data}${replayed}`);
    });
    source.addEventListener('error', () => {
        if (source.readyState === EventSource.CONNECTING) {
            closedAt = performance.now();
            showState('pause', 'CONNECTING', 'CONNECTING');
            pauseStep(`error, readyState CONNECTING: the server closed the stream; the browser ` +
                      `waits the retry: delay, then comes back by itself`, 'warn');
        } else {
            showState('pause', 'CLOSED', 'CLOSED');
            pauseStep('error, readyState CLOSED: the browser gave up, which a pause should never cause', 'bad');
        }
    });

    await waitUntil(() => opens > 0, kWaitMs, 'the stream to open');
    const hello = await published(topic, 'Hello, the stream is live.');
    await waitUntil(() => arrived.includes(hello.id), kWaitMs, 'the first event');

    pauseStep(`POST /publish?topic=${topic}&retry=${kPauseMs}&close=1`);
    const final = await published(topic, `Please don't reconnect for another ${kPauseMs / 1000} seconds!`,
                                  { retryMs: kPauseMs, close: true });
    pauseStep(`it answered ${final.text.trim()}: "closed" counts the streams it paused`);
    await waitUntil(() => arrived.includes(final.id) && closedAt > 0, kWaitMs, 'the final event and the close');

    const away = await published(topic, 'Published while the browser was away.');
    awayId = away.id;
    pauseStep(`published while away, id ${away.id}, queued ${away.queued}: ` +
              'no stream is open, the topic\'s history keeps it');
    showOnTheWire(await readBlock(topic, hello.id, final.id));
    pauseStep('above: the final event as it was sent, read back from the history with fetch ' +
              '(EventSource obeys retry: but never shows it to the page)');

    await waitUntil(() => opens > 1, kComeBackWaitMs, 'the browser to come back');
    await waitUntil(() => arrived.includes(away.id), kWaitMs, 'the event published while away');
    const live = await published(topic, 'Live again.');
    await waitUntil(() => arrived.includes(live.id), kWaitMs, 'a live event');
    const twice = arrived.length - new Set(arrived).size;
    pauseStep(`OPEN and receiving: ${arrived.length} events, ${twice} twice, none lost`, twice ? 'bad' : 'good');
}

// EventSource acts on a retry: line but never shows it to the page. To show
// the final event as it was sent, read it once more from the topic's
// history with fetch: resume after `afterId` and stop at the block of `id`.
async function readBlock(topic, afterId, id) {
    const url = `/latest/${topic}?lastEventId=${encodeURIComponent(afterId)}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), kWaitMs);
    try {
        const response = await fetch(url, { signal: controller.signal });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        for (;;) {
            const block = text.split('\n\n').slice(0, -1).find((b) => b.split('\n').includes(`id: ${id}`));
            if (block) return block;
            const { value, done } = await reader.read();
            if (done) throw new Error(`${url} ended before event ${id}`);
            text += value;
        }
    } catch (error) {
        throw new Error(error.name === 'AbortError' ? `gave up reading event ${id} from ${url}` : error.message);
    } finally {
        clearTimeout(timer);
        controller.abort();
    }
}

function showOnTheWire(block) {
    const raw = byId('pause-wire');
    for (const line of block.split('\n')) {
        const span = document.createElement('span');
        span.textContent = `${line}\n`;
        span.className = `field-${line.slice(0, line.indexOf(':'))}`;
        raw.append(span);
    }
}
