import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';
import { type Proc, run, serve } from '../../support/processes.ts';
import { opensslAuthority, opensslHostCertificate } from '../../support/test-pki.ts';

// `parley ca …` and `--serve --cert` as people run them: real processes, real files, a real
// host on 127.0.0.1 and a `--connect` client that trusts nothing but the authority.

const TIMEOUT = 90_000;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ca-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function started(proc: Proc): Proc {
  cleanups.push(() => {
    if (proc.child.exitCode === null) proc.kill('SIGKILL');
  });
  return proc;
}

/** Runs a command to its end: exit code, stdout and stderr as text. */
async function command(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const proc = started(run(args, options.env ? { env: options.env } : {}));
  proc.child.stdin.end(options.input ?? '');
  const { code } = await proc.exited();
  // Give the last chunks a turn to arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { code, out: proc.stdout.join('\n'), err: proc.stderr.join('\n') };
}

const noPassphrase = { PARLEY_CA_PASSPHRASE: '' };

/** `serve` on a given port (serve() passes `--port 0`, and --port may be given only once). */
async function serveOnPort(dataDir: string, port: number, extra: string[]) {
  const proc = started(
    run([
      '--serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...extra,
    ]),
  );
  const listening = await proc.waitForLine(/^listening /);
  const fingerprint = (await proc.waitForLine(/^fingerprint /)).slice('fingerprint '.length);
  return { proc, port: Number(/:(\d+)$/.exec(listening)?.[1]), fingerprint };
}

describe('parley ca', () => {
  it(
    'init, issue, show, trust, list and untrust, with the passphrase never on the command line',
    async () => {
      const dir = tempDir();
      const ca = join(dir, 'ca');
      const passFile = join(dir, 'pass');
      writeFileSync(passFile, 'correct horse battery\n', { mode: 0o600 });

      const plain = await command([
        'ca',
        'init',
        '--data-dir',
        ca,
        '--name',
        'X',
        '--passphrase',
        'p',
      ]);
      expect(plain.code).toBe(2);
      expect(plain.err).toContain("unknown option '--passphrase'");

      const init = await command(
        ['ca', 'init', '--data-dir', ca, '--name', 'Example Org', '--passphrase-file', passFile],
        { env: noPassphrase },
      );
      expect(init.code).toBe(0);
      expect(init.out).toMatch(/^authority "Example Org"$/m);
      expect(init.out).toContain(`key ${join(ca, 'ca.key')} (encrypted)`);
      const caSha = /^sha256 ([0-9A-F:]{95})$/m.exec(init.out)?.[1];
      expect(caSha).toBeDefined();
      expect(statSync(join(ca, 'ca.key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(ca, 'ca.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
      expect(init.out + init.err).not.toContain('correct horse');

      const again = await command(['ca', 'init', '--data-dir', ca, '--name', 'Other'], {
        env: noPassphrase,
      });
      expect(again.code).toBe(1);
      expect(again.err).toContain('never overwritten');

      const hostKey = nodeBackend.generateKeyPair().publicKey;
      const keyText = Buffer.from(hostKey).toString('base64url');
      const issueArgs = [
        'ca',
        'issue',
        '--ca',
        ca,
        '--host',
        'chat.example.org',
        '--host',
        '192.0.2.10',
      ];
      const locked = await command([...issueArgs, `--host-key=${keyText}`], { env: noPassphrase });
      expect(locked.code).toBe(1);
      expect(locked.err).toContain('is encrypted: give its passphrase');
      const wrong = await command([...issueArgs, `--host-key=${keyText}`], {
        env: { PARLEY_CA_PASSPHRASE: 'not the passphrase' },
      });
      expect(wrong.code).toBe(1);
      expect(wrong.err).toContain('wrong passphrase?');

      const issued = await command([...issueArgs, `--host-key=${keyText}`, '--days', '30'], {
        env: { PARLEY_CA_PASSPHRASE: 'correct horse battery' },
      });
      expect(issued.code).toBe(0);
      expect(issued.out).toMatch(
        /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----$/,
      );
      expect(issued.err).toContain(`key ${fingerprint(hostKey)}`);
      const certFile = join(dir, 'host.pem');
      writeFileSync(certFile, issued.out + '\n');

      const shown = await command(['ca', 'show', certFile]);
      expect(shown.code).toBe(0);
      expect(shown.out).toContain('subject: CN=chat.example.org');
      expect(shown.out).toContain('issuer: CN=Example Org, O=Example Org');
      expect(shown.out).toContain('names: chat.example.org, 192.0.2.10');
      expect(shown.out).toMatch(/valid until: \S+ \((expires in (29|30) days)\)/);
      expect(shown.out).toContain(`bound key: ${keyText} (fingerprint ${fingerprint(hostKey)})`);
      expect(shown.out).toMatch(/^sha256: [0-9A-F:]{95}$/m);
      expect(shown.out).toContain('authority: no');
      expect((await command(['ca', 'show', join(ca, 'ca.pem')])).out).toContain(
        'authority: yes (path length 0)',
      );

      const wildcard = await command([
        'ca',
        'issue',
        '--ca',
        ca,
        '--host',
        '*.example.org',
        `--host-key=${keyText}`,
      ]);
      expect(wildcard.code).toBe(2);

      const client = join(dir, 'client');
      const trusted = await command(['ca', 'trust', join(ca, 'ca.pem'), '--data-dir', client]);
      expect(trusted.code).toBe(0);
      expect(trusted.out).toContain(`trusted authority "Example Org" sha256 ${caSha}`);
      const refused = await command(['ca', 'trust', certFile, '--data-dir', client]);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('not a certificate authority');
      const keyRefused = await command(['ca', 'trust', join(ca, 'ca.key'), '--data-dir', client]);
      expect(keyRefused.code).toBe(1);
      expect(keyRefused.err).toContain('PRIVATE KEY');
      const listed = await command(['ca', 'list', '--data-dir', client]);
      expect(listed.out).toMatch(new RegExp(`^${caSha} "Example Org" until `));
      const removed = await command(['ca', 'untrust', caSha!, '--data-dir', client]);
      expect(removed.code).toBe(0);
      expect((await command(['ca', 'list', '--data-dir', client])).out).toBe('');
    },
    TIMEOUT,
  );

  it(
    'a --serve --cert host is trusted by a client that trusts only the authority, and its key change is accepted and shown',
    async () => {
      const dir = tempDir();
      const ca = join(dir, 'ca');
      expect(
        (
          await command(['ca', 'init', '--data-dir', ca, '--name', 'Example Org'], {
            env: noPassphrase,
          })
        ).code,
      ).toBe(0);
      const issueFor = async (hostDir: string, out: string) => {
        // The host's key, made as `parley --serve` would on first start; issue from host.key.
        await loadOrCreateKeyPair(join(hostDir, 'host.key'), nodeBackend);
        const issued = await command(
          [
            'ca',
            'issue',
            '--ca',
            ca,
            '--host',
            '127.0.0.1',
            '--host-key-file',
            join(hostDir, 'host.key'),
            '--out',
            out,
          ],
          { env: noPassphrase },
        );
        expect(issued.code).toBe(0);
      };

      // A certificate for another host's key: the host refuses to start with it.
      const hostDir = join(dir, 'host');
      const otherDir = join(dir, 'other');
      await issueFor(otherDir, join(dir, 'other.pem'));
      const wrongCert = await command([
        '--serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        hostDir,
        '--cert',
        join(dir, 'other.pem'),
      ]);
      expect(wrongCert.code).toBe(1);
      expect(wrongCert.err).toMatch(
        /cannot start: the certificate binds the key .* but this host's key is/,
      );

      await issueFor(hostDir, join(dir, 'host.pem'));
      const first = await serve(hostDir, ['--open', '--cert', join(dir, 'host.pem')]);
      started(first.proc);
      expect(await first.proc.waitForLine(/^certificate /)).toMatch(
        /^certificate 127\.0\.0\.1 expires \S+Z sha256 [0-9A-F:]{95}$/,
      );
      const target = `127.0.0.1:${first.port}`;

      const client = join(dir, 'client');
      expect((await command(['ca', 'trust', join(ca, 'ca.pem'), '--data-dir', client])).code).toBe(
        0,
      );
      const tofu = join(dir, 'tofu-client');

      // No invite, no known host: the authority alone vouches.
      const connected = await command(
        ['--connect', target, '--nick', 'alice', '--data-dir', client],
        {
          input: 'hello through the authority\n',
        },
      );
      expect(connected.err).toBe('');
      expect(connected.code).toBe(0);
      expect(connected.out).toContain(
        `fingerprint ${first.fingerprint} (vouched for by authority "Example Org", just now)`,
      );
      const known = JSON.parse(readFileSync(join(client, 'known-hosts.json'), 'utf8')) as {
        hosts: Record<string, { method: string; authority?: string }>;
      };
      expect(known.hosts[target]).toMatchObject({ method: 'authority', authority: 'Example Org' });

      // Without the authority, the same host is unknown, and the refusal says why.
      const stranger = await command(['--connect', target, '--nick', 'bob', '--data-dir', tofu], {
        input: 'never sent\n',
      });
      expect(stranger.code).toBe(4);
      expect(stranger.err).toContain('certificate not accepted (certificate-unknown-authority)');
      const pinned = await command(
        ['--connect', target, '--nick', 'bob', '--data-dir', tofu, '--trust-new-host'],
        { input: 'hi\n' },
      );
      expect(pinned.code).toBe(0);
      expect(pinned.out).toContain('(pinned on first use, just now)');
      expect(pinned.out).toMatch(/certificate not accepted \(certificate-unknown-authority\)/);

      // The host's key is rotated, with a new certificate, at the same address.
      first.proc.kill('SIGTERM');
      expect((await first.proc.exited()).code).toBe(0);
      const rotatedDir = join(dir, 'rotated');
      await issueFor(rotatedDir, join(dir, 'rotated.pem'));
      const rotated = await serveOnPort(rotatedDir, first.port, [
        '--open',
        '--cert',
        join(dir, 'rotated.pem'),
      ]);
      started(rotated.proc);
      expect(rotated.port).toBe(first.port);
      expect(rotated.fingerprint).not.toBe(first.fingerprint);

      // Accepted without a question, and said out loud.
      const after = await command(['--connect', target, '--nick', 'alice', '--data-dir', client], {
        input: 'after the rotation\n',
      });
      expect(after.err).toBe('');
      expect(after.code).toBe(0);
      expect(after.out).toContain(
        `fingerprint ${rotated.fingerprint} (vouched for by authority "Example Org", replacing the old key ${first.fingerprint})`,
      );
      expect(after.out).toMatch(
        new RegExp(
          `^\\*\\*\\* \\S+ host key changed for ${target.replace(/\./g, '\\.')}: ${first.fingerprint} -> ` +
            `${rotated.fingerprint}, accepted because authority "Example Org" vouches for the new key$`,
          'm',
        ),
      );

      // The client that pinned the old key on first use, without the authority, refuses.
      const refused = await command(['--connect', target, '--nick', 'bob', '--data-dir', tofu], {
        input: 'never sent\n',
      });
      expect(refused.code).toBe(3);
      expect(refused.err).toContain(`expected fingerprint: ${first.fingerprint}`);
      expect(refused.err).toContain(`actual fingerprint:   ${rotated.fingerprint}`);
      expect(refused.err).toContain('certificate not accepted (certificate-unknown-authority)');
    },
    TIMEOUT,
  );

  it(
    'an organisation’s ECDSA authority (made with openssl) is trusted, and vouches for a --serve --cert host',
    async () => {
      const dir = tempDir();
      const root = opensslAuthority(dir, 'Example EC Org', 'P-384');
      const intermediate = opensslAuthority(dir, 'Example EC Hosts', 'P-256', { issuer: root });
      const hostDir = join(dir, 'host');
      const { publicKey } = await loadOrCreateKeyPair(join(hostDir, 'host.key'), nodeBackend);
      const leaf = opensslHostCertificate(dir, intermediate, publicKey, { hosts: ['127.0.0.1'] });
      const chainFile = join(dir, 'chain.pem');
      writeFileSync(
        chainFile,
        readFileSync(leaf.certFile, 'utf8') + readFileSync(intermediate.certFile, 'utf8'),
      );

      const client = join(dir, 'client');
      const trusted = await command(['ca', 'trust', root.certFile, '--data-dir', client]);
      expect(trusted.err).toBe('');
      expect(trusted.code).toBe(0);
      expect((await command(['ca', 'list', '--data-dir', client])).out).toContain(
        '"Example EC Org"',
      );
      // A curve Parley does not take is refused by its name, not an OID.
      const p521 = opensslAuthority(dir, 'P-521 Org', 'P-521');
      const refused = await command(['ca', 'trust', p521.certFile, '--data-dir', client]);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toContain('ECDSA P-521 is not supported');
      expect(refused.err).not.toContain('OID');

      const host = await serve(hostDir, ['--open', '--cert', chainFile]);
      started(host.proc);
      const connected = await command(
        ['--connect', `127.0.0.1:${host.port}`, '--nick', 'alice', '--data-dir', client],
        { input: 'hello through an ECDSA chain\n' },
      );
      expect(connected.err).toBe('');
      expect(connected.code).toBe(0);
      expect(connected.out).toContain(
        `fingerprint ${host.fingerprint} (vouched for by authority "Example EC Org", just now)`,
      );
    },
    TIMEOUT,
  );
});
