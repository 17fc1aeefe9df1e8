// Section 8, private topics, in the server's demo mode. One run: this
// user's private topic refused without a token (401, and EventSource stops
// for good); a token from /demo/token, which sets the cookie; the same
// subscription let in, with this user's events and another user's topic
// refused (403); then the token expiring, which ends the stream, and the
// browser coming back by itself with the cookie the page renewed meanwhile.
import { byId, clock, delay, logStep, randomSuffix, waitUntil } from './dom.js';
import { publish } from './publisher.js';

const kRenewEveryMs = 15000;   // a demo token lives 20 s (kDemoTokenSeconds): renew well before
const kCookieLifeMs = 21000;   // the cookie's Max-Age of 20 s, and a second to spare
const kExpiryWaitMs = 40000;   // the token's 20 s, the server's leeway of 5 s, and room
const kComeBackWaitMs = 15000; // the retry: delay, 3 s give or take 20 %, and room
const kWaitMs = 10000;
// When the last cookie this page got runs out. The page cannot read or
// delete an HttpOnly cookie, so it remembers, across reloads too, and waits
// for it to be gone before showing a subscription without a token.
const kCookieUntil = 'sse-demo-cookie-until';
const kStateNames = ['CONNECTING', 'OPEN', 'CLOSED'];
const suffix = randomSuffix();
const me = `ada-${suffix}`;
const other = `bob-${suffix}`;

export function startPrivate() {
    byId('private-me').textContent = me;
    byId('private-other').textContent = other;
    byId('private-run').addEventListener('click', async () => {
        const button = byId('private-run');
        button.disabled = true;
        byId('private-log').replaceChildren();
        showResult('running', 'Running…');
        try {
            await privateDemo();
        } catch (error) {
            step(error.message, 'bad');
            showResult('failed', error.message);
        } finally {
            button.disabled = false;
        }
    });
}

function step(text, tone) {
    logStep(byId('private-log'), text, { tone, max: 30 });
}

function showState(state) {
    const badge = byId('private-badge');
    badge.dataset.state = state;
    badge.textContent = state;
}

function showResult(state, text) {
    const result = byId('private-result');
    result.dataset.state = state;
    result.textContent = text;
}

async function privateDemo() {
    await outwaitLastCookie();
    const url = `/latest/private.user.${me}.*`;

    step(`new EventSource('${url}'), with no token`);
    await refusedSource(url, 401);

    const grant = await renew();
    step(`GET /demo/token?user=${me} set the cookie sse_token, good until ${clock(new Date(grant.expires_at * 1000))}; ` +
         'the page need not read it (HttpOnly): below is the token from the JSON answer, decoded', 'good');
    step(`new EventSource('${url}') again; the browser sends the cookie`);
    showState('CONNECTING');
    const source = new EventSource(url);
    const stream = follow(source);
    const renewal = setInterval(async () => {
        try {
            const next = await renew();
            stream.renewedAt = clock();
            step(`renewed the cookie: GET /demo/token?user=${me}, the new token good until ` +
                 `${clock(new Date(next.expires_at * 1000))}`);
        } catch (error) {
            step(error.message, 'bad');
        }
    }, kRenewEveryMs);
    try {
        await grantedDemo(stream, url);
    } finally {
        clearInterval(renewal);
        source.close();
    }
    showState('CLOSED');
    step('source.close(): the demo is over, and the page no longer renews the cookie');
}

// A subscription to `url` that must be refused with `status`: resolves
// once the browser gave up (CLOSED) and the answer is shown; fails if it is
// let in or refused otherwise.
async function refusedSource(url, status) {
    showState('CONNECTING');
    const source = new EventSource(url);
    let opened = false;
    source.addEventListener('open', () => { opened = true; });
    source.addEventListener('error', () => showState(kStateNames[source.readyState]));
    try {
        await waitUntil(() => opened || source.readyState === EventSource.CLOSED, kWaitMs, `${url} to be refused`);
    } finally {
        source.close();
    }
    if (opened) {
        throw new Error(`${url} was let in: the browser still holds a cookie that grants it, or this ` +
                        'server keeps no topic private (only its demo mode makes private.** private)');
    }
    step('error, readyState CLOSED: the answer was not a 200 event stream, so the browser gave up ' +
         'for good; asking again with the same credentials could not succeed', 'good');
    const answer = await askByHand(url);
    if (answer.status !== status) throw new Error(`GET ${url} answered ${describe(answer)}, not ${status}`);
    step(`GET ${url} answers ${describe(answer)}`, 'good');
}

// EventSource never shows an answer's status; ask once more by hand to show it.
async function askByHand(url) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), kWaitMs);
    try {
        const response = await fetch(url, { signal: controller.signal });
        const challenge = response.headers.get('WWW-Authenticate');
        const reason = response.status === 200 ? 'an event stream' : (await response.text()).trim();
        return { status: response.status, statusText: response.statusText, challenge, reason };
    } finally {
        clearTimeout(timer);
        controller.abort();  // a 200 would be a stream that never ends
    }
}

function describe({ status, statusText, challenge, reason }) {
    return `${status} ${statusText}${challenge ? ` (WWW-Authenticate: ${challenge})` : ''}: ${reason}`;
}

// Gets a token for `me`; the answer sets the cookie, and its JSON is shown.
async function renew() {
    const response = await fetch(`/demo/token?user=${me}`);
    if (response.status === 404) {
        throw new Error('GET /demo/token answered 404: this server is not in demo mode ' +
                        '(it runs with --jwt-key-file or --no-demo), so this demo cannot run here');
    }
    if (!response.ok) throw new Error(`GET /demo/token answered ${response.status}`);
    const grant = await response.json();
    localStorage.setItem(kCookieUntil, String(Date.now() + kCookieLifeMs));
    showToken(grant.token);
    return grant;
}

async function outwaitLastCookie() {
    const left = Number(localStorage.getItem(kCookieUntil) ?? 0) - Date.now();
    if (left <= 0) return;
    step(`the cookie of the last run lives ${Math.ceil(left / 1000)} s more, and this page cannot ` +
         'delete it (HttpOnly): waiting for it to run out, so the first step really has no token');
    await delay(left);
}

// header.payload.signature: the first two are base64url JSON, shown decoded.
function showToken(token) {
    const [header, payload, signature] = token.split('.');
    const claims = decode(payload);
    const seconds = claims.exp - Math.floor(Date.now() / 1000);
    const rows = [
        ['header', JSON.stringify(decode(header))],
        ['payload', JSON.stringify(claims)],
        ['exp', `${claims.exp}: ${clock(new Date(claims.exp * 1000))}, in ${seconds} s`],
        ['sse', `may read ${claims.sse.subscribe.join(', ')}; may publish to ${claims.sse.publish.join(', ')}`],
        ['signature', `${signature.slice(0, 12)}…: HMAC-SHA-256 of header.payload with the server's key`],
    ];
    byId('private-token').replaceChildren(...rows.flatMap(([name, value]) => {
        const term = document.createElement('dt');
        const description = document.createElement('dd');
        term.textContent = name;
        description.textContent = value;
        return [term, description];
    }));
}

function decode(part) {
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
}

async function published(topic, data) {
    const answer = await publish(topic, data);
    if (!answer.ok) throw new Error(answer.message);
    return answer;
}

// Follows the granted stream: what arrived, how often it opened, when the
// server ended it, and whether the browser gave up.
function follow(source) {
    const stream = { arrived: [], lastId: '', opens: 0, endedAt: 0, closed: false, awayId: '', renewedAt: '' };
    source.addEventListener('open', () => {
        stream.opens += 1;
        showState('OPEN');
        if (stream.opens === 1) {
            step(`open: the cookie's token grants private.user.${me}.**, which covers the pattern`, 'good');
        } else {
            const seconds = ((performance.now() - stream.endedAt) / 1000).toFixed(1);
            step(`open again after ${seconds} s, by itself, sending Last-Event-ID: ${stream.lastId} and the ` +
                 `cookie renewed at ${stream.renewedAt}`, 'good');
        }
    });
    for (const name of ['inbox', 'alerts']) {
        // A pattern stream names each event by its topic.
        source.addEventListener(`private.user.${me}.${name}`, (event) => {
            stream.arrived.push(event.lastEventId);
            stream.lastId = event.lastEventId;
            const replayed = event.lastEventId === stream.awayId ? ' (replayed from the history)' : '';
            step(`${event.type}, lastEventId ${event.lastEventId}: ${event.data}${replayed}`);
        });
    }
    source.addEventListener('error', () => {
        showState(kStateNames[source.readyState]);
        if (source.readyState === EventSource.CONNECTING) {
            stream.endedAt = performance.now();
            step('error, readyState CONNECTING: the token this stream started with expired, so the server ' +
                 'sent a last retry: and closed; the browser comes back by itself after that delay', 'warn');
        } else {
            stream.closed = true;
            step('error, readyState CLOSED: the browser gave up; the cookie was not renewed in time', 'bad');
        }
    });
    return stream;
}

// The granted subscription, to the end: this user's events, another user
// refused, the expiry and the return.
async function grantedDemo(stream, url) {
    const { arrived } = stream;
    const until = async (check, ms, what) => {
        await waitUntil(() => check() || stream.closed, ms, what);
        if (stream.closed) throw new Error(`the browser gave up on ${url} while waiting for ${what}`);
    };
    await until(() => stream.opens > 0, kWaitMs, 'the stream to open');
    const inbox = await published(`private.user.${me}.inbox`, `For ${me} only.`);
    const alert = await published(`private.user.${me}.alerts`, 'A second topic of the same user, on the same stream.');
    await until(() => arrived.includes(inbox.id) && arrived.includes(alert.id), kWaitMs, 'this user\'s events');

    const theirs = `/latest/private.user.${other}.*`;
    step(`new EventSource('${theirs}'): the same cookie, someone else's topics`);
    await refusedSource(theirs, 403);
    showState('OPEN');

    step('waiting for the token to expire; the page renews the cookie every 15 s meanwhile');
    showResult('running', 'Waiting for the token this stream started with to expire…');
    await until(() => stream.endedAt > 0, kExpiryWaitMs, 'the token to expire');
    const away = await published(`private.user.${me}.inbox`, 'Published while the browser was away.');
    stream.awayId = away.id;
    step(`published while away, id ${away.id}: no stream is open, the topic's history keeps it`);

    await until(() => stream.opens > 1, kComeBackWaitMs, 'the browser to come back');
    await until(() => arrived.includes(away.id), kWaitMs, 'the event published while away');
    const live = await published(`private.user.${me}.inbox`, 'Live again.');
    await until(() => arrived.includes(live.id), kWaitMs, 'a live event');
    const twice = arrived.length - new Set(arrived).size;
    const summary = `Refused without a token (401) and for ${other} (403); let in with the cookie; ` +
                    `resumed by itself after the expiry: ${arrived.length} events, ${twice} twice, none lost.`;
    step(summary, twice ? 'bad' : 'good');
    showResult(twice ? 'failed' : 'done', summary);
}
