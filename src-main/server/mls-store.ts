// The host's part of end-to-end encryption (docs/protocol.md §12), in its database: members'
// MLS devices, the KeyPackages they leave for others to add them with, and the Welcomes waiting
// for devices that were added. Everything here is public MLS data or ciphertext; every table is
// bounded per key or per room, so no client can grow the file without limit.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type Row, column, isBytes, isNumber, isString } from './db/message-row.ts';
import { immediateTransaction, read } from './db/transaction.ts';
import type { StoredWelcome } from './host-database.ts';
import { MARK_ROOMS_OF_KEY_SQL } from './mls-removal.ts';

/** Devices kept per key; a new one beyond this retires the one seen longest ago. */
export const MAX_DEVICES_PER_KEY = 8;
/** KeyPackages kept per device; beyond it the oldest are dropped. */
export const MAX_KEY_PACKAGES_PER_DEVICE = 20;
/**
 * A key in no end-to-end encrypted room (anyone can make a key and connect) keeps only this
 * much: one device with a few KeyPackages, enough to be added right after it is invited, so a
 * stranger minting keys stores about as little per key as its nickname.
 */
export const MAX_DEVICES_OUTSIDE = 1;
export const MAX_KEY_PACKAGES_OUTSIDE = 5;
/** A device not seen for this long is no longer offered to others, and is forgotten at start. */
export const DEVICE_RETIRE_MS = 90 * 24 * 3600 * 1000;
/** A device's last-seen time is written at most this often (a reconnect storm writes nothing). */
const TOUCH_INTERVAL_MS = 24 * 3600 * 1000;

/** A device of a member key. */
export interface DeviceRecord {
  key: Uint8Array;
  device: string;
}

export interface PublishResult {
  /** The device was not known before: members' groups should add it. */
  newDevice: boolean;
  /** Devices of the same key retired to keep MAX_DEVICES_PER_KEY. */
  retired: string[];
  /** KeyPackages now held for the device. */
  held: number;
}

export interface ClaimResult {
  /** Every live device of every member of the room. */
  devices: DeviceRecord[];
  /** One KeyPackage for each device asked for, as far as any are held. */
  keyPackages: (DeviceRecord & { kp: string })[];
}

/**
 * Devices, KeyPackages and Welcomes. Synchronous, over the HostDatabase's connection; each
 * mutation is one BEGIN IMMEDIATE transaction, except `keepWelcomes`, which runs inside the
 * transaction that stores its commit.
 */
export class MlsStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Stores KeyPackages of the key's device (already checked to be that device's), recording the
   * device if it is new: beyond MAX_DEVICES_PER_KEY the key's device seen longest ago is retired
   * with its KeyPackages and Welcomes. Beyond MAX_KEY_PACKAGES_PER_DEVICE the oldest are dropped.
   * A key in no end-to-end encrypted room keeps MAX_DEVICES_OUTSIDE and MAX_KEY_PACKAGES_OUTSIDE.
   */
  publish(key: Uint8Array, device: string, kps: readonly string[], now: number): PublishResult {
    return immediateTransaction(this.#db, 'publishKeyPackages', (): PublishResult => {
      const inside =
        this.#sql(
          `SELECT 1 AS inside FROM members m JOIN rooms r ON r.name = m.room
           WHERE m.member_key = ? AND r.e2ee = 1 LIMIT 1`,
        ).get(key) !== undefined;
      const maxDevices = inside ? MAX_DEVICES_PER_KEY : MAX_DEVICES_OUTSIDE;
      const maxKeyPackages = inside ? MAX_KEY_PACKAGES_PER_DEVICE : MAX_KEY_PACKAGES_OUTSIDE;
      const known =
        this.#sql('SELECT 1 AS known FROM mls_devices WHERE member_key = ? AND device = ?').get(
          key,
          device,
        ) !== undefined;
      const retired: string[] = [];
      if (known) {
        this.#sql('UPDATE mls_devices SET last_seen = ? WHERE member_key = ? AND device = ?').run(
          now,
          key,
          device,
        );
      } else {
        const others = this.#sql(
          'SELECT device FROM mls_devices WHERE member_key = ? ORDER BY last_seen, device',
        )
          .all(key)
          .map((row) => column(row, 'device', isString));
        for (const old of others.slice(0, Math.max(0, others.length - maxDevices + 1))) {
          this.#forgetDevice(key, old);
          retired.push(old);
        }
        this.#sql(
          'INSERT INTO mls_devices (member_key, device, first_seen, last_seen) VALUES (?, ?, ?, ?)',
        ).run(key, device, now, now);
        // A retired device stays in its rooms' groups until a member commits its removal, and the
        // new one is missing from them until a member commits its add: its rooms' MLS messages
        // wait for that commit (mls-removal.ts).
        this.#sql(MARK_ROOMS_OF_KEY_SQL).run(now, key);
      }
      const insert = this.#sql(
        'INSERT INTO mls_key_packages (member_key, device, data, added_at) VALUES (?, ?, ?, ?)',
      );
      for (const kp of kps) insert.run(key, device, kp, now);
      const held = this.#count(key, device);
      const excess = held - maxKeyPackages;
      if (excess > 0) {
        this.#sql(
          `DELETE FROM mls_key_packages WHERE id IN (
             SELECT id FROM mls_key_packages WHERE member_key = ? AND device = ? ORDER BY id LIMIT ?)`,
        ).run(key, device, excess);
      }
      return { newDevice: !known, retired, held: Math.min(held, maxKeyPackages) };
    });
  }

  /** KeyPackages held for the key's device (for `welcome.keyPackages`). */
  keyPackageCount(key: Uint8Array, device: string): number {
    return read('keyPackageCount', () => this.#count(key, device));
  }

  /**
   * The device connected again: its last-seen time, written at most once a day, so a device in
   * use is never retired as unseen.
   */
  touch(key: Uint8Array, device: string, now: number): void {
    const row = read('touchDevice', () =>
      this.#sql('SELECT last_seen FROM mls_devices WHERE member_key = ? AND device = ?').get(
        key,
        device,
      ),
    );
    if (row === undefined || now - column(row, 'last_seen', isNumber) < TOUCH_INTERVAL_MS) return;
    immediateTransaction(this.#db, 'touchDevice', () => {
      this.#sql('UPDATE mls_devices SET last_seen = ? WHERE member_key = ? AND device = ?').run(
        now,
        key,
        device,
      );
    });
  }

  /**
   * The live devices of the room's members (at most `maxDevices`), and one KeyPackage for each
   * device not in `have` and not `claimer`'s own (at most `maxKeyPackages`): taken from the store,
   * except a device's last one, which stays as a last resort (RFC 9420 §16.8 allows its reuse).
   */
  claim(
    room: string,
    claimer: string,
    have: ReadonlySet<string>,
    now: number,
    limits: { maxDevices: number; maxKeyPackages: number },
  ): ClaimResult {
    return immediateTransaction(this.#db, 'claimKeyPackages', (): ClaimResult => {
      const devices = this.#sql(
        `SELECT d.member_key, d.device FROM mls_devices d
           JOIN members m ON m.member_key = d.member_key AND m.room = ?
         WHERE d.last_seen >= ? ORDER BY m.joined_at, d.member_key, d.first_seen, d.device LIMIT ?`,
      )
        .all(room, now - DEVICE_RETIRE_MS, limits.maxDevices)
        .map(toDevice);
      const keyPackages: ClaimResult['keyPackages'] = [];
      for (const entry of devices) {
        if (keyPackages.length >= limits.maxKeyPackages) break;
        if (entry.device === claimer || have.has(entry.device)) continue;
        const oldest = this.#sql(
          `SELECT id, data, (SELECT count(*) FROM mls_key_packages
                               WHERE member_key = ?1 AND device = ?2) AS held
             FROM mls_key_packages WHERE member_key = ?1 AND device = ?2 ORDER BY id LIMIT 1`,
        ).get(entry.key, entry.device);
        if (oldest === undefined) continue;
        if (column(oldest, 'held', isNumber) > 1) {
          this.#sql('DELETE FROM mls_key_packages WHERE id = ?').run(
            column(oldest, 'id', isNumber),
          );
        }
        keyPackages.push({ ...entry, kp: column(oldest, 'data', isString) });
      }
      return { devices, keyPackages };
    });
  }

  /**
   * Inside the transaction that stores the commit at `seq`: the Welcome is kept for each `to`
   * device that belongs to a member of the room, replacing one waiting there before.
   */
  keepWelcomes(room: string, seq: number, data: string, to: readonly string[]): StoredWelcome[] {
    const kept: StoredWelcome[] = [];
    for (const device of new Set(to)) {
      const owner = this.#sql(
        `SELECT d.member_key FROM mls_devices d
           JOIN members m ON m.member_key = d.member_key AND m.room = ?
         WHERE d.device = ? ORDER BY d.member_key LIMIT 1`,
      ).get(room, device);
      if (owner === undefined) continue;
      const key = column(owner, 'member_key', isBytes);
      this.#sql(
        `INSERT INTO mls_welcomes (room, device, member_key, seq, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (room, device) DO UPDATE SET
           member_key = excluded.member_key, seq = excluded.seq, data = excluded.data`,
      ).run(room, device, key, seq, data);
      kept.push({ room, device, key: new Uint8Array(key), seq, data });
    }
    return kept;
  }

  /** The Welcome waiting in the room for the key's device, if any. */
  welcome(room: string, key: Uint8Array, device: string): StoredWelcome | undefined {
    const row = read('welcome', () =>
      this.#sql(
        'SELECT seq, data FROM mls_welcomes WHERE room = ? AND device = ? AND member_key = ?',
      ).get(room, device, key),
    );
    if (row === undefined) return undefined;
    return {
      room,
      device,
      key: new Uint8Array(key),
      seq: column(row, 'seq', isNumber),
      data: column(row, 'data', isString),
    };
  }

  /** The end-to-end encrypted rooms the key is a member of (for the `devices` hint). */
  e2eeRoomsOf(key: Uint8Array): string[] {
    return read('e2eeRoomsOf', () =>
      this.#sql(
        `SELECT r.name FROM members m JOIN rooms r ON r.name = m.room
         WHERE m.member_key = ? AND r.e2ee = 1 ORDER BY r.name`,
      )
        .all(key)
        .map((row) => column(row, 'name', isString)),
    );
  }

  /**
   * Forgets devices unseen for DEVICE_RETIRE_MS, with their KeyPackages and Welcomes. Their rooms
   * are not marked (mls-removal.ts): `kp-claim` stopped listing them when they became
   * that old, so members' reconciles have removed them since, and a mark nobody commits away would
   * only hold the room's messages.
   */
  retireUnseen(now: number): number {
    return immediateTransaction(this.#db, 'retireDevices', () => {
      const stale = this.#sql('SELECT member_key, device FROM mls_devices WHERE last_seen < ?')
        .all(now - DEVICE_RETIRE_MS)
        .map(toDevice);
      for (const { key, device } of stale) this.#forgetDevice(key, device);
      return stale.length;
    });
  }

  #forgetDevice(key: Uint8Array, device: string): void {
    this.#sql('DELETE FROM mls_key_packages WHERE member_key = ? AND device = ?').run(key, device);
    this.#sql('DELETE FROM mls_welcomes WHERE member_key = ? AND device = ?').run(key, device);
    this.#sql('DELETE FROM mls_devices WHERE member_key = ? AND device = ?').run(key, device);
  }

  #count(key: Uint8Array, device: string): number {
    const row = this.#sql(
      'SELECT count(*) AS held FROM mls_key_packages WHERE member_key = ? AND device = ?',
    ).get(key, device);
    return column(row ?? {}, 'held', isNumber);
  }

  /** Statements are prepared on first use and kept. */
  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }
}

function toDevice(row: Row): DeviceRecord {
  return { key: column(row, 'member_key', isBytes), device: column(row, 'device', isString) };
}
