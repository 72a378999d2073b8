// One entry of the cluster's log (docs/scaling.md): what one turn of one node changed in the
// host's database (a SQLite patchset) and what it told connections other than the requester
// (its fan-out effects), so that every other node can change its replica the same way and tell
// its own connections the same things, in the same order.
//
// Entries come back from PostgreSQL and over NATS: both are the operator's own services, but
// what they hand over is still checked before it is used (a damaged entry is refused by name,
// and the node fetches it again from PostgreSQL, or stops if PostgreSQL's copy is damaged too).

/** A delivery to connections other than the requester, as the Fanout seam names them. */
export type FanoutEffect =
  | { readonly op: 'room'; readonly room: string; readonly bytes: Uint8Array }
  | {
      readonly op: 'room-except-key';
      readonly room: string;
      readonly key: string;
      readonly bytes: Uint8Array;
    }
  | { readonly op: 'key'; readonly key: string; readonly bytes: Uint8Array }
  | {
      readonly op: 'removed';
      readonly room: string;
      readonly key: string;
      readonly bytes: Uint8Array;
    }
  | {
      readonly op: 'device';
      readonly key: string;
      readonly device: string;
      readonly room: string;
      readonly bytes: Uint8Array;
    }
  | { readonly op: 'rename'; readonly key: string; readonly nick: string }
  | {
      /** A key's first connection on `node` entered the room, or its last left (presence). */
      readonly op: 'here';
      readonly node: string;
      readonly room: string;
      readonly key: string;
      readonly present: boolean;
    }
  | {
      readonly op: 'non-members';
      readonly room: string;
      readonly bytes: Uint8Array;
      readonly members: readonly string[] | null;
    };

export interface LogEntry {
  /** Position in the cluster's log: 1, 2, 3, … with no gaps. */
  readonly pos: number;
  /** The node that wrote it (its name). */
  readonly node: string;
  /** A SQLite patchset (empty: the turn changed nothing, only told). */
  readonly changes: Uint8Array;
  readonly effects: readonly FanoutEffect[];
}

/**
 * The entries' format: effects, their encoding, the NATS framing. Nodes of another format refuse
 * to join the log (cluster-log.ts); raise it with any change to them.
 */
export const LOG_FORMAT_VERSION = 1;

export class LogEntryError extends Error {
  override readonly name = 'LogEntryError';
}

const MAX_NAME = 200;

function text(value: unknown, what: string, max = MAX_NAME * 1024): string {
  if (typeof value !== 'string' || value.length > max) throw new LogEntryError(`bad ${what}`);
  return value;
}

function bytes(value: unknown): Uint8Array {
  const encoded = text(value, 'bytes', 64 * 1024 * 1024);
  return new Uint8Array(Buffer.from(encoded, 'base64'));
}

function b64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** Effects as stored and sent: JSON, bytes in base64. */
export function encodeEffects(effects: readonly FanoutEffect[]): Uint8Array {
  const plain = effects.map((effect) =>
    'bytes' in effect ? { ...effect, bytes: b64(effect.bytes) } : effect,
  );
  return new TextEncoder().encode(JSON.stringify(plain));
}

export function decodeEffects(data: Uint8Array): FanoutEffect[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new LogEntryError('effects are not JSON');
  }
  if (!Array.isArray(parsed)) throw new LogEntryError('effects are not a list');
  return parsed.map((item: unknown): FanoutEffect => {
    if (typeof item !== 'object' || item === null) throw new LogEntryError('bad effect');
    const e = item as Record<string, unknown>;
    switch (e['op']) {
      case 'room':
        return { op: 'room', room: text(e['room'], 'room'), bytes: bytes(e['bytes']) };
      case 'room-except-key':
        return {
          op: 'room-except-key',
          room: text(e['room'], 'room'),
          key: text(e['key'], 'key'),
          bytes: bytes(e['bytes']),
        };
      case 'key':
        return { op: 'key', key: text(e['key'], 'key'), bytes: bytes(e['bytes']) };
      case 'removed':
        return {
          op: 'removed',
          room: text(e['room'], 'room'),
          key: text(e['key'], 'key'),
          bytes: bytes(e['bytes']),
        };
      case 'device':
        return {
          op: 'device',
          key: text(e['key'], 'key'),
          device: text(e['device'], 'device'),
          room: text(e['room'], 'room'),
          bytes: bytes(e['bytes']),
        };
      case 'rename':
        return { op: 'rename', key: text(e['key'], 'key'), nick: text(e['nick'], 'nick') };
      case 'here':
        if (typeof e['present'] !== 'boolean') throw new LogEntryError('bad presence');
        return {
          op: 'here',
          node: text(e['node'], 'node'),
          room: text(e['room'], 'room'),
          key: text(e['key'], 'key'),
          present: e['present'],
        };
      case 'non-members': {
        const members = e['members'];
        if (members !== null && !Array.isArray(members)) throw new LogEntryError('bad members');
        return {
          op: 'non-members',
          room: text(e['room'], 'room'),
          bytes: bytes(e['bytes']),
          members: members === null ? null : members.map((m: unknown) => text(m, 'member')),
        };
      }
      default:
        throw new LogEntryError('unknown effect');
    }
  });
}

// On NATS, an entry is one message: pos (8 bytes), node name length (2) and name, changes length
// (4) and changes, then the effects. Entries larger than NATS carries are announced by pos alone
// (the header with no body): receivers fetch them from PostgreSQL.
const HEADER = 8 + 2;

/** The whole entry, or only its position when it is too large to carry. */
export function encodeEntryMessage(entry: LogEntry, maxBytes: number): Uint8Array {
  const node = new TextEncoder().encode(entry.node);
  const effects = encodeEffects(entry.effects);
  const size = HEADER + node.length + 4 + entry.changes.length + effects.length;
  const full = size <= maxBytes;
  const out = Buffer.alloc(full ? size : 8);
  out.writeBigUInt64BE(BigInt(entry.pos), 0);
  if (!full) return out;
  out.writeUInt16BE(node.length, 8);
  out.set(node, HEADER);
  let at = HEADER + node.length;
  out.writeUInt32BE(entry.changes.length, at);
  at += 4;
  out.set(entry.changes, at);
  out.set(effects, at + entry.changes.length);
  return out;
}

/** An entry, or `{ pos }` alone when it was announced too large to carry. */
export function decodeEntryMessage(data: Uint8Array): LogEntry | { readonly pos: number } {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (view.length < 8) throw new LogEntryError('short entry');
  const pos = Number(view.readBigUInt64BE(0));
  if (!Number.isSafeInteger(pos) || pos < 1) throw new LogEntryError('bad position');
  if (view.length === 8) return { pos };
  if (view.length < HEADER) throw new LogEntryError('short entry');
  const nodeLength = view.readUInt16BE(8);
  let at = HEADER + nodeLength;
  if (nodeLength > MAX_NAME || view.length < at + 4) throw new LogEntryError('short entry');
  const node = view.subarray(HEADER, at).toString('utf8');
  const changesLength = view.readUInt32BE(at);
  at += 4;
  if (view.length < at + changesLength) throw new LogEntryError('short entry');
  const changes = new Uint8Array(view.subarray(at, at + changesLength));
  const effects = decodeEffects(view.subarray(at + changesLength));
  return { pos, node, changes, effects };
}
