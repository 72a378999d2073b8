// The raw AEAD ceiling: how many records a second the selected backend can seal on one core
// (measured in CPU time of this thread; the load workers are idle meanwhile),
// for one 200-byte chat message per record (what per-delivery encryption would cost) and for a
// batch of 16 (what batching per recipient per turn buys).
import { performance } from 'node:perf_hooks';
import type { CipherName } from '../src-main/protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import { CipherState } from '../src-main/protocol/noise/cipher-state.ts';
import { ITEM_HEADER_LEN } from '../src-main/protocol/records.ts';
import { encodeMessage } from '../src-main/protocol/wire/codec.ts';

export interface AeadResult {
  backend: string;
  cipher: 'chachapoly' | 'aesgcm';
  items: number;
  plaintextBytes: number;
  sealsPerSec: number;
  mbPerSec: number;
}

/** A `msg` item as the host sends it, with a 200-byte text. */
function messageItem(): number {
  const message = encodeMessage({
    t: 'msg',
    room: 'f1',
    seq: 123456,
    id: 'r1s0n123456',
    from: 'k0',
    fp: 'ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567',
    key: 'A'.repeat(43),
    text: 'x'.repeat(200),
    ts: Date.now(),
  });
  return ITEM_HEADER_LEN + message.length;
}

export function measureAead(durationMs: number): AeadResult[] {
  const backend = selectBackend();
  const itemBytes = messageItem();
  const results: AeadResult[] = [];
  const empty = new Uint8Array(0);
  for (const [cipher, name] of [
    ['chachapoly', 'ChaChaPoly'],
    ['aesgcm', 'AESGCM'],
  ] as const satisfies readonly (readonly [AeadResult['cipher'], CipherName])[]) {
    for (const items of [1, 16]) {
      const state = new CipherState(backend, name);
      state.initializeKey(backend.randomBytes(32));
      const plaintext = backend.randomBytes(itemBytes * items);
      for (let i = 0; i < 2000; i++) state.encryptWithAd(empty, plaintext);
      let count = 0;
      const began = performance.now();
      const cpu = process.cpuUsage();
      do {
        for (let i = 0; i < 200; i++) state.encryptWithAd(empty, plaintext);
        count += 200;
      } while (performance.now() - began < durationMs);
      // CPU time, not wall time: the rate of one core, whatever else the machine is doing.
      const used = process.cpuUsage(cpu);
      const perSec = count / ((used.user + used.system) / 1e6);
      results.push({
        backend: backend.name,
        cipher,
        items,
        plaintextBytes: plaintext.length,
        sealsPerSec: Math.round(perSec),
        mbPerSec: Math.round((perSec * plaintext.length) / 1e6),
      });
    }
  }
  return results;
}
