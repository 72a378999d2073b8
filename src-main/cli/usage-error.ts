import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A command-line mistake: printed with the mode's usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  hostKeyChanged: 3,
  hostUnknown: 4,
  nickTaken: 5,
  /** Never connected: the host refused, had no route or did not answer (stderr says which). */
  unreachable: 6,
  /** The room asked for does not exist on the host (stderr lists the ones that do). */
  noSuchRoom: 7,
} as const;

/** Turns parseArgs' own errors into one readable line. */
export function describeArgError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const missing =
    /^Option '(-\w, )?(--[\w-]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
  if (missing) return `${missing[2]} needs a value`;
  return message
    .replace(/\. To specify a positional argument.*$/s, '')
    .replace(/^Unknown option/, 'unknown option')
    .replace(/^Unexpected argument/, 'unexpected argument');
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, strict and without positionals, with errors a person can act on: an option of
 * `options` that takes a value and has none (last, or followed by another `--option`) names
 * what it needs (`needs` says what, e.g. "a nickname"); a single-value option given twice is an
 * error instead of the last one silently winning.
 */
export function parseOptions<T extends Options>(
  argv: readonly string[],
  options: T,
  needs: Partial<Record<keyof T & string, string>> = {},
) {
  argv.forEach((arg, index) => {
    const name = arg.slice(2) as keyof T & string;
    if (!arg.startsWith('--') || options[name]?.type !== 'string') return;
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) {
      throw new UsageError(`${arg} needs ${needs[name] ?? 'a value'}`);
    }
  });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(describeArgError(error));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name) && options[token.name]?.type === 'string') {
      throw new UsageError(`${token.rawName} was given more than once: give it once`);
    }
    seen.add(token.name);
  }
  return parsed.values;
}
