import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { alice, message, upload } from './file-fixtures.ts';

// Review of #17 (R1): in an encrypted room the host cannot see what an edit says, so a send with
// `rel` edit may carry a `file` too (a modified client's). Deleting the target erases its edits;
// a file one of them claimed must go with them (docs/security.md: "a deleted message's file is
// deleted with it"), not stay downloadable by id until retention.

let dir: string;
let db: HostDatabase;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-del-files-'));
  db = HostDatabase.open(path.join(dir, 'host.db'));
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const uploaded = (): string => upload(db, alice, 1);

describe('a deletion and the files of its target’s edits', () => {
  it('deletes a file an edit of the deleted message claimed', () => {
    const own = uploaded();
    const onEdit = uploaded();
    const [target] = db.appendMessages([message({ file: own })]);
    const seq = target?.message.seq ?? 0;
    const [edit] = db.appendMessages([message({ rel: { t: 'edit', seq }, file: onEdit })]);
    expect(edit?.refused).toBeUndefined();
    expect(db.files.file(onEdit)?.seq).toBe(edit?.message.seq);

    const [deletion] = db.appendMessages([message({ rel: { t: 'delete', seq } })]);
    expect(deletion?.refused).toBeUndefined();
    expect(db.files.file(own)).toBeUndefined();
    expect(db.files.file(onEdit)).toBeUndefined();
    expect(db.files.chunk(onEdit, 0)).toBeUndefined();
  });
});
