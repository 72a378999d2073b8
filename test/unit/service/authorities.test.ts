// The desktop service's certificate-authority requests, through dispatchRequest (so inputs
// and outputs are checked against the contract), on a temp data folder.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesktopService } from '../../../src-main/service/desktop-service.ts';
import { dispatchRequest } from '../../../src-main/service/dispatch.ts';
import {
  certificateToPem,
  createCertificate,
  generateRsaKeyPair,
} from '../../../src-main/trust/x509.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();

async function openService(): Promise<DesktopService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-ca-'));
  const service = await DesktopService.open({ dataDir });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => service.close());
  return service;
}

function authorityPem(name: string): string {
  const keys = generateRsaKeyPair(2048);
  const now = Date.now();
  const certificate = createCertificate(
    {
      subject: { commonName: name },
      publicKey: keys.publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 365 * 24 * 3600_000),
      basicConstraints: { cA: true },
      keyUsage: { keyCertSign: true, cRLSign: true },
    },
    { privateKey: keys.privateKey },
  );
  return certificateToPem(certificate);
}

const log = () => undefined;

describe('certificate authorities in the desktop service', () => {
  it('imports (once), lists and removes an authority', async () => {
    const service = await openService();
    const pem = authorityPem('Example Team CA');
    expect(await dispatchRequest(service, 'listAuthorities', {}, { log })).toEqual({
      ok: true,
      value: [],
    });
    const first = await dispatchRequest(service, 'importAuthority', { pem }, { log });
    expect(first).toMatchObject({
      ok: true,
      value: { added: true, authority: { name: 'Example Team CA' } },
    });
    expect(await dispatchRequest(service, 'importAuthority', { pem }, { log })).toMatchObject({
      ok: true,
      value: { added: false },
    });
    const listed = await dispatchRequest(service, 'listAuthorities', {}, { log });
    expect(listed).toMatchObject({ ok: true, value: [{ name: 'Example Team CA' }] });
    if (!first.ok) throw new Error('import failed');
    const { fingerprint } = (first.value as { authority: { fingerprint: string } }).authority;
    expect(await dispatchRequest(service, 'removeAuthority', { fingerprint }, { log })).toEqual({
      ok: true,
      value: {},
    });
    expect(await dispatchRequest(service, 'listAuthorities', {}, { log })).toEqual({
      ok: true,
      value: [],
    });
    expect(
      await dispatchRequest(service, 'removeAuthority', { fingerprint }, { log }),
    ).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('refuses what is not a usable authority certificate, with the reason', async () => {
    const service = await openService();
    expect(
      await dispatchRequest(service, 'importAuthority', { pem: 'hello' }, { log }),
    ).toMatchObject({ ok: false, error: { code: 'invalid-certificate' } });
    const withKey = `${authorityPem('X')}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`;
    expect(
      await dispatchRequest(service, 'importAuthority', { pem: withKey }, { log }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid-certificate', message: expect.stringMatching(/PRIVATE KEY/) },
    });
  });
});
