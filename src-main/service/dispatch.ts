import type { z } from 'zod';
import { fail, ok } from '../../src-shared/result.ts';
import {
  type IpcResult,
  type RequestName,
  type RequestOutput,
  requests,
} from '../../src-shared/ipc/contract.ts';
import { ServiceError } from './service-error.ts';

/**
 * The one entry for requests from a renderer, whatever carries them (Electron IPC, the test
 * bridge's WebSocket): look the request up by name, validate its input against the contract's
 * schema, call the service, and answer with an IpcResult. It never throws and never passes
 * unvalidated input on. Logs name the request and what was wrong with it, never its content.
 */
export type ParsedInput<N extends RequestName> = z.output<(typeof requests)[N]['input']>;

/** One method per request of the contract. */
export type RequestHandlers = {
  readonly [N in RequestName]: (
    input: ParsedInput<N>,
  ) => Promise<RequestOutput<N>> | RequestOutput<N>;
};

export type DispatchLog = (
  level: 'warn' | 'error',
  event: string,
  fields: Record<string, string | number | boolean>,
) => void;

export interface DispatchOptions {
  readonly log?: DispatchLog;
}

const defaultLog: DispatchLog = (level, event, fields) =>
  console[level](`[parley] ${event}`, JSON.stringify(fields));

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}

export async function dispatchRequest(
  service: RequestHandlers,
  name: string,
  rawInput: unknown,
  options: DispatchOptions = {},
): Promise<IpcResult<RequestOutput<RequestName>>> {
  const log = options.log ?? defaultLog;
  if (!isRequestName(name)) {
    log('warn', 'ipc-unknown-request', { name: String(name).slice(0, 64) });
    return fail('invalid-request', 'unknown request');
  }
  const spec = requests[name];
  const parsed = spec.input.safeParse(rawInput);
  if (!parsed.success) {
    // Paths and issue codes only: the input may be a message someone typed.
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}:${i.code}`);
    log('warn', 'ipc-invalid-request', { name, issues: issues.join(' ') });
    return fail('invalid-request', describeIssues(parsed.error.issues));
  }
  let value: unknown;
  try {
    const handler = service[name] as (input: unknown) => unknown;
    value = await handler.call(service, parsed.data);
  } catch (error) {
    if (error instanceof ServiceError) return fail(error.code, error.message);
    log('error', 'ipc-request-failed', {
      name,
      error: error instanceof Error ? error.name : typeof error,
    });
    return fail('internal', 'something went wrong in Parley; the details are in its log');
  }
  // The service is ours, but the renderer must be able to trust the contract both ways.
  const output = spec.output.safeParse(value);
  if (!output.success) {
    log('error', 'ipc-invalid-output', {
      name,
      issues: output.error.issues.map((i) => `${i.path.join('.')}:${i.code}`).join(' '),
    });
    return fail('internal', 'Parley produced an invalid answer; the details are in its log');
  }
  return ok(output.data as RequestOutput<RequestName>);
}

/** Messages from the contract's schemas ("not a room name"), never the offending values. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  return `invalid request: ${parts.join('; ')}`;
}
