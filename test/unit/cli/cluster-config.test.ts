import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkDatabaseUrl,
  checkNatsUrl,
  defaultNodeName,
  redactUrl,
} from '../../../src-main/cli/cluster-config.ts';
import { parseServeArgs } from '../../../src-main/cli/serve-command.ts';
import { UsageError } from '../../../src-main/cli/usage-error.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function configFile(settings: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  dirs.push(dir);
  const file = join(dir, 'parley.json');
  writeFileSync(file, JSON.stringify(settings), { mode: 0o600 });
  return file;
}

describe('redactUrl', () => {
  it('hides the password of every URL in a text, and leaves the rest', () => {
    expect(redactUrl('postgres://parley:s3cret@db:5432/parley?sslmode=verify-full')).toBe(
      'postgres://parley:****@db:5432/parley?sslmode=verify-full',
    );
    expect(redactUrl('a nats://u:p@h:4222 and tls://v:q%40r@h b')).toBe(
      'a nats://u:****@h:4222 and tls://v:****@h b',
    );
    // A password with characters a URL should have escaped is hidden all the same.
    expect(redactUrl('"postgres://u:pa/ss@w:rd@h/db"')).toBe('"postgres://u:****@h/db"');
    expect(redactUrl('postgres://u@h/db nats://h:4222 tls://HOST:PORT (USER:PASSWORD@ x')).toBe(
      'postgres://u@h/db nats://h:4222 tls://HOST:PORT (USER:PASSWORD@ x',
    );
  });
});

describe('cluster URLs', () => {
  it('takes NATS and PostgreSQL URLs as they are', () => {
    for (const url of [
      'nats://127.0.0.1:4222',
      'nats://u:p@nats.example:4222',
      'tls://n1:4443',
      'nats://[::1]:4222',
    ]) {
      expect(checkNatsUrl(url)).toBe(url);
    }
    for (const url of [
      'postgres://parley:p@db/parley?sslmode=verify-full',
      'postgresql://db:5433',
      'postgres:///parley?host=/run/postgresql',
    ]) {
      expect(checkDatabaseUrl(url)).toBe(url);
    }
  });

  it('refuses others', () => {
    for (const url of [
      '',
      'nats:',
      'http://h:4222',
      'nats://h:4222/x',
      'nats://h:4222?x=1',
      'h:4222',
    ]) {
      expect(() => checkNatsUrl(url)).toThrow(UsageError);
    }
    for (const url of ['postgres://', 'postgres:///parley', 'pg://h/db', 'postgres://h/db#x']) {
      expect(() => checkDatabaseUrl(url)).toThrow(UsageError);
    }
  });

  it('names a node <hostname>-<pid> by default', () => {
    expect(defaultNodeName(42, 'web-1.example.org')).toBe('web-1-42');
    expect(defaultNodeName(7, '')).toBe('node-7');
  });
});

describe('parseServeArgs with --config', () => {
  it('reads the settings; the command line wins; paths are relative to the file', () => {
    const file = configFile({
      cluster: 'nats://n:4222',
      database: 'postgres://parley:p@db/parley',
      nodeName: 'eu-1',
      keyFile: 'keys/host.key',
      dataDir: '/var/lib/parley',
      workers: 4,
      port: 7000,
      rooms: ['lobby', 'dev'],
      noE2ee: true,
      maxPerIp: 500,
    });
    const args = parseServeArgs([
      '--serve',
      '--config',
      file,
      '--port',
      '7001',
      '--node-name',
      'eu-2',
    ]);
    expect(args).toMatchObject({
      port: 7001,
      dataDir: '/var/lib/parley',
      keyFile: join(file, '..', 'keys/host.key'),
      rooms: ['lobby', 'dev'],
      e2ee: false,
      maxClientsPerIp: 500,
      workers: 4,
      cluster: {
        natsUrl: 'nats://n:4222',
        databaseUrl: 'postgres://parley:p@db/parley',
        nodeName: 'eu-2',
      },
    });
  });

  it('without cluster settings there is no cluster', () => {
    expect(parseServeArgs(['--serve'])).toMatchObject({ cluster: undefined, workers: undefined });
  });
});
