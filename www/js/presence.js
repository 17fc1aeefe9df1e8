// Section 2, who else is here: GET /presence counts the streams following
// each topic and says so at once, then whenever a count changes (at most
// once a second per topic). Open this page in a second tab and the counts
// go up by one; close it and they come down.
import { byId } from './dom.js';

const kPresenceUrl = '/presence?type=news,weather,stock';

export function startPresence() {
    const source = new EventSource(kPresenceUrl);
    // Presence is state, not history: no ids, and a reconnection simply
    // gets the counts of that moment.
    source.addEventListener('presence', (event) => {
        const { topic, subscribers } = JSON.parse(event.data);
        const cell = byId(`presence-${topic}`);
        if (!cell) return;
        cell.textContent = String(subscribers);
        cell.dataset.count = String(subscribers);
    });
}
