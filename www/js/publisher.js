// POST and DELETE /publish, shared by sections 4, 6 and 7. Both answer
// JSON on success; a refusal is turned into a sentence a visitor can act on.
import { byId } from './dom.js';

function authorization() {
    const token = byId('publish-token').value.trim();
    return token ? { Authorization: `Bearer ${token}` } : {};
}

// Publishes `data` to `topic`, named `eventName` if one is given. With
// `retryMs` the event carries a retry: line; with `close` as well the
// server then closes the topic's streams (a pause: they come back).
// Answers { ok: true, id, queued, [closed,] text } or { ok: false, status, message }.
export async function publish(topic, data, eventName = '', { retryMs = 0, close = false } = {}) {
    const query = new URLSearchParams({ topic });
    if (eventName) query.set('event', eventName);
    if (retryMs) query.set('retry', retryMs);
    if (close) query.set('close', '1');
    return send(`/publish?${query}`, {
        method: 'POST',
        body: data,
        headers: { 'Content-Type': 'text/plain; charset=utf-8', ...authorization() },
    });
}

// Ends `topic`. Answers { ok: true, topic, ended_streams, text } or a refusal.
export async function endTopic(topic) {
    const query = new URLSearchParams({ topic });
    return send(`/publish?${query}`, { method: 'DELETE', headers: authorization() });
}

async function send(url, init) {
    let response;
    try {
        response = await fetch(url, init);
    } catch {
        return { ok: false, status: 0, message: 'The server could not be reached. Is it still running?' };
    }
    if (response.ok) {
        const text = await response.text();  // kept as sent, for showing it
        return { ok: true, text, ...JSON.parse(text) };
    }
    const text = (await response.text()).trim();
    return { ok: false, status: response.status, message: explainRefusal(response.status, text) };
}

export function explainRefusal(status, serverText) {
    switch (status) {
    case 401:
        return 'Refused (401): this server was started with --publish-token. ' +
               'Enter the token under “Server started with --publish-token?” and try again.';
    case 403:
        return 'Refused (403): without a token this server takes publishes only from its own ' +
               'machine (loopback). Open the page on that machine, or start the server with ' +
               '--publish-token and enter the token in the form.';
    case 413:
        return 'Refused (413): the data is larger than the server’s --max-event-bytes.';
    default:
        return `Refused (${status}): ${serverText || 'no reason given'}`;
    }
}
