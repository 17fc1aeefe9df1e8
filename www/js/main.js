// Starts every demo on the page. Each lives in its own file, named after
// its section; the order matters only in that section 3 watches the stream
// section 2 opens, so it starts listening first.
import { startConnection } from './connection.js';
import { startEnding } from './ending.js';
import { startPresence } from './presence.js';
import { startPrivate } from './private.js';
import { startPublish } from './publish.js';
import { startRandom } from './random.js';
import { startResume } from './resume.js';
import { startTopics } from './topics.js';
import { startWire } from './wire.js';

startRandom();
startConnection();
startTopics();
startPresence();
startResume();
startWire();
startPublish();
startEnding();
startPrivate();
