import { describe, expect, it } from 'vitest';
import { measureTlsHandshakes } from '../../../bench/tls-handshakes.ts';

// The TLS 1.3 baseline of `npm run bench` (bench/tls-handshakes.ts): a real server process, real
// connector threads and a certificate made by the system's openssl. Only that it runs and counts
// is tested here; its figures live in the bench.

describe('the TLS 1.3 handshake baseline', () => {
  it('completes pinned full TLS 1.3 handshakes and reports a positive rate with CPU per side', async () => {
    const result = await measureTlsHandshakes({
      durationMs: 300,
      warmupMs: 50,
      workers: 1,
      concurrencyPerWorker: 2,
    });
    if (!result.measured) throw new Error(`not measured: ${result.reason}`);
    expect(result.failed).toBe(0);
    expect(result.perSec).toBeGreaterThan(0);
    expect(result.hostCpuUsPerHandshake).toBeGreaterThan(0);
    expect(result.loadCpuUsPerHandshake).toBeGreaterThan(0);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.negotiated).toMatchObject({ protocol: 'TLSv1.3', group: 'X25519' });
  });

  it('says "not measured", and why, when there is no openssl to make the certificate', async () => {
    const result = await measureTlsHandshakes({
      durationMs: 100,
      workers: 1,
      concurrencyPerWorker: 1,
      openssl: '/nonexistent/openssl',
    });
    expect(result).toEqual({ measured: false, reason: expect.stringContaining('no openssl') });
  });
});
