import { describe, expect, it } from 'vitest';
import {
  MAX_PAYLOAD_BYTES,
  decodePayload,
  encodePayload,
  eventOf,
  eventPayload,
  textPayload,
} from '../../../src-main/e2ee/payload.ts';
import {
  type ChatEvent,
  relationMatches,
  relationOf,
} from '../../../src-main/protocol/wire/chat-event.ts';
import { eventText } from '../../../src-main/store/outbox-store.ts';

// What an encrypted room's message carries (src-main/e2ee/payload.ts): every event of #17
// inside the {v, id} envelope, and back out exactly; and the host-visible relation it needs.

const ID = 'A'.repeat(22);
const FILE = {
  id: 'F'.repeat(22),
  name: 'report.pdf',
  mime: 'application/pdf',
  size: 70_000,
  chunks: 3,
  key: 'k'.repeat(43),
};
const EVENTS: ChatEvent[] = [
  { type: 'text', text: 'hello' },
  { type: 'text', text: 'an answer', reply: 4 },
  { type: 'edit', target: 4, text: 'corrected' },
  { type: 'delete', target: 4 },
  { type: 'react', target: 4, emoji: '👍🏽', on: true },
  { type: 'read', upTo: 12 },
  { type: 'file', file: FILE, text: 'the report', reply: 2 },
  { type: 'file', file: { ...FILE, mime: 'image/png', width: 640, height: 480 } },
];
const encoder = new TextEncoder();

describe('event payloads', () => {
  it.each(EVENTS)('seal and open $type exactly', (event) => {
    const opened = decodePayload(encodePayload(eventPayload(ID, event)));
    expect(opened?.id).toBe(ID);
    expect(opened && eventOf(opened)).toEqual(event);
  });

  it('still read a line sealed by the previous version (textPayload)', () => {
    const opened = decodePayload(encodePayload(textPayload(ID, 'from before')));
    expect(opened && eventOf(opened)).toEqual({ type: 'text', text: 'from before' });
  });

  it('refuse what is not an event: an unknown type, a bad emoji, a missing id, too many bytes', () => {
    const bad = [
      { v: 1, id: ID, type: 'shout', text: 'x' },
      { v: 1, id: ID, type: 'react', target: 1, emoji: 'abc', on: true },
      { v: 1, type: 'text', text: 'no id' },
      { v: 2, id: ID, type: 'text', text: 'another version' },
      { v: 1, id: ID, type: 'edit', target: 1 },
    ];
    for (const json of bad)
      expect(decodePayload(encoder.encode(JSON.stringify(json)))).toBeUndefined();
    const huge = encoder.encode(
      JSON.stringify({ v: 1, id: ID, type: 'text', text: 'x'.repeat(MAX_PAYLOAD_BYTES) }),
    );
    expect(decodePayload(huge)).toBeUndefined();
    expect(() => encodePayload({ v: 1, id: ID, type: 'text', text: '' })).toThrow();
  });

  it('need exactly the relation relationOf gives, and any other fails the check', () => {
    for (const event of EVENTS) {
      const relation = relationOf(event);
      expect(relationMatches(event, relation)).toBe(true);
      expect(relationMatches(event, { ...relation, rel: { t: 'edit', seq: 99 } })).toBe(false);
      expect(relationMatches(event, { ...relation, file: 'G'.repeat(22) })).toBe(false);
    }
    expect(relationOf({ type: 'delete', target: 4 })).toEqual({ rel: { t: 'delete', seq: 4 } });
    expect(relationOf(EVENTS[6] as ChatEvent)).toEqual({ file: FILE.id });
  });

  it('show the text a list of messages shows: a line, an edit, a caption, else nothing', () => {
    expect(EVENTS.map(eventText)).toEqual([
      'hello',
      'an answer',
      'corrected',
      '',
      '',
      '',
      'the report',
      '',
    ]);
  });
});
