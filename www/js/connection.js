// Section 3, connection life: the stream of section 2 seen from the side of
// its state. The badge shows readyState after every open, error and close.
import { byId, logStep } from './dom.js';
import { closeTopics, onLifecycle, onTopicEvent, openTopics } from './topics.js';

const kStateNames = ['CONNECTING', 'OPEN', 'CLOSED'];

export function startConnection() {
    const badge = byId('conn-badge');
    const readyState = byId('conn-ready-state');
    const lastId = byId('conn-last-id');
    const count = byId('conn-events');
    const log = byId('conn-log');
    let events = 0;

    function showState(state) {
        badge.textContent = kStateNames[state];
        badge.dataset.state = kStateNames[state];
        readyState.textContent = state;
    }

    onLifecycle((kind, source) => {
        showState(source.readyState);
        if (kind === 'open') {
            logStep(log, 'open: the answer has begun, readyState OPEN', { tone: 'good' });
        } else if (kind === 'error' && source.readyState === EventSource.CONNECTING) {
            logStep(log, 'error: the connection dropped; the browser retries by itself', { tone: 'warn' });
        } else if (kind === 'error') {
            logStep(log, 'error: the browser gave up, readyState CLOSED', { tone: 'bad' });
        } else if (kind === 'close') {
            logStep(log, 'close(): readyState CLOSED, no more retries');
        } else {
            logStep(log, 'new EventSource: readyState CONNECTING');
        }
    });

    onTopicEvent((event) => {
        events += 1;
        count.textContent = events;
        // lastEventId is what the browser would send as Last-Event-ID.
        if (event.lastEventId) lastId.textContent = event.lastEventId;
    });

    byId('conn-close').addEventListener('click', closeTopics);
    byId('conn-reconnect').addEventListener('click', openTopics);
}
