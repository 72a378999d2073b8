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
 * more than one incomplete frame (≤ 65537 bytes), whatever the peer announces, and allocates
 * for the bytes that arrived, never for the length announced.
 */
/** What a reader holds between frames: shared, never written (#length 0 means it is not used). */
const NOTHING = new Uint8Array(0);

export class FrameReader {
  /** Holds the incomplete frame in its first `#length` bytes; grows by doubling. */
  #buffer: Uint8Array = NOTHING;
  #length = 0;

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#length;
  }

  /** Returns every frame completed by `chunk`, in order; a partial frame is kept for next time. */
  push(chunk: Uint8Array): Uint8Array[] {
    let data = chunk;
    if (this.#length > 0) {
      // Append in place, growing geometrically: a frame dribbled in 1-byte reads costs
      // O(n) copying, not O(n²) (a 64 KiB frame sent byte by byte once cost seconds of CPU).
      const needed = this.#length + chunk.length;
      if (needed > this.#buffer.length) {
        const grown = new Uint8Array(
          Math.max(needed, Math.min(2 * this.#buffer.length, FRAME_HEADER_LEN + MAX_FRAME_LEN)),
        );
        grown.set(this.#buffer.subarray(0, this.#length));
        this.#buffer = grown;
      }
      this.#buffer.set(chunk, this.#length);
      this.#length = needed;
      data = this.#buffer.subarray(0, needed);
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
    if (offset === 0 && data !== chunk) return frames; // still incomplete, kept in place
    // Frames returned may be views of our buffer: hand it over with them and keep a copy of
    // the remainder (which also never pins a large socket buffer for a few bytes).
    const rest = data.subarray(offset);
    // new Uint8Array(view) copies; Buffer#slice (socket chunks are Buffers) would not.
    // An idle connection's reader holds nothing: no array of its own (~0.2 KB per connection).
    this.#buffer = rest.length === 0 ? NOTHING : new Uint8Array(rest);
    this.#length = rest.length;
    return frames;
  }
}
