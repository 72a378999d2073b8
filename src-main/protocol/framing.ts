import { ProtocolError } from './errors.ts';

/** A frame is `u16 big-endian length ‖ one Noise message`; the u16 caps it at 65535 bytes. */
export const MAX_FRAME_LEN = 65535;
export const FRAME_HEADER_LEN = 2;

export function encodeFrame(message: Uint8Array): Uint8Array {
  if (message.length > MAX_FRAME_LEN) {
    throw new ProtocolError('frame-too-large', `a frame holds at most ${MAX_FRAME_LEN} bytes`);
  }
  const frame = new Uint8Array(FRAME_HEADER_LEN + message.length);
  frame[0] = message.length >>> 8;
  frame[1] = message.length & 0xff;
  frame.set(message, FRAME_HEADER_LEN);
  return frame;
}

/**
 * Turns a stream of arbitrarily split or coalesced reads into whole frames. It never holds
 * more than one incomplete frame (≤ 65537 bytes), whatever the peer announces.
 */
export class FrameReader {
  #pending: Uint8Array = new Uint8Array(0);

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#pending.length;
  }

  /** Returns every frame completed by `chunk`, in order; a partial frame is kept for next time. */
  push(chunk: Uint8Array): Uint8Array[] {
    let data = chunk;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_LEN) {
      const length = ((data[offset] ?? 0) << 8) | (data[offset + 1] ?? 0);
      if (data.length - offset - FRAME_HEADER_LEN < length) break;
      const start = offset + FRAME_HEADER_LEN;
      frames.push(data.subarray(start, start + length));
      offset = start + length;
    }
    // Copy the remainder so we never pin a large socket buffer for a few bytes.
    this.#pending = offset === data.length ? new Uint8Array(0) : data.slice(offset);
    return frames;
  }
}
