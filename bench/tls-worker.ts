// One connector thread of the TLS 1.3 baseline (bench/tls-handshakes.ts): the same loop as the
// Parley handshake test in bench/load-worker.ts — connect, full handshake with the server's
// certificate pinned, a small "hello" record, wait for the "welcome" record, hang up — `concurrency`
// sessions at a time. No session is ever resumed: each connection is a full TLS 1.3 handshake.
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { parentPort } from 'node:worker_threads';
import { Histogram } from './histogram.ts';

export interface TlsRunCommand {
  readonly cmd: 'run';
  readonly port: number;
  /** The server's certificate (PEM): the only trust anchor, as a pinned Parley host key is. */
  readonly cert: string;
  /** Its SHA-256 fingerprint as Node prints it (`AA:BB:…`), checked on every connection. */
  readonly fingerprint256: string;
  readonly servername: string;
  readonly groups: string;
  readonly durationMs: number;
  readonly concurrency: number;
}

export interface TlsRunReport {
  readonly completed: number;
  readonly failed: number;
  readonly errors: string[];
  readonly histogram: { counts: Float64Array; max: number };
  /** What was negotiated, from one connection: e.g. TLSv1.3, TLS_AES_256_GCM_SHA384, X25519. */
  readonly negotiated: { protocol: string; cipher: string; group: string } | undefined;
}

// About the size of Parley's hello (version, nickname, software).
const HELLO = Buffer.from(JSON.stringify({ v: 4, nick: 'k123', software: 'bench' }), 'utf8');

function session(command: TlsRunCommand, onSecure: (socket: tls.TLSSocket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: command.port,
      servername: command.servername,
      ca: command.cert,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ecdhCurve: command.groups,
      // Verified like a browser would (chain to the anchor, name), and pinned on top.
      checkServerIdentity: (host, cert) =>
        tls.checkServerIdentity(host, cert) ??
        (cert.fingerprint256 === command.fingerprint256
          ? undefined
          : new Error('the server certificate does not match the pinned one')),
    });
    socket.setNoDelay(true);
    let done = false;
    const fail = (error: Error): void => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.once('secureConnect', () => {
      onSecure(socket);
      socket.write(HELLO);
    });
    socket.once('data', () => {
      done = true;
      socket.end();
      resolve();
    });
  });
}

/** The key-exchange group of a client connection (Node types the info as an object or null). */
function ephemeralGroup(socket: tls.TLSSocket): string {
  const info = socket.getEphemeralKeyInfo();
  return info && 'name' in info && typeof info.name === 'string' ? info.name : '?';
}

async function run(command: TlsRunCommand): Promise<TlsRunReport> {
  const deadline = performance.now() + command.durationMs;
  const latency = new Histogram();
  let completed = 0;
  let failed = 0;
  const errors: string[] = [];
  let negotiated: TlsRunReport['negotiated'];
  const note = (socket: tls.TLSSocket): void => {
    if (negotiated) return;
    negotiated = {
      protocol: socket.getProtocol() ?? '?',
      cipher: socket.getCipher().standardName,
      group: ephemeralGroup(socket),
    };
  };
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const began = performance.now();
      try {
        await session(command, note);
        const ended = performance.now();
        if (ended <= deadline) {
          completed++;
          latency.record(ended - began);
        }
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, loop));
  return { completed, failed, errors, histogram: latency.snapshot(), negotiated };
}

parentPort?.on('message', (message: { id: number; command: TlsRunCommand }) => {
  run(message.command).then(
    (result) => parentPort?.postMessage({ id: message.id, result }),
    (error: unknown) =>
      parentPort?.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) }),
  );
});
