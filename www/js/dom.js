// Small helpers shared by the demos: finding elements, short logs, waiting.

export function byId(id) {
    return document.getElementById(id);
}

// The time of day as HH:MM:SS, for log lines.
export function clock(date = new Date()) {
    return date.toTimeString().slice(0, 8);
}

// Adds an item to a list and drops the oldest beyond `max`, so a page left
// open for hours does not grow without end. Newest first unless told otherwise.
export function addLimited(list, item, { max = 20, newestFirst = true } = {}) {
    if (newestFirst) {
        list.prepend(item);
        while (list.children.length > max) list.lastElementChild.remove();
    } else {
        list.append(item);
        while (list.children.length > max) list.firstElementChild.remove();
    }
}

// Appends "HH:MM:SS text" to a step-by-step log. Text only: event data is
// never inserted as markup.
export function logStep(list, text, { max = 14, tone = '' } = {}) {
    const item = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = clock();
    item.append(time, ' ', text);
    if (tone) item.dataset.tone = tone;
    addLimited(list, item, { max, newestFirst: false });
    return item;
}

// JSON.parse that answers null instead of throwing: anyone may publish
// anything to a topic, so a widget must survive data it did not expect.
export function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

export function delay(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolves once check() is true; rejects after timeoutMs. Every wait in the
// demos has a deadline, so a demo reports a failure instead of hanging.
export async function waitUntil(check, timeoutMs, what) {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
        if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
        await delay(50);
    }
}

// Opens an EventSource and resolves with it once it is OPEN. Rejects if the
// browser gives up (readyState CLOSED) or the deadline passes first.
export function openEventSource(url, timeoutMs = 10000) {
    const source = new EventSource(url);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => fail(`no answer from ${url}`), timeoutMs);
        function fail(why) {
            clearTimeout(timer);
            source.close();
            reject(new Error(why));
        }
        source.addEventListener('open', () => {
            clearTimeout(timer);
            resolve(source);
        }, { once: true });
        source.addEventListener('error', () => {
            if (source.readyState === EventSource.CLOSED) fail(`the server refused ${url}`);
        });
    });
}

// A random suffix for topics this page owns, so visitors do not disturb each other.
export function randomSuffix() {
    return Math.random().toString(36).slice(2, 10);
}
