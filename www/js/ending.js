// Section 7, ending a stream: subscribe to a topic of this page's own,
// DELETE it, and watch the browser reconnect once, get 204 and give up.
import { byId, logStep, randomSuffix, waitUntil } from './dom.js';
import { endTopic, publish } from './publisher.js';

const kGiveUpWaitMs = 30000;
const topicPrefix = `end-demo-${randomSuffix()}`;
let runs = 0;

export function startEnding() {
    byId('end-run').addEventListener('click', async () => {
        const button = byId('end-run');
        button.disabled = true;
        byId('end-log').replaceChildren();
        try {
            await endDemo();
        } catch (error) {
            step(error.message, 'bad');
            showState('failed', 'failed');
        } finally {
            button.disabled = false;
        }
    });
}

function step(text, tone) {
    logStep(byId('end-log'), text, { tone, max: 20 });
}

function showState(state, text) {
    const badge = byId('end-badge');
    badge.dataset.state = state;
    badge.textContent = text;
}

async function endDemo() {
    // A new topic each run: an ended topic answers 204 until it is published to again.
    runs += 1;
    const topic = `${topicPrefix}-${runs}`;
    const url = `/latest/${topic}`;
    showState('CONNECTING', 'CONNECTING');
    const source = new EventSource(url);
    step(`new EventSource('${url}')`);
    let opens = 0;
    let messages = 0;
    let gaveUp = false;
    source.addEventListener('open', () => {
        opens += 1;
        showState('OPEN', 'OPEN');
        step(opens === 1 ? 'open' : 'open again: someone published to the topic meanwhile', 'good');
    });
    source.addEventListener('message', (event) => {
        messages += 1;
        step(`message: ${event.data}`);
    });
    source.addEventListener('error', () => {
        if (source.readyState === EventSource.CONNECTING) {
            showState('CONNECTING', 'CONNECTING');
            step('error, readyState CONNECTING: the stream ended, and the browser will ' +
                 'try again after the retry: delay', 'warn');
        } else {
            gaveUp = true;
            showState('CLOSED', 'CLOSED');
            step('error, readyState CLOSED: the browser gave up and will not retry', 'good');
        }
    });

    try {
        await waitUntil(() => opens > 0, 10000, 'the stream to open');
        const last = await publish(topic, 'The last event before the topic ends.');
        if (!last.ok) throw new Error(last.message);
        await waitUntil(() => messages > 0, 10000, 'the last event');

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
