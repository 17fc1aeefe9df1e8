// node-server.js: the same pub/sub API as sse-server, written the way an SSE
// tutorial writes it (node:http, a Set of response objects per topic, one
// res.write() per subscriber per event), as a baseline for bench/compare.sh.
//
//   GET  /latest/<topic>          one topic's stream
//   GET  /latest?type=a,b,c       several topics, each event names its topic
//   POST /publish?topic=T         body = data; answers {"id":"N","queued":N}
//
// No history, no Last-Event-ID replay, no slow-reader limit: that is the
// tutorial's design, and what the comparison measures.
//
// Usage: node bench/node-server.js [port]   (0 picks a free port)

'use strict';

const http = require('node:http');

const port = Number(process.argv[2] || 8001);
const topics = new Map(); // topic -> Set of { res, multi }
let nextId = 0;

function subscribe(req, res, names, multi) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 3000\n\n');
  const subscriber = { res, multi };
  for (const name of names) {
    if (!topics.has(name)) topics.set(name, new Set());
    topics.get(name).add(subscriber);
  }
  req.on('close', () => {
    for (const name of names) topics.get(name)?.delete(subscriber);
  });
}

function publish(req, res, topic) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = String(nextId++);
    const data = body.split('\n').map((line) => `data: ${line}\n`).join('');
    const plain = `id: ${id}\n${data}\n`;
    const named = `id: ${id}\nevent: ${topic}\n${data}\n`;
    const subscribers = topics.get(topic) || new Set();
    for (const { res: stream, multi } of subscribers) stream.write(multi ? named : plain);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id, queued: subscribers.size }));
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname.startsWith('/latest/')) {
    return subscribe(req, res, [decodeURIComponent(url.pathname.slice(8))], false);
  }
  if (req.method === 'GET' && url.pathname === '/latest' && url.searchParams.get('type')) {
    return subscribe(req, res, [...new Set(url.searchParams.get('type').split(','))], true);
  }
  if (req.method === 'POST' && url.pathname === '/publish' && url.searchParams.get('topic')) {
    return publish(req, res, url.searchParams.get('topic'));
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

// Streams have no end, so node's default timeouts must not cut them.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 60000;
server.maxConnections = Infinity;

server.listen(port, '127.0.0.1', () => {
  console.log(`node-server listening on http://127.0.0.1:${server.address().port}`);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
