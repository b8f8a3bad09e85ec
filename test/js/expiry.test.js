// Session expiry: the SDK reconnects with a new token. The shortest session
// IVS allows is one minute, so this file runs for about a minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SendMessageRequest } from 'amazon-ivs-chat-messaging';
import { startServer, createRoom, connect, once } from './harness.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('session expiry makes the SDK reconnect with a new token', { timeout: 120000 }, async () => {
  const { arn } = await createRoom(server);
  // Without tokenExpirationTime the SDK schedules no proactive refresh, so
  // the session runs until the server ends it with ERROR 401.
  const room = await connect(server, arn, 'alice', ['SEND_MESSAGE'], {
    sessionDurationInMinutes: 1,
    tweakToken: (t) => ({ token: t.token, sessionExpirationTime: t.sessionExpirationTime }),
  });
  try {
    assert.equal(room.stats.tokens, 1);
    await once(room, 'connecting', 90000);
    await once(room, 'connect', 10000);
    assert.ok(room.stats.tokens >= 2, `tokens fetched: ${room.stats.tokens}`);
    const msg = await room.sendMessage(new SendMessageRequest('still here'));
    assert.equal(msg.content, 'still here');
  } finally {
    room.disconnect();
  }
});
