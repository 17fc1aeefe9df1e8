// Section 5, the wire: read section 2's URL with fetch() and a stream
// reader, split the text into blocks at blank lines, and show each block
// next to the event that section 2's EventSource made of the same id.
import { byId } from './dom.js';
import { kTopicsUrl, onTopicEvent, topicsSource } from './topics.js';

const kMaxRows = 20;
const kPairWaitMs = 5000;

let controller = null;
const seenByEventSource = new Map();  // id -> event, for blocks still to come
const rowsWaiting = new Map();        // id -> right-hand cell, for events still to come

export function startWire() {
    byId('wire-start').addEventListener('click', read);
    byId('wire-stop').addEventListener('click', () => controller?.abort());
    onTopicEvent((event) => {
        const id = event.lastEventId;
        const cell = rowsWaiting.get(id);
        if (cell) {
            rowsWaiting.delete(id);
            describeEvent(cell, event);
            return;
        }
        seenByEventSource.set(id, event);
        if (seenByEventSource.size > 100) seenByEventSource.delete(seenByEventSource.keys().next().value);
    });
}

function setReading(reading, status) {
    byId('wire-start').disabled = reading;
    byId('wire-stop').disabled = !reading;
    byId('wire-status').textContent = status;
}

async function read() {
    controller = new AbortController();
    setReading(true, `GET ${kTopicsUrl} …`);
    try {
        const response = await fetch(kTopicsUrl, {
            headers: { Accept: 'text/event-stream' },
            signal: controller.signal,
        });
        setReading(true, `HTTP ${response.status}, Content-Type: ${response.headers.get('Content-Type')}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        // Text arrives in arbitrary pieces; an event is complete only at the
        // blank line that ends it. (This server ends lines with LF; the format
        // also allows CRLF and CR, which EventSource accepts too.)
        let pending = '';
        for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            pending += value;
            let end;
            while ((end = pending.indexOf('\n\n')) !== -1) {
                addRow(pending.slice(0, end + 1));
                pending = pending.slice(end + 2);
            }
        }
        setReading(false, 'The server ended the stream.');
    } catch (error) {
        setReading(false, error.name === 'AbortError' ? 'Stopped.' : `Reading failed: ${error.message}`);
    }
}

// One block of lines -> one row: the raw lines on the left, their meaning
// for EventSource on the right.
function addRow(block) {
    const lines = block.split('\n').filter((line) => line !== '');
    const fields = { id: null, event: null, data: [], retry: null, comments: [] };
    const raw = document.createElement('pre');
    raw.className = 'wire-raw';
    for (const line of lines) {
        const span = document.createElement('span');
        span.textContent = `${line}\n`;
        span.className = `field-${classify(line, fields)}`;
        raw.append(span);
    }
    const blank = document.createElement('span');
    blank.className = 'field-blank';
    blank.textContent = '(blank line: end of block)';
    raw.append(blank);
    const meaning = document.createElement('div');
    meaning.className = 'wire-meaning';
    const row = document.createElement('div');
    row.className = 'wire-row';
    row.append(raw, meaning);

    if (fields.data.length > 0) {
        row.dataset.kind = 'event';
        pairWithEventSource(meaning, fields);
    } else if (fields.retry !== null) {
        row.dataset.kind = 'retry';
        meaning.textContent = `No event: the reconnection delay becomes ${fields.retry} ms.`;
    } else {
        row.dataset.kind = 'comment';
        meaning.textContent = 'No event: a comment, which EventSource ignores. ' +
                              'It keeps proxies from closing a quiet stream.';
    }
    const rows = byId('wire-rows');
    // Follow the newest row, unless the reader has scrolled up to look back.
    const following = rows.scrollHeight - rows.scrollTop - rows.clientHeight < 40;
    rows.append(row);
    while (rows.children.length > kMaxRows) rows.firstElementChild.remove();
    if (following) rows.scrollTop = rows.scrollHeight;
}

// Returns the line's kind and records its value, the way the format defines
// it: "name: value", one optional space after the colon; ":" starts a comment.
function classify(line, fields) {
    if (line.startsWith(':')) {
        fields.comments.push(line.slice(1));
        return 'comment';
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') fields.data.push(value);
    else if (name === 'id' || name === 'event' || name === 'retry') fields[name] = value;
    else return 'unknown';
    return name;
}

function pairWithEventSource(cell, fields) {
    const source = topicsSource();
    if (fields.id === null) {
        cell.textContent = `An event without an id: dispatched as “${fields.event ?? 'message'}”, ` +
                           'lastEventId stays what it was.';
    } else if (seenByEventSource.has(fields.id)) {
        describeEvent(cell, seenByEventSource.get(fields.id));
        seenByEventSource.delete(fields.id);
    } else if (!source || source.readyState === EventSource.CLOSED) {
        cell.textContent = 'Section 2’s EventSource is closed (see section 3), so there is nothing to compare.';
    } else {
        cell.textContent = 'waiting for the EventSource…';
        rowsWaiting.set(fields.id, cell);
        setTimeout(() => {
            if (!rowsWaiting.delete(fields.id)) return;
            cell.textContent = 'Not seen by section 2’s EventSource: the two connections began ' +
                               'at different moments.';
        }, kPairWaitMs);
    }
}

function describeEvent(cell, event) {
    const list = document.createElement('dl');
    list.className = 'event-fields';
    for (const [name, value] of [['type', event.type], ['lastEventId', event.lastEventId], ['data', event.data]]) {
        const term = document.createElement('dt');
        term.textContent = name;
        const detail = document.createElement('dd');
        detail.textContent = value;
        list.append(term, detail);
    }
    cell.replaceChildren(list);
    cell.closest('.wire-row').dataset.paired = 'true';
}
