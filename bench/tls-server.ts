// The TLS 1.3 baseline's server: Node's own `tls` in a process of its own (as the Parley host is,
// so its CPU is its own), started by bench/tls-handshakes.ts with an IPC channel. The session it
// serves has Parley's shape: the client's first application record (its "hello") is answered
// with one small record (the "welcome"), then the client hangs up.
//   PARLEY_BENCH_TLS_DIR     the folder holding key.pem and cert.pem (made by `openssl`)
//   PARLEY_BENCH_TLS_GROUPS  the key-exchange groups the server accepts (e.g. X25519)
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const dir = process.env.PARLEY_BENCH_TLS_DIR;
if (!dir || !process.send) {
  console.error('bench/tls-server.ts is started by bench/tls-handshakes.ts');
  process.exit(2);
}

// About the size of Parley's welcome item (type, nickname, fingerprint).
const WELCOME = Buffer.from(
  JSON.stringify({ t: 'welcome', nick: 'k123', fp: 'x'.repeat(43) }),
  'utf8',
);

let handshakes = 0;
const server = tls.createServer(
  {
    key: readFileSync(join(dir, 'key.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ecdhCurve: process.env.PARLEY_BENCH_TLS_GROUPS ?? 'X25519',
    noDelay: true,
  },
  (socket) => {
    handshakes++;
    socket.on('error', () => undefined);
    socket.once('data', () => socket.write(WELCOME));
  },
);
server.on('tlsClientError', () => undefined);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

const inspector = new Session();
inspector.connect();

interface Request {
  id: number;
  op: 'stats' | 'profile-start' | 'profile-stop' | 'stop';
  file?: string;
}

async function answer(message: Request): Promise<Record<string, unknown>> {
  switch (message.op) {
    case 'stats':
      return { cpu: process.cpuUsage(), at: performance.now(), handshakes };
    case 'profile-start':
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
      await inspector.post('Profiler.start');
      return {};
    case 'profile-stop': {
      const { profile } = await inspector.post('Profiler.stop');
      if (message.file) writeFileSync(message.file, JSON.stringify(profile));
      return {};
    }
    case 'stop':
      server.close();
      setTimeout(() => {
        process.disconnect();
        process.exit(0);
      }, 50);
      return {};
  }
}

process.on('message', (message: Request) => {
  answer(message).then(
    (result) => process.send?.({ ...result, id: message.id }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});
// If the benchmark dies, do not outlive it.
process.on('disconnect', () => process.exit(0));

const address = server.address();
process.send({
  op: 'ready',
  port: typeof address === 'object' && address ? address.port : 0,
  pid: process.pid,
});
