// docs/protocol.md is what an outside implementer writes a client from: its tables of message
// types and fields, close codes and error codes must say exactly what the schemas accept. This
// reads the page's tables and compares them with the exported zod schemas, so a field added to
// a message (or a code to an enum) without a line on the page fails here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ClientMessage,
  CloseCode,
  Hello,
  HostErrorCode,
  HostMessage,
} from '../../../src-main/protocol/wire/messages.ts';

const PAGE = readFileSync(resolve(import.meta.dirname, '../../../docs/protocol.md'), 'utf8');

/** The text of the section whose heading starts with `heading`, up to the next heading. */
function section(heading: string): string {
  const lines = PAGE.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${heading} `));
  if (start < 0) throw new Error(`docs/protocol.md has no section "${heading}"`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,6} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Every markdown table in `text`, cells trimmed (an escaped `\|` stays inside its cell). */
function tables(text: string): Table[] {
  const found: Table[] = [];
  let current: string[][] = [];
  const flush = (): void => {
    const [header, , ...rows] = current;
    if (header) found.push({ header, rows });
    current = [];
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      if (current.length > 0) flush();
      continue;
    }
    current.push(
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  if (current.length > 0) flush();
  return found;
}

function tableWith(text: string, firstHeader: string): Table {
  const table = tables(text).find((t) => t.header[0] === firstHeader);
  if (!table) throw new Error(`no table whose first column is ${firstHeader}`);
  return table;
}

/** The `code` spans of a cell: `` `a`, `b` `` → ['a', 'b']. */
function codes(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
}

/**
 * The fields listed in a cell: its comma-separated parts (commas inside `code` or parentheses
 * do not count), each named by the `code` span it starts with; `name?` is an optional field.
 */
function fieldsOf(cell: string): string[] {
  const parts: string[] = [];
  let part = '';
  let depth = 0;
  let inCode = false;
  for (const char of cell) {
    if (char === '`') inCode = !inCode;
    else if (!inCode && char === '(') depth++;
    else if (!inCode && char === ')') depth--;
    if (char === ',' && !inCode && depth === 0) {
      parts.push(part);
      part = '';
    } else part += char;
  }
  parts.push(part);
  return parts.map((text) => {
    const name = /^\s*`([A-Za-z]+\??)`/.exec(text)?.[1];
    if (name === undefined)
      throw new Error(`a field list part does not start with a field: ${text}`);
    return name;
  });
}

/** A schema object's fields as the page writes them: `name`, or `name?` when optional. */
function schemaFields(shape: Record<string, z.ZodType>): string[] {
  return Object.entries(shape)
    .filter(([name]) => name !== 't')
    .map(([name, field]) => (field.safeParse(undefined).success ? `${name}?` : name))
    .sort();
}

/** Each message type of a union, with its fields. */
function schemaTypes(
  union: typeof ClientMessage | typeof HostMessage,
): Map<string, readonly string[]> {
  const types = new Map<string, readonly string[]>();
  for (const option of union.options) {
    const shape: Record<string, z.ZodType> = option.shape;
    types.set(option.shape.t.value, schemaFields(shape));
  }
  return types;
}

/** The page's message types and fields, from the table whose first column is `t`. */
function pageTypes(text: string): Map<string, readonly string[]> {
  const types = new Map<string, readonly string[]>();
  for (const [typeCell = '', fieldCell = ''] of tableWith(text, '`t`').rows) {
    // A row may stand for several types with the same fields: `ping` / `pong`.
    for (const type of codes(typeCell)) types.set(type, fieldsOf(fieldCell).sort());
  }
  return types;
}

describe('docs/protocol.md', () => {
  it('§5.2 lists the hello’s fields, each marked required or not as the schema says', () => {
    const rows = tableWith(section('### 5.2'), 'field').rows;
    const listed = rows.map(([field = '', required = '']) => {
      const name = codes(field)[0] ?? '';
      return required === 'yes' ? name : `${name}?`;
    });
    expect(listed.sort()).toEqual(schemaFields(Hello.shape));
  });

  it('§8.1, §11.2, §12.1 and §13.2 list every client → host message type with exactly its fields', () => {
    const listed = new Map([
      ...pageTypes(section('### 8.1')),
      ...pageTypes(section('### 11.2')),
      ...pageTypes(section('### 12.1')),
      ...pageTypes(section('### 13.2')),
    ]);
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(schemaTypes(ClientMessage)));
  });

  it('§8.2, §11.3, §12.2 and §13.3 list every host → client message type with exactly its fields', () => {
    const listed = new Map([
      ...pageTypes(section('### 8.2')),
      ...pageTypes(section('### 11.3')),
      ...pageTypes(section('### 12.2')),
      ...pageTypes(section('### 13.3')),
    ]);
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(schemaTypes(HostMessage)));
  });

  it('§8.2 lists the presence events the schema allows', () => {
    const row = tableWith(section('### 8.2'), '`t`').rows.find(([t]) => t === '`presence`');
    const events = /`event` \(([^)]*)\)/.exec(row?.[1] ?? '')?.[1] ?? '';
    const presence = HostMessage.options.find((option) => option.shape.t.value === 'presence');
    const schema = presence && 'event' in presence.shape ? presence.shape.event.options : [];
    expect(codes(events).sort()).toEqual([...schema].sort());
  });

  it('§8.2, §11.3, §12.2 and §13.3 list every error code, and no other', () => {
    const rows = [
      ...tableWith(section('### 8.2'), 'code').rows,
      ...tableWith(section('### 11.3'), 'code').rows,
      ...tableWith(section('### 12.2'), 'code').rows,
      ...tableWith(section('### 13.3'), 'code').rows,
    ];
    expect(rows.flatMap(([code = '']) => codes(code)).sort()).toEqual(
      [...HostErrorCode.options].sort(),
    );
  });

  it('§7 lists every close code a host sends, and names the client’s goodbye', () => {
    const text = section('## 7.');
    // Channel-level codes come from the secure channel, not from the host's CloseCode.
    const channelLevel = ['decrypt-failed', 'bad-record'];
    const hostCodes = Object.values(CloseCode).filter((code) => code !== CloseCode.bye);
    const rows = tableWith(text, 'code').rows;
    expect(rows.flatMap(([code = '']) => codes(code)).sort()).toEqual(
      [...hostCodes, ...channelLevel].sort(),
    );
    expect(text).toContain(`\`${CloseCode.bye} <reason>\``);
  });
});
