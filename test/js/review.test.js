// Message review handlers through the real server and the official SDKs:
// a fake Lambda Invoke API (reached with --lambda-endpoint) and an http
// webhook, both played by a Node server started here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { SendMessageRequest } from 'amazon-ivs-chat-messaging';
import { SendEventCommand } from '@aws-sdk/client-ivschat';
import { startServer, createRoom, connect, once, waitFor } from './harness.js';

const rewrite = (content) => `[rewritten] ${content.toUpperCase()}`;

// Behaviour by function name (Lambda) or last path element (webhook).
const behaviours = {
  rewrite: (req) => ({ ReviewResult: 'ALLOW', Content: rewrite(req.Content), Attributes: { reviewed: 'rewritten' } }),
  deny: () => ({ ReviewResult: 'DENY' }),
};

let fake;
let fakeURL;
let server;
const requests = [];

/** The fake handler: POST /2015-03-31/functions/<ARN>/invocations or /webhook/<name>. */
function handle(req, res) {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const lambda = path.match(/^\/2015-03-31\/functions\/arn:aws:lambda:[^/]*:function:([^/:]+)\/invocations$/);
    const webhook = path.match(/^\/webhook\/([^/]+)$/);
    const name = lambda?.[1] ?? webhook?.[1];
    const payload = JSON.parse(body);
    requests.push({ name, transport: lambda ? 'lambda' : 'webhook', payload, auth: req.headers.authorization ?? '' });
    const behave = behaviours[name];
    if (req.method !== 'POST' || !behave) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `no handler ${path}` }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(behave(payload)));
  });
}

before(async () => {
  fake = createServer(handle);
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  fakeURL = `http://127.0.0.1:${fake.address().port}`;
  server = await startServer(['--lambda-endpoint', fakeURL], {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  });
});
after(async () => {
  await server?.stop();
  await new Promise((r) => (fake ? fake.close(r) : r()));
});

const handlers = {
  lambda: (name) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  webhook: (name) => `${fakeURL}/webhook/${name}`,
};

for (const [transport, uri] of Object.entries(handlers)) {
  test(`${transport}: the official SDK receives the rewritten content`, async () => {
    const { arn } = await createRoom(server, { messageReviewHandler: { uri: uri('rewrite'), fallbackResult: 'DENY' } });
    const alice = await connect(server, arn, 'alice', ['SEND_MESSAGE']);
    const bob = await connect(server, arn, 'bob');
    try {
      const msg = await alice.sendMessage(new SendMessageRequest('darn it', { mood: 'grumpy' }));
      assert.equal(msg.content, rewrite('darn it'));
      assert.deepEqual(msg.attributes, { reviewed: 'rewritten' });
      await waitFor(() => bob.received.some((m) => m.id === msg.id), 5000, 'bob to receive the message');
      const got = bob.received.find((m) => m.id === msg.id);
      assert.equal(got.content, rewrite('darn it'));
      assert.deepEqual(got.attributes, { reviewed: 'rewritten' });
      const seen = requests.find((r) => r.transport === transport && r.payload.RoomArn === arn);
      assert.ok(seen, 'the handler was not called');
      assert.equal(seen.payload.Content, 'darn it');
      assert.equal(seen.payload.MessageId, msg.id);
      assert.deepEqual(seen.payload.Attributes, { mood: 'grumpy' });
      assert.equal(seen.payload.Sender.UserId, 'alice');
      if (transport === 'lambda') assert.match(seen.auth, /^AWS4-HMAC-SHA256 /);
    } finally {
      alice.disconnect(); bob.disconnect();
    }
  });

  test(`${transport}: a DENY rejects sendMessage with errorCode 406 and nothing is broadcast`, async () => {
    const { arn } = await createRoom(server, { messageReviewHandler: { uri: uri('deny'), fallbackResult: 'ALLOW' } });
    const alice = await connect(server, arn, 'alice', ['SEND_MESSAGE']);
    const bob = await connect(server, arn, 'bob');
    try {
      await assert.rejects(alice.sendMessage(new SendMessageRequest('spam')), (e) => e.errorCode === 406);
      // The next thing bob sees is an event sent after the rejection.
      const marker = once(bob, 'event');
      await server.client.send(new SendEventCommand({ roomIdentifier: arn, eventName: 'marker' }));
      assert.equal((await marker).eventName, 'marker');
      assert.equal(bob.received.length, 0, 'bob received a denied message');
    } finally {
      alice.disconnect(); bob.disconnect();
    }
  });
}
