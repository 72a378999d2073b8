import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { nodeBackend } from '../../src-main/protocol/crypto/node-backend.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { type AcceptOptions, acceptChannel } from '../../src-main/protocol/host-handshake.ts';
import { type ConnectOptions, initiateChannel } from '../../src-main/protocol/client-handshake.ts';
import type { SecureChannel } from '../../src-main/protocol/secure-channel.ts';

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function newKeyPair(): KeyPair {
  return nodeBackend.generateKeyPair();
}

export interface TestHost {
  readonly port: number;
  readonly keyPair: KeyPair;
  /** Channels accepted so far, already started. */
  readonly channels: SecureChannel[];
  /** Handshake failures, in order. */
  readonly failures: Error[];
  nextChannel(): Promise<SecureChannel>;
  nextFailure(): Promise<Error>;
  close(): Promise<void>;
}

/** A bare host on 127.0.0.1:0 that completes handshakes and records what happened. */
export async function startTestHost(options: Partial<AcceptOptions> = {}): Promise<TestHost> {
  const keyPair = options.staticKeyPair ?? newKeyPair();
  const channels: SecureChannel[] = [];
  const failures: Error[] = [];
  const waiters: { channel: ((c: SecureChannel) => void)[]; failure: ((e: Error) => void)[] } = {
    channel: [],
    failure: [],
  };
  const sockets = new Set<Socket>();
  const server: Server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptChannel(socket, {
      hostInfo: encoder.encode('{"name":"test"}'),
      ...options,
      staticKeyPair: keyPair,
    }).then(
      (channel) => {
        channels.push(channel);
        const waiter = waiters.channel.shift();
        if (waiter) waiter(channel);
        else channel.start();
      },
      (error: Error) => {
        failures.push(error);
        waiters.failure.shift()?.(error);
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    keyPair,
    channels,
    failures,
    nextChannel: () => new Promise((resolve) => waiters.channel.push(resolve)),
    nextFailure: () => new Promise((resolve) => waiters.failure.push(resolve)),
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export async function connectSocket(port: number): Promise<Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

export async function connectTestClient(
  port: number,
  options: Partial<ConnectOptions> & { socket?: Socket } = {},
): Promise<SecureChannel> {
  const socket = options.socket ?? (await connectSocket(port));
  return initiateChannel(socket, {
    staticKeyPair: options.staticKeyPair ?? newKeyPair(),
    hello: encoder.encode('{"nick":"test"}'),
    verifyHost: () => undefined,
    ...options,
  });
}

/** Collects a started channel's messages as strings, and its close. */
export function collect(channel: SecureChannel) {
  const messages: string[] = [];
  let closeResolve: (info: NonNullable<SecureChannel['closeInfo']>) => void = () => undefined;
  const closed = new Promise<NonNullable<SecureChannel['closeInfo']>>((r) => (closeResolve = r));
  channel.on('message', (m) => messages.push(decoder.decode(m)));
  channel.on('close', (info) => closeResolve(info));
  channel.start();
  return {
    messages,
    closed,
    async waitFor(count: number, timeoutMs = 5000): Promise<string[]> {
      const start = Date.now();
      while (messages.length < count) {
        if (Date.now() - start > timeoutMs)
          throw new Error(`got ${messages.length}/${count} messages`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return messages;
    },
  };
}
