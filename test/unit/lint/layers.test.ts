import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The layers are lint rules (eslint.config.js): an import that crosses one is reported, and the
 * message names both sides and the rule that was crossed. Each case lints one made-up file,
 * placed by its path, with the project's own configuration; the imported files are real.
 */
const REPO = new URL('../../../', import.meta.url).pathname;

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: REPO });
});

async function layerMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.startsWith('boundaries/'))
    .map((m) => m.message);
}

describe('layers', { timeout: 60_000 }, () => {
  it('src-shared imports nothing from a process', async () => {
    const messages = await layerMessages(
      'src-shared/ipc/crossing.ts',
      "import { sameKey } from '../../src-main/protocol/host-key.ts';\nexport const x = sameKey;\n",
    );
    expect(messages).toEqual([
      'src-shared must not import src-main/protocol (pure code imports nothing from a process).',
    ]);
  });

  it('a layer does not import the layers above it, not even a type', async () => {
    const messages = await layerMessages(
      'src-main/store/crossing.ts',
      "import type { Outbox } from '../client/outbox.ts';\nexport type X = Outbox;\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^src-main\/store must not import src-main\/client \(a layer /);
  });

  it('client and server do not import each other', async () => {
    const messages = await layerMessages(
      'src-main/server/crossing.ts',
      "export { Outbox } from '../client/outbox.ts';\n",
    );
    expect(messages).toEqual([
      'src-main/server must not import src-main/client (server and client stand side by side: ' +
        'what both need belongs in a layer below).',
    ]);
  });

  it('the Electron glue reaches the chat only through the service', async () => {
    const messages = await layerMessages(
      'src-main/app/crossing.ts',
      "import { sameKey } from '../protocol/host-key.ts';\nexport const x = sameKey;\n",
    );
    expect(messages).toEqual([
      'src-main/app must not import src-main/protocol (the Electron glue reaches the chat only ' +
        'through the service).',
    ]);
  });

  it('nothing in src-main imports tools/ or bench/, even with a dynamic import', async () => {
    const messages = await layerMessages(
      'src-main/server/crossing.ts',
      "export const load = () => import('../../bench/histogram.ts');\n" +
        "export const bridge = () => import('../../tools/web-bridge/protocol.ts');\n",
    );
    expect(messages).toEqual([
      'src-main/server must not import bench/ (development and test tooling is never part of the app).',
      'src-main/server must not import tools/ (development and test tooling is never part of the app).',
    ]);
  });

  it('the renderer reaches main only through window.parley', async () => {
    const messages = await layerMessages(
      'src-renderer/components/Crossing.svelte',
      '<script lang="ts">\n' +
        "  import { sameKey } from '../../src-main/protocol/host-key.ts';\n" +
        '  export const x = sameKey;\n' +
        '</script>\n',
    );
    expect(messages).toEqual([
      'src-renderer must not import src-main/protocol (the renderer reaches main only through ' +
        'window.parley).',
    ]);
  });

  it('imports down the layers pass', async () => {
    const messages = await layerMessages(
      'src-main/cli/fine.ts',
      "import { ChatSession } from '../client/chat-session.ts';\n" +
        "import { sameKey } from '../protocol/host-key.ts';\n" +
        "import { equalBytes } from '../../src-shared/equal-bytes.ts';\n" +
        'export const all = [ChatSession, sameKey, equalBytes];\n',
    );
    expect(messages).toEqual([]);
  });

  it('a new folder in src-main must first be given a layer', async () => {
    const messages = await layerMessages('src-main/elsewhere/new.ts', 'export const x = 1;\n');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/does not belong to any known element/);
  });
});
