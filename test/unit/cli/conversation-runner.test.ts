import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConversationContext,
  runConversationCommand,
} from '../../../src-main/cli/conversation-commands.ts';
import { Conversation } from '../../../src-main/cli/conversation.ts';
import { type ChatSession, ChatSessionError } from '../../../src-main/client/chat-session.ts';
import type { OutboxEntry } from '../../../src-main/client/outbox.ts';
import type { ChatEvent } from '../../../src-main/protocol/wire/chat-event.ts';

// The commands against a stand-in session: what each one queues, and what it prints.

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Fake {
  readonly ctx: ConversationContext;
  readonly out: string[];
  readonly stderr: () => string;
  readonly sent: ChatEvent[];
  readonly files: { name: string; size: number; text?: string | undefined }[];
  notSent: number;
  released: Promise<void>;
}

function fake(
  options: { maxFileBytes?: number; progress?: boolean; refuse?: string; offline?: boolean } = {},
): Fake {
  const pending: OutboxEntry[] = [];
  const out: string[] = [];
  let errors = '';
  const stderr = new PassThrough();
  stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const sent: ChatEvent[] = [];
  const files: Fake['files'] = [];
  let release: () => void = () => undefined;
  const session = {
    pending,
    maxFileBytes: options.maxFileBytes ?? 1000,
    host: options.offline ? undefined : { name: 'h' },
    sendEvent(room: string, event: ChatEvent): string {
      if (options.refuse) throw new ChatSessionError('invalid-text', options.refuse);
      sent.push(event);
      const id = `id${sent.length}`;
      pending.push({ id, room, text: '', event, queuedAt: 0 });
      return id;
    },
    async sendFile(
      _room: string,
      file: { bytes: Uint8Array; name: string; text?: string },
      transfer: { onProgress?: (done: number, total: number) => void },
    ) {
      for (let done = 0; done <= file.bytes.length; done += 100) {
        transfer.onProgress?.(done, file.bytes.length);
        await new Promise((r) => setTimeout(r, 120));
      }
      files.push({ name: file.name, size: file.bytes.length, text: file.text });
      return { id: 'file1' };
    },
  };
  const conversation = new Conversation('A'.repeat(43));
  cleanups.push(() => conversation.close());
  const state: Fake = {
    out,
    stderr: () => errors,
    sent,
    files,
    notSent: 0,
    released: new Promise<void>((resolve) => (release = resolve)),
    ctx: {
      session: session as unknown as ChatSession,
      conversation,
      room: 'lobby',
      now: () => T,
      cwd: tempDir(),
      stderr,
      progress: options.progress ?? false,
      out: (line) => out.push(line),
      notSent: () => state.notSent++,
      holdInput: () => () => release(),
      requestStarted: () => () => undefined,
    },
  };
  return state;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-runner-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('conversation commands: running', () => {
  it('/react sends on, then off, then on again', () => {
    const f = fake();
    for (let i = 0; i < 3; i++) runConversationCommand(f.ctx, '/react', '4 👍');
    expect(f.sent.map((event) => event.type === 'react' && event.on)).toEqual([true, false, true]);
    expect(f.out).toEqual([]);
  });

  it('queues replies, edits and deletions as events; a usage line sends nothing', () => {
    const f = fake();
    runConversationCommand(f.ctx, '/reply', '3 yes');
    runConversationCommand(f.ctx, '/edit', '3 better');
    runConversationCommand(f.ctx, '/delete', '#3');
    runConversationCommand(f.ctx, '/delete', 'three');
    expect(f.sent).toEqual([
      { type: 'text', text: 'yes', reply: 3 },
      { type: 'edit', target: 3, text: 'better' },
      { type: 'delete', target: 3 },
    ]);
    expect(f.out).toEqual(['*** 2026-01-02T03:04:05.678Z usage: /delete SEQ']);
    expect(runConversationCommand(f.ctx, '/quit', '')).toBe(false);
  });

  it('says so when the session refuses, and counts it as not sent', () => {
    const f = fake({ refuse: 'text too long' });
    runConversationCommand(f.ctx, '/edit', '3 x');
    expect(f.out).toEqual([
      '*** 2026-01-02T03:04:05.678Z #lobby error invalid-text: text too long (that message was not sent)',
    ]);
    expect(f.notSent).toBe(1);
  });

  it('/send-file: refused over the limit before reading, with sizes in words', async () => {
    const f = fake({ maxFileBytes: 1000 });
    writeFileSync(join(f.ctx.cwd, 'big.bin'), Buffer.alloc(2048));
    runConversationCommand(f.ctx, '/send-file', 'big.bin');
    await f.released;
    expect(f.out).toEqual([
      '*** 2026-01-02T03:04:05.678Z #lobby error file-too-large: big.bin has 2 KB; the host takes files of up to 1000 B (the file was not sent)',
    ]);
    expect(f.files).toEqual([]);
    expect(f.notSent).toBe(1);
    const none = fake({ maxFileBytes: 0 });
    writeFileSync(join(none.ctx.cwd, 'a.txt'), 'a');
    runConversationCommand(none.ctx, '/send-file', 'a.txt');
    await none.released;
    expect(none.out[0]).toContain('error file-too-large: this host does not take files');
    const offline = fake({ offline: true });
    writeFileSync(join(offline.ctx.cwd, 'a.txt'), 'a');
    runConversationCommand(offline.ctx, '/send-file', 'a.txt');
    await offline.released;
    expect(offline.out[0]).toContain('error not-connected: not connected to the host now');
    const missing = fake();
    runConversationCommand(missing.ctx, '/send-file', 'nope.txt');
    await missing.released;
    expect(missing.out[0]).toContain('error unreadable: cannot read nope.txt: ENOENT');
  });

  it('/send-file: progress on stderr only when it is a terminal', async () => {
    for (const progress of [true, false]) {
      const f = fake({ progress });
      writeFileSync(join(f.ctx.cwd, 'a b.txt'), Buffer.alloc(300));
      runConversationCommand(f.ctx, '/send-file', '"a b.txt" the caption');
      await f.released;
      expect(f.files).toEqual([{ name: 'a b.txt', size: 300, text: 'the caption' }]);
      expect(f.out).toEqual(['*** 2026-01-02T03:04:05.678Z #lobby file sent "a b.txt", 300 B']);
      if (progress) {
        expect(f.stderr()).toContain('\rparley --connect: sending a b.txt: 33% (100 B of 300 B)');
        expect(f.stderr()).toContain('100% (300 B of 300 B)');
        expect(f.stderr().endsWith('\r\x1b[K')).toBe(true); // erased
      } else {
        expect(f.stderr()).toBe('');
      }
    }
  });

  it('/save of a message with no file seen says so and saves nothing', () => {
    const f = fake();
    runConversationCommand(f.ctx, '/save', '9');
    expect(f.out).toEqual([
      '*** 2026-01-02T03:04:05.678Z #lobby error no-such-file: no file #9 seen here in this run (nothing was saved)',
    ]);
  });

  it('/search prints the count line even for nothing', () => {
    const f = fake();
    runConversationCommand(f.ctx, '/search', '"*NEAR(');
    expect(f.out).toEqual(['*** 2026-01-02T03:04:05.678Z search 0 results: "*NEAR(']);
  });
});
