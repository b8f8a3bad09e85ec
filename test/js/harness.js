// Test harness: starts a real Parley binary on a random port with its own
// data dir, and builds the official clients against it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { IvschatClient, CreateRoomCommand, CreateChatTokenCommand } from '@aws-sdk/client-ivschat';
import { ChatRoom } from 'amazon-ivs-chat-messaging';

// The SDK uses the browser's WebSocket global; in Node the ws package is it.
globalThis.WebSocket = WebSocket;

const accessKeyId = 'PKJSTESTJSTESTJSTEST';
const secretAccessKey = 'js-test-secret-js-test-secret-js-test-00';

/**
 * Starts bin/parley serve and resolves when it prints its address.
 * extraArgs are more flags; extraEnv more environment variables.
 */
export async function startServer(extraArgs = [], extraEnv = {}) {
  const bin = process.env.PARLEY_BIN;
  if (!bin) throw new Error('PARLEY_BIN is not set (run through make test-js)');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-js-'));
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'error', ...extraArgs], {
    env: { ...process.env, ...extraEnv, PARLEY_ACCESS_KEY_ID: accessKeyId, PARLEY_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const addr = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + out)), 30000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/control plane:\s+http:\/\/(\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  proc.stdout.resume();
  const client = new IvschatClient({
    endpoint: `http://${addr}`,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
  });
  return {
    addr,
    client,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createRoom(server, input = {}) {
  return server.client.send(new CreateRoomCommand(input));
}

/**
 * Opens a ChatRoom for userId in the room with the given capabilities and
 * resolves once it is connected. tokens counts the tokens fetched;
 * tweakToken may change what the provider returns (e.g. tokenExpirationTime).
 */
export async function connect(server, roomArn, userId, capabilities = [], opts = {}) {
  const stats = { tokens: 0 };
  const room = new ChatRoom({
    regionOrUrl: `ws://${server.addr}`,
    tokenProvider: async () => {
      stats.tokens++;
      const out = await server.client.send(new CreateChatTokenCommand({
        roomIdentifier: roomArn, userId, capabilities,
        sessionDurationInMinutes: opts.sessionDurationInMinutes,
      }));
      const t = { token: out.token, sessionExpirationTime: out.sessionExpirationTime, tokenExpirationTime: out.tokenExpirationTime };
      return opts.tweakToken ? opts.tweakToken(t) : t;
    },
  });
  room.logLevel = 'error';
  room.logger = { debug() {}, info() {}, warn() {}, error() {} };
  room.stats = stats;
  room.received = [];
  room.addListener('message', (m) => room.received.push(m));
  const connected = once(room, 'connect');
  room.connect();
  await connected;
  return room;
}

/** Resolves with the payload of the next event of that name. */
export function once(room, name, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for "${name}"`)); }, timeoutMs);
    const off = room.addListener(name, (payload) => { clearTimeout(timer); off(); resolve(payload); });
  });
}

/** Polls cond every 20 ms until it is true or timeoutMs passes. */
export async function waitFor(cond, timeoutMs = 10000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
