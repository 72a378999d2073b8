import type { E2eeFailureReason, RoomEncryption } from '../../src-shared/ipc/domain.ts';

/**
 * The words for a room's end-to-end encryption and for messages that could not be read. One
 * place, so the header, the timeline's start and the composer say the same thing.
 */
export interface EncryptionWords {
  /** In the room header, next to its icon. */
  readonly short: string;
  /** The tooltip and accessible name: what it means for the reader. */
  readonly long: string;
  readonly icon: 'lock' | 'unlock' | 'clock' | 'alert';
}

/** `peer`: the other person of a direct message (two people, not "the room's members"). */
export function encryptionWords(state: RoomEncryption, peer?: string): EncryptionWords {
  switch (state) {
    case 'encrypted':
      return {
        short: 'End-to-end encrypted',
        long:
          'End-to-end encrypted: messages are encrypted on your devices and can be read only by ' +
          (peer === undefined
            ? 'the devices of the room’s members'
            : `your devices and ${peer}’s`) +
          '. The host relays what it cannot read.',
        icon: 'lock',
      };
    case 'joining':
      return {
        short: 'Setting up encryption…',
        long:
          'Setting up encryption: this room is end-to-end encrypted, and this device waits to be ' +
          'added by a member who is online. Messages you write wait until then.',
        icon: 'clock',
      };
    case 'broken':
      return {
        short: 'Encryption interrupted',
        long:
          'Encryption interrupted: this device lost the room’s keys and waits to be added again ' +
          'by a member who is online. Messages you write wait until then.',
        icon: 'alert',
      };
    case 'not-encrypted':
      return {
        short: 'Not end-to-end encrypted',
        long: 'Not end-to-end encrypted — the host can read messages in this room.',
        icon: 'unlock',
      };
  }
}

/**
 * What the start of a room's timeline says about who can read it. `peer`: the other person of a
 * direct message (two people, not "the room's members").
 */
export function timelineStartText(state: RoomEncryption, peer?: string): string {
  if (state === 'not-encrypted') {
    return (
      'Messages here are not end-to-end encrypted: they are encrypted on the way to the host, ' +
      'and the host can read them.'
    );
  }
  return peer === undefined
    ? 'Messages here are end-to-end encrypted: only the devices of the room’s members can read ' +
        'them. The host relays what it cannot read.'
    : `Messages here are end-to-end encrypted: only your devices and ${peer}’s can read them. ` +
        'The host relays what it cannot read.';
}

const REASONS: Record<Exclude<E2eeFailureReason, 'forged'>, string> = {
  tampered: 'it was changed on the way',
  replay: 'it was a copy of an earlier message',
  'not-in-group': 'it was sent before this device was added to the room',
  undecryptable: 'its keys are not on this device',
};

/** A message that could not be read, in words (its row shows this instead of a text). */
export function failureText(reason: E2eeFailureReason): string {
  if (reason === 'forged') return 'Forged: not signed by its sender';
  return `This message could not be decrypted (${REASONS[reason]})`;
}

/**
 * What the composer says while a room's encryption is not ready: why messages wait, who ends the
 * wait (another member's app, once online) and, when `othersOnline` is false, that nobody can yet.
 */
export function waitingText(state: RoomEncryption, othersOnline?: boolean): string | undefined {
  const nobody = othersOnline === false ? ' No other member is online now.' : '';
  if (state === 'joining') {
    return (
      'Setting up encryption: messages you send now wait until this device is added to the room ' +
      `(a member of the room adds this device when they are online).${nobody}`
    );
  }
  if (state === 'broken') {
    return (
      'Encryption interrupted: messages you send now wait until this device is added again ' +
      `(a member of the room adds this device when they are online).${nobody}`
    );
  }
  return undefined;
}

/** A safety number's groups of five digits (12 of them). */
export function safetyGroups(value: string): string[] {
  return value.split(/\s+/).filter((group) => group !== '');
}
