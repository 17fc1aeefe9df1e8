// Section 6, publish: subscribe to the chosen topic, POST the form's data,
// and wait for the event with the id the server answered to come back.
import { addLimited, byId, clock, openEventSource, waitUntil } from './dom.js';
import { publish } from './publisher.js';

const kArrivalWaitMs = 10000;

export function startPublish() {
    const form = byId('publish-form');
    form.addEventListener('submit', async (event) => {
        event.preventDefault();  // the browser has checked the fields' patterns already
        const button = byId('publish-submit');
        button.disabled = true;
        try {
            await publishFromForm();
        } catch (error) {
            showResult('failed', error.message);
        } finally {
            button.disabled = false;
        }
    });
}

function showResult(state, text) {
    const result = byId('publish-result');
    result.dataset.state = state;
    result.textContent = text;
}

async function publishFromForm() {
    const topic = byId('publish-topic').value.trim();
    const eventName = byId('publish-event').value.trim();
    const data = byId('publish-data').value;

    // Subscribe first, so the event cannot slip past before we listen. An
    // event named by its publisher reaches only a listener for that name.
    showResult('running', `Subscribing to /latest/${topic}…`);
    const seen = new Map();
    let source = null;
    let note = '';
    try {
        source = await openEventSource(`/latest/${encodeURIComponent(topic)}`, 5000);
        source.addEventListener(eventName || 'message', (event) => seen.set(event.lastEventId, event));
    } catch {
        note = ' (The page could not subscribe first: the topic may have been ended, ' +
               'and this publish starts it again.)';
    }

    try {
        const started = performance.now();
        const answer = await publish(topic, data, eventName);
        if (!answer.ok) {
            showResult('refused', answer.message);
            return;
        }
        showResult('published', `Published as id ${answer.id}, queued to ${answer.queued} streams.${note}`);
        if (!source) return;
        await waitUntil(() => seen.has(answer.id), kArrivalWaitMs, 'the event to come back');
        const event = seen.get(answer.id);
        const ms = Math.round(performance.now() - started);
        showResult('arrived', `Published as id ${answer.id} and arrived ${ms} ms after the POST, ` +
                              `as a “${event.type}” event.`);
        const item = document.createElement('li');
        const time = document.createElement('time');
        time.textContent = clock();
        item.append(time, ` ${topic}${eventName ? ` / ${eventName}` : ''}, id ${event.lastEventId}: ${event.data}`);
        addLimited(byId('publish-log'), item, { max: 5 });
    } finally {
        source?.close();
    }
}
