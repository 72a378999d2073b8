import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { decodePublicKeyText } from '../../src-shared/identifiers.ts';
import { parseInvite } from '../../src-shared/invite.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { defaultDataDir } from '../store/app-paths.ts';
import { loadKeyPair } from '../store/key-file.ts';
import { AuthorityError } from '../trust/authority.ts';
import { AuthorityStore } from '../trust/authority-store.ts';
import {
  AuthorityFileError,
  DEFAULT_AUTHORITY_DAYS,
  DEFAULT_HOST_DAYS,
  MAX_HOST_DAYS,
  initAuthority,
  issueHostCertificate,
  loadAuthority,
} from '../trust/certificate-authority.ts';
import { CertificateRejected } from '../trust/certificate-error.ts';
import { type HostName, parseHostName } from '../trust/host-names.ts';
import { isKeyBindingUri, parseKeyBindingUri } from '../trust/key-binding.ts';
import {
  type Certificate,
  certificateToPem,
  hostNamesOf,
  parseCertificatesPem,
} from '../trust/x509.ts';
import { escapeText } from './line-format.ts';
import { EXIT, UsageError, describeArgError } from './usage-error.ts';

export const PASSPHRASE_ENV = 'PARLEY_CA_PASSPHRASE';
const MIN_PASSPHRASE_LENGTH = 8;

export const CA_HELP = `Usage: parley ca <command> [options]

A certificate authority vouches for Parley hosts, so that clients that trust it connect to a
host by name without an invite link, and follow its key when it changes (docs/trust.md).

Running an authority (on an administrator's machine):
  parley ca init --data-dir DIR --name NAME [--days N] [--passphrase-file FILE]
      creates DIR/ca.key (the authority's private key, mode 0600) and DIR/ca.pem (its
      certificate, to give to every client); valid ${DEFAULT_AUTHORITY_DAYS} days by default
  parley ca issue --ca DIR --host NAME [--host NAME ...] --host-key KEY [--days N]
                  [--out FILE] [--passphrase-file FILE]
      a certificate binding a host's key to its names (DNS names or IP addresses, exactly as
      clients type them); KEY is the host's public key (43 base64url characters, or the
      host's invite link; a key that starts with "-" needs --host-key=KEY), or use
      --host-key-file HOST.KEY; valid ${DEFAULT_HOST_DAYS} days by default (at most
      ${MAX_HOST_DAYS}); PEM on stdout, or in FILE
  parley ca show FILE
      what a certificate (or chain) says: names, validity, bound key, fingerprints

Trusting an authority (on a client):
  parley ca trust FILE [--data-dir DIR]        trust the authority whose certificate is FILE
  parley ca list [--data-dir DIR]              the authorities you trust
  parley ca untrust SHA256 [--data-dir DIR]    stop trusting one (parley ca list shows SHA256)

An encrypted authority key's passphrase comes from --passphrase-file FILE or the
${PASSPHRASE_ENV} environment variable, never from the command line.
Exit codes: 0 done, 1 failure, 2 bad arguments.
`;

export interface CaIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly now?: () => number;
}

/** `parley ca …`: returns the exit code. */
export async function runCa(argv: readonly string[], io: CaIo): Promise<number> {
  const [, command, ...rest] = argv; // argv[0] is 'ca'
  const now = io.now ?? Date.now;
  try {
    switch (command) {
      case 'init':
        return await init(rest, io, now());
      case 'issue':
        return await issue(rest, io, now());
      case 'show':
        return await show(rest, io, now());
      case 'trust':
        return await trust(rest, io, now);
      case 'list':
        return await list(rest, io, now);
      case 'untrust':
        return await untrust(rest, io, now);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(CA_HELP);
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command "${escapeText(command)}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`parley ca: ${error.message}\nRun "parley ca --help" for the commands.\n`);
      return EXIT.usage;
    }
    if (
      error instanceof AuthorityFileError ||
      error instanceof AuthorityError ||
      error instanceof CertificateRejected
    ) {
      io.stderr.write(`parley ca ${command ?? ''}: ${error.message}\n`);
      return EXIT.failure;
    }
    throw error;
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: readonly string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positionals > 0,
    });
  } catch (error) {
    throw new UsageError(describeArgError(error));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(
      `unexpected argument "${escapeText(parsed.positionals[positionals] ?? '')}"`,
    );
  }
  return parsed;
}

function days(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    throw new UsageError(
      `--days must be a whole number from 1 to ${max}, not "${escapeText(text)}"`,
    );
  }
  return n;
}

/** From --passphrase-file, else the environment; undefined if neither. Never from argv. */
async function passphraseOf(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  let passphrase: string | undefined;
  if (file !== undefined) {
    try {
      passphrase = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new AuthorityFileError(
        `cannot read the passphrase file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  } else if (env[PASSPHRASE_ENV]) {
    passphrase = env[PASSPHRASE_ENV];
  }
  if (passphrase !== undefined && passphrase.length === 0) {
    throw new AuthorityFileError('the passphrase is empty');
  }
  return passphrase;
}

// ── the authority ────────────────────────────────────────────────────────────────────

async function init(args: readonly string[], io: CaIo, now: number): Promise<number> {
  const { values } = parse(args, {
    'data-dir': { type: 'string' },
    name: { type: 'string' },
    days: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  if (values.help) return help(io);
  const dir = values['data-dir'];
  if (!dir) throw new UsageError('--data-dir DIR is required (the folder for ca.key and ca.pem)');
  const name = values.name?.trim();
  if (!name || name.length > 64 || /[\p{Cc}]/u.test(name)) {
    throw new UsageError('--name NAME is required: the organisation, 1 to 64 printable characters');
  }
  const lifetime = days(values.days, DEFAULT_AUTHORITY_DAYS, 36500);
  const passphrase = await passphraseOf(values['passphrase-file'], io.env);
  if (passphrase !== undefined && passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new AuthorityFileError(
      `the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
  const created = await initAuthority({
    dir: resolve(dir),
    name,
    days: lifetime,
    now,
    ...(passphrase !== undefined ? { passphrase } : {}),
  });
  const { certificate } = created;
  io.stdout.write(
    `authority "${escapeText(name)}"\n` +
      `certificate ${created.certFile}\n` +
      `key ${created.keyFile} (${passphrase === undefined ? 'not encrypted' : 'encrypted'})\n` +
      `expires ${certificate.notAfter.toISOString()}\n` +
      `sha256 ${certificate.fingerprint}\n`,
  );
  io.stderr.write(
    `Give ${created.certFile} to your users (parley ca trust ${created.certFile}) and keep ` +
      `${created.keyFile} secret${passphrase === undefined ? ' (it is not encrypted: consider --passphrase-file)' : ''}.\n`,
  );
  return EXIT.ok;
}

async function issue(args: readonly string[], io: CaIo, now: number): Promise<number> {
  const { values } = parse(args, {
    ca: { type: 'string' },
    host: { type: 'string', multiple: true },
    'host-key': { type: 'string' },
    'host-key-file': { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  if (values.help) return help(io);
  if (!values.ca) throw new UsageError('--ca DIR is required (the folder of parley ca init)');
  const names: HostName[] = [];
  for (const text of values.host ?? []) {
    const name = parseHostName(text);
    if (!name) {
      throw new UsageError(
        `"${escapeText(text)}" is not a host name or IP address (wildcards are not supported)`,
      );
    }
    if (!names.some((n) => n.name === name.name)) names.push(name);
  }
  if (names.length === 0)
    throw new UsageError('--host NAME is required (repeat it for more names)');
  const hostKey = await hostKeyOf(values['host-key'], values['host-key-file']);
  const lifetime = days(values.days, DEFAULT_HOST_DAYS, MAX_HOST_DAYS);
  const authority = await loadAuthority(
    resolve(values.ca),
    await passphraseOf(values['passphrase-file'], io.env),
  );
  const certificate = issueHostCertificate({ authority, names, hostKey, days: lifetime, now });
  const pem = certificateToPem(certificate);
  if (values.out) await writeFile(values.out, pem, { mode: 0o644 });
  else io.stdout.write(pem);
  io.stderr.write(
    `issued a certificate for ${hostNamesOf(certificate).join(', ')}: key ${fingerprint(hostKey)}, ` +
      `serial ${certificate.serial}, expires ${certificate.notAfter.toISOString()}, ` +
      `sha256 ${certificate.fingerprint}${values.out ? `, in ${values.out}` : ''}\n`,
  );
  return EXIT.ok;
}

async function hostKeyOf(text: string | undefined, file: string | undefined): Promise<Uint8Array> {
  if ((text === undefined) === (file === undefined)) {
    throw new UsageError(
      'give the host key with exactly one of --host-key KEY and --host-key-file FILE',
    );
  }
  if (file !== undefined) {
    let pair;
    try {
      pair = await loadKeyPair(file, selectBackend());
    } catch (error) {
      throw new AuthorityFileError((error as Error).message);
    }
    if (!pair) throw new AuthorityFileError(`${file} does not exist`);
    return pair.publicKey;
  }
  const value = (text ?? '').trim();
  if (/^parley:/i.test(value)) {
    const invite = parseInvite(value);
    if (!invite.ok) throw new UsageError(`--host-key: ${invite.error.message}`);
    return invite.value.hostKey;
  }
  const key = decodePublicKeyText(value);
  if (!key) {
    throw new UsageError(
      '--host-key takes the host public key as 43 base64url characters (the part after # in ' +
        'its invite link), or the invite link itself',
    );
  }
  return key;
}

async function show(args: readonly string[], io: CaIo, now: number): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  if (values.help) return help(io);
  const file = positionals[0];
  if (!file) throw new UsageError('give the certificate file: parley ca show FILE');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AuthorityFileError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const certificates = parseCertificatesPem(text, file);
  if (certificates.length === 0) throw new AuthorityFileError(`${file} holds no PEM certificate`);
  certificates.forEach((certificate, i) => {
    io.stdout.write(
      `${i > 0 ? '\n' : ''}${describeCertificate(certificate, i, certificates.length, now)}`,
    );
  });
  return EXIT.ok;
}

function describeCertificate(
  certificate: Certificate,
  index: number,
  count: number,
  now: number,
): string {
  const names = hostNamesOf(certificate);
  const bindings = certificate.uris.filter(isKeyBindingUri);
  const keys = bindings.map((uri) => {
    const key = parseKeyBindingUri(uri);
    return key ? `${encodeBase64Url(key)} (fingerprint ${fingerprint(key)})` : 'malformed';
  });
  const left = certificate.notAfter.getTime() - now;
  const state =
    now > certificate.notAfter.getTime()
      ? 'EXPIRED'
      : now < certificate.notBefore.getTime()
        ? 'NOT YET VALID'
        : `expires in ${Math.floor(left / 86_400_000)} days`;
  const bc = certificate.basicConstraints;
  const lines = [
    `certificate ${index + 1} of ${count}`,
    `subject: ${certificate.subject}`,
    `issuer: ${certificate.issuer}`,
    `serial: ${certificate.serial}`,
    `names: ${names.length > 0 ? names.join(', ') : '(none)'}`,
    `valid from: ${certificate.notBefore.toISOString()}`,
    `valid until: ${certificate.notAfter.toISOString()} (${state})`,
    `authority: ${bc?.cA ? `yes${bc.pathLength !== undefined ? ` (path length ${bc.pathLength})` : ''}` : 'no'}`,
    `bound key: ${keys.length > 0 ? keys.join('; ') : '(none)'}`,
    `sha256: ${certificate.fingerprint}`,
  ];
  return lines.map((line) => `${escapeText(line)}\n`).join('');
}

// ── a client's authorities ───────────────────────────────────────────────────────────

async function store(
  values: { 'data-dir'?: string | boolean | undefined },
  io: CaIo,
  now: () => number,
): Promise<AuthorityStore> {
  const dir = typeof values['data-dir'] === 'string' ? values['data-dir'] : defaultDataDir(io.env);
  if (dir === '') throw new UsageError('--data-dir must not be empty');
  const authorities = await AuthorityStore.load(resolve(dir), { now });
  for (const problem of authorities.problems) {
    io.stderr.write(`parley ca: warning: skipped ${escapeText(problem)}\n`);
  }
  return authorities;
}

async function trust(args: readonly string[], io: CaIo, now: () => number): Promise<number> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' } }, 1);
  if (values.help) return help(io);
  const file = positionals[0];
  if (!file) throw new UsageError("give the authority's certificate: parley ca trust FILE");
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new AuthorityFileError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const { authority, added } = await (await store(values, io, now)).import(pem);
  io.stdout.write(
    `${added ? 'trusted' : 'already trusted'} authority "${escapeText(authority.name)}" ` +
      `sha256 ${authority.fingerprint} until ${authority.certificate.notAfter.toISOString()}` +
      `${authority.file ? ` in ${authority.file}` : ''}\n`,
  );
  return EXIT.ok;
}

async function list(args: readonly string[], io: CaIo, now: () => number): Promise<number> {
  const { values } = parse(args, { 'data-dir': { type: 'string' } });
  if (values.help) return help(io);
  const authorities = (await store(values, io, now)).list();
  for (const authority of authorities) {
    io.stdout.write(
      `${authority.fingerprint} "${escapeText(authority.name)}" until ` +
        `${authority.certificate.notAfter.toISOString()}${authority.file ? ` ${authority.file}` : ''}\n`,
    );
  }
  if (authorities.length === 0) io.stderr.write('parley ca list: you trust no authority\n');
  return EXIT.ok;
}

async function untrust(args: readonly string[], io: CaIo, now: () => number): Promise<number> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' } }, 1);
  if (values.help) return help(io);
  const wanted = positionals[0];
  if (!wanted)
    throw new UsageError('give the authority’s SHA-256 fingerprint: parley ca untrust SHA256');
  const removed = await (await store(values, io, now)).remove(wanted);
  io.stdout.write(
    `removed authority "${escapeText(removed.name)}" sha256 ${removed.fingerprint}\n`,
  );
  return EXIT.ok;
}

function help(io: CaIo): number {
  io.stdout.write(CA_HELP);
  return EXIT.ok;
}
