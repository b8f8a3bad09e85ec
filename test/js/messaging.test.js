// The official amazon-ivs-chat-messaging SDK and @aws-sdk/client-ivschat
// against a running Parley.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest } from 'amazon-ivs-chat-messaging';
import { SendEventCommand, DisconnectUserCommand } from '@aws-sdk/client-ivschat';
import { startServer, createRoom, connect, once, waitFor } from './harness.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const ALL = ['SEND_MESSAGE', 'DELETE_MESSAGE', 'DISCONNECT_USER'];

test('sendMessage resolves with the echoed message and the others receive it', async () => {
  const { arn } = await createRoom(server);
  const alice = await connect(server, arn, 'alice', ['SEND_MESSAGE']);
  const bob = await connect(server, arn, 'bob');
  const other = await createRoom(server);
  const carol = await connect(server, other.arn, 'carol');
  try {
    const msg = await alice.sendMessage(new SendMessageRequest('héllo 🎉', { mood: 'good' }));
    assert.equal(msg.content, 'héllo 🎉');
    assert.deepEqual(msg.attributes, { mood: 'good' });
    assert.equal(msg.sender.userId, 'alice');
    assert.match(msg.id, /^[A-Za-z0-9]{12}$/);
    assert.ok(msg.sendTime instanceof Date && !isNaN(msg.sendTime));
    await waitFor(() => bob.received.some((m) => m.id === msg.id), 5000, 'bob to receive the message');
    const got = bob.received.find((m) => m.id === msg.id);
    assert.equal(got.content, 'héllo 🎉');
    assert.equal(got.requestId, msg.requestId);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(carol.received.length, 0, 'a client of another room received the message');
  } finally {
    alice.disconnect(); bob.disconnect(); carol.disconnect();
  }
});

test('deleteMessage and disconnectUser resolve; others see messageDelete and userDisconnect; the target stays disconnected', async () => {
  const { arn } = await createRoom(server);
  const mod = await connect(server, arn, 'mod', ALL);
  const viewer = await connect(server, arn, 'viewer');
  const troll = await connect(server, arn, 'troll', ['SEND_MESSAGE']);
  try {
    const msg = await troll.sendMessage(new SendMessageRequest('spam'));
    const deleteSeen = once(viewer, 'messageDelete');
    const del = await mod.deleteMessage(new DeleteMessageRequest(msg.id, 'no spam'));
    assert.equal(del.messageId, msg.id);
    assert.equal(del.reason, 'no spam');
    assert.equal((await deleteSeen).messageId, msg.id);

    const kickSeen = once(viewer, 'userDisconnect');
    const trollGone = once(troll, 'disconnect');
    const kick = await mod.disconnectUser(new DisconnectUserRequest('troll', 'bye'));
    assert.equal(kick.userId, 'troll');
    assert.equal((await kickSeen).reason, 'bye');
    assert.equal(await trollGone, 'serverDisconnect');
    const tokensBefore = troll.stats.tokens;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(troll.state, 'disconnected');
    assert.equal(troll.stats.tokens, tokensBefore, 'the disconnected client came back');
    assert.equal(viewer.state, 'connected');
  } finally {
    mod.disconnect(); viewer.disconnect(); troll.disconnect();
  }
});

test('control-plane SendEvent and DisconnectUser reach the SDK', async () => {
  const { arn } = await createRoom(server);
  const viewer = await connect(server, arn, 'viewer');
  const target = await connect(server, arn, 'target');
  try {
    const evSeen = once(viewer, 'event');
    const out = await server.client.send(new SendEventCommand({ roomIdentifier: arn, eventName: 'app:confetti', attributes: { color: 'red' } }));
    const ev = await evSeen;
    assert.equal(ev.id, out.id);
    assert.equal(ev.eventName, 'app:confetti');
    assert.deepEqual(ev.attributes, { color: 'red' });

    const gone = once(target, 'disconnect');
    const seen = once(viewer, 'userDisconnect');
    await server.client.send(new DisconnectUserCommand({ roomIdentifier: arn, userId: 'target', reason: 'moderated' }));
    assert.equal((await seen).userId, 'target');
    assert.equal(await gone, 'serverDisconnect');
  } finally {
    viewer.disconnect(); target.disconnect();
  }
});

test('a token without capabilities gets 403', async () => {
  const { arn } = await createRoom(server);
  const viewer = await connect(server, arn, 'viewer');
  try {
    await assert.rejects(viewer.sendMessage(new SendMessageRequest('hi')), (e) => e.errorCode === 403);
    await assert.rejects(viewer.deleteMessage(new DeleteMessageRequest('AbCdEf123456')), (e) => e.errorCode === 403);
    await assert.rejects(viewer.disconnectUser(new DisconnectUserRequest('x')), (e) => e.errorCode === 403);
    assert.equal(viewer.state, 'connected');
  } finally {
    viewer.disconnect();
  }
});

test('overlong content gets 400', async () => {
  const { arn } = await createRoom(server, { maximumMessageLength: 5 });
  const alice = await connect(server, arn, 'alice', ['SEND_MESSAGE']);
  try {
    await assert.rejects(alice.sendMessage(new SendMessageRequest('123456')), (e) => e.errorCode === 400);
    const ok = await alice.sendMessage(new SendMessageRequest('🎉🎉🎉🎉🎉'));
    assert.equal(ok.content, '🎉🎉🎉🎉🎉', 'length is counted in code points');
  } finally {
    alice.disconnect();
  }
});

test('the room rate gets 429', async () => {
  const { arn } = await createRoom(server, { maximumMessageRatePerSecond: 2 });
  const a = await connect(server, arn, 'a', ['SEND_MESSAGE']);
  const b = await connect(server, arn, 'b', ['SEND_MESSAGE']);
  try {
    const results = await Promise.allSettled([
      a.sendMessage(new SendMessageRequest('1')), b.sendMessage(new SendMessageRequest('2')),
      a.sendMessage(new SendMessageRequest('3')), b.sendMessage(new SendMessageRequest('4')),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter((r) => r.status === 'rejected' && r.reason.errorCode === 429).length;
    assert.equal(ok, 2, JSON.stringify(results));
    assert.equal(limited, 2);
  } finally {
    a.disconnect(); b.disconnect();
  }
});

test('a short token lifetime makes the SDK swap connections with no message lost', async () => {
  const { arn } = await createRoom(server, { maximumMessageRatePerSecond: 100 });
  // The SDK opens its next connection 30 s before a token that has less than
  // 60 s left expires: a token said to expire in 31 s is refreshed after ~1 s.
  const viewer = await connect(server, arn, 'viewer', [], {
    tweakToken: (t) => ({ ...t, tokenExpirationTime: new Date(Date.now() + 31000) }),
  });
  const sender = await connect(server, arn, 'sender', ['SEND_MESSAGE']);
  try {
    const sent = [];
    const deadline = Date.now() + 3500;
    let i = 0;
    while (Date.now() < deadline) {
      const m = await sender.sendMessage(new SendMessageRequest(`m${i++}`));
      sent.push(m.id);
      await new Promise((r) => setTimeout(r, 150)); // under the 10 requests/s per connection
    }
    assert.ok(viewer.stats.tokens >= 2, `the viewer fetched ${viewer.stats.tokens} tokens, want a swap`);
    await waitFor(() => sent.every((id) => viewer.received.some((m) => m.id === id)), 5000, 'every message at the viewer');
    const ids = viewer.received.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'a message was delivered twice');
    assert.equal(viewer.state, 'connected');
  } finally {
    viewer.disconnect(); sender.disconnect();
  }
});
