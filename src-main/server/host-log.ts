/**
 * The host's log: one line per event on stderr, `time level event key=value …`. It is handed
 * only identifiers (fingerprints, nicknames, rooms, codes, counts): never message text, never
 * key material, so logs are safe to share.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;
export type HostLog = (level: LogLevel, event: string, fields?: LogFields) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createStderrLog(
  minimum: LogLevel = 'info',
  write = (line: string) => process.stderr.write(line),
): HostLog {
  return (level, event, fields = {}) => {
    if (ORDER[level] < ORDER[minimum]) return;
    let line = `${new Date().toISOString()} ${level} ${event}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`;
    }
    write(line + '\n');
  };
}

export const silentLog: HostLog = () => undefined;
