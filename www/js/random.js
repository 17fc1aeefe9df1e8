// Section 1, quick start: subscribe to /random and list numbers as they arrive.
import { addLimited, byId } from './dom.js';

export function startRandom() {
    const status = byId('random-status');
    const count = byId('random-count');
    const list = byId('random-list');
    let received = 0;

    function showStatus(text) {
        status.textContent = text;
        status.dataset.state = text;
    }

    const source = new EventSource('/random');
    source.addEventListener('open', () => showStatus('open'));
    // After an error the browser retries by itself unless readyState is CLOSED.
    source.addEventListener('error', () => {
        showStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    });
    source.addEventListener('message', (event) => {
        received += 1;
        count.textContent = received;
        const item = document.createElement('li');
        item.textContent = event.data;  // textContent: data is never run as markup
        // The bar's length shows the number's place in 1..1000.
        item.style.setProperty('--fraction', Math.min(Number(event.data) / 1000, 1) || 0);
        addLimited(list, item, { max: 12 });
    });
}
