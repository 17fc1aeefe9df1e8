// Section 2, one connection for many topics: one EventSource on
// /latest?type=news,weather,stock, one listener per named event, each
// feeding a widget. Sections 3 and 5 watch this same stream through
// onLifecycle() and onTopicEvent().
import { PriceChart } from './chart.js';
import { addLimited, byId, clock, parseJson } from './dom.js';

export const kTopicsUrl = '/latest?type=news,weather,stock';
// A new EventSource first gets the newest events of each topic (?last=N),
// so every widget is filled the moment the page opens. The browser's own
// reconnections send Last-Event-ID, which wins: they get exactly what they
// missed, never these again.
export const kFirstConnectEvents = 5;

let source = null;
let chart = null;
const lifecycleWatchers = [];
const eventWatchers = [];

// callback(kind, source) with kind 'open', 'error' or 'close'.
export function onLifecycle(callback) {
    lifecycleWatchers.push(callback);
}

// callback(event) for every event this stream delivers.
export function onTopicEvent(callback) {
    eventWatchers.push(callback);
}

export function topicsSource() {
    return source;
}

export function startTopics() {
    chart = new PriceChart(byId('stock-chart'));
    openTopics();
}

export function openTopics() {
    closeTopics();
    const stream = new EventSource(`${kTopicsUrl}&last=${kFirstConnectEvents}`);
    source = stream;
    const tell = (kind) => lifecycleWatchers.forEach((watch) => watch(kind, stream));
    stream.addEventListener('open', () => tell('open'));
    stream.addEventListener('error', () => tell('error'));
    listen(stream, 'news', showHeadline);
    listen(stream, 'weather', showWeather);
    listen(stream, 'stock', showQuote);
    listen(stream, 'reset', forgetEverything);
    tell('connecting');
}

export function closeTopics() {
    if (!source) return;
    source.close();  // readyState is CLOSED at once and the browser never retries
    const closed = source;
    source = null;
    lifecycleWatchers.forEach((watch) => watch('close', closed));
}

function listen(stream, name, show) {
    stream.addEventListener(name, (event) => {
        show(event);
        eventWatchers.forEach((watch) => watch(event));
    });
}

function countUpdate(widget) {
    widget.dataset.updates = Number(widget.dataset.updates) + 1;
}

function showHeadline(event) {
    const ticker = byId('news-ticker');
    ticker.querySelector('.placeholder')?.remove();
    const item = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = clock();
    item.append(time, ' ', event.data);
    addLimited(ticker, item, { max: 5 });
    countUpdate(byId('widget-news'));
}

// {"temperature":"21C","wind":"12Kph","rain":"40%"}
function showWeather(event) {
    const weather = parseJson(event.data);
    byId('weather-temperature').textContent = weather?.temperature ?? event.data;
    byId('weather-wind').textContent = weather?.wind ?? '–';
    byId('weather-rain').textContent = weather?.rain ?? '–';
    byId('weather-time').textContent = clock();
    countUpdate(byId('widget-weather'));
}

// {"symbol":"AC","company":"Acme Corp","price":121.16,"increase":-2.29}
function showQuote(event) {
    const quote = parseJson(event.data);
    const price = Number(quote?.price);
    if (!Number.isFinite(price)) {
        byId('stock-price').textContent = event.data;  // not a quote: show it as it came
        countUpdate(byId('widget-stock'));
        return;
    }
    const increase = Number(quote.increase) || 0;
    const direction = increase > 0 ? 'up' : increase < 0 ? 'down' : 'flat';
    const arrow = { up: '▲', down: '▼', flat: '■' }[direction];
    byId('stock-symbol').textContent = quote.symbol ?? '';
    byId('stock-company').textContent = quote.company ?? '';
    byId('stock-price').textContent = price.toFixed(2);
    const change = byId('stock-change');
    change.textContent = `${arrow} ${Math.abs(increase).toFixed(2)}`;
    change.dataset.direction = direction;
    change.setAttribute('aria-label', `${direction} ${Math.abs(increase).toFixed(2)}`);
    chart.add(price);
    countUpdate(byId('widget-stock'));
}

// event: reset means the server could not replay everything this stream
// missed (after a restart, say). What the widgets show may have holes, so
// start over; the replay right behind the reset fills them again.
function forgetEverything() {
    const ticker = byId('news-ticker');
    ticker.replaceChildren();
    chart.clear();
}
