// The save dialog behind the browser bridge. A browser tab has no way to pick a place on the
// machine that runs the service, so files are saved into one folder (the bridge's data folder's
// `saved-files`), and tests decide what the "user" answers.
import { existsSync, mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ChooseSavePath } from '../../src-main/service/file-requests.ts';
import { sanitizeFileName } from '../../src-shared/files.ts';

/** One answer of the "user": save under this name, or cancel. */
export type SaveAnswer = { readonly name: string } | { readonly cancel: true };

export class BridgeSaveDialog {
  /** Where every file is saved. */
  readonly dir: string;
  /** The names the service suggested, in order (what the dialog would have offered). */
  readonly asked: string[] = [];
  /** The paths handed back (the files the service then wrote). */
  readonly chosen: string[] = [];
  readonly #answers: SaveAnswer[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The next dialog is answered so (default: save under the suggested name). */
  answerNext(answer: SaveAnswer): void {
    this.#answers.push(answer);
  }

  /**
   * The service's port. No dialog confirms overwriting here, so a taken name gets " (1)",
   * " (2)"… before its extension; the path is always inside `dir`.
   */
  readonly choose: ChooseSavePath = (suggestedName) => {
    this.asked.push(suggestedName);
    const answer = this.#answers.shift() ?? { name: suggestedName };
    if ('cancel' in answer) return Promise.resolve(undefined);
    mkdirSync(this.dir, { recursive: true });
    const path = freePath(this.dir, sanitizeFileName(answer.name));
    this.chosen.push(path);
    console.log(`[bridge] saving a file as ${path}`);
    return Promise.resolve(path);
  };
}

function freePath(dir: string, name: string): string {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  let path = join(dir, name);
  for (let n = 1; existsSync(path); n++) path = join(dir, `${stem} (${n})${extension}`);
  return path;
}
