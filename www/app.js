// Quick start: subscribe to /random and list the numbers as they arrive.
'use strict';

// Older entries are dropped so a page left open does not grow without end.
const kMaxShown = 20;

const statusLine = document.getElementById('status');
const numbers = document.getElementById('numbers');

function show(text) {
    statusLine.textContent = text;
}

// Newest first; textContent (not innerHTML) so event data is never run as markup.
function add(data) {
    const item = document.createElement('li');
    item.textContent = data;
    numbers.prepend(item);
    while (numbers.children.length > kMaxShown) {
        numbers.lastElementChild.remove();
    }
}

const source = new EventSource('/random');
source.addEventListener('open', () => show('connected'));
// EventSource retries by itself after an error unless the server refused the
// stream outright (readyState CLOSED), which is worth saying differently.
source.addEventListener('error', () => {
    show(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…');
});
source.addEventListener('message', (event) => add(event.data));
