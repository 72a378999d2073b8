/**
 * The `parley://` invite in a command line, if any: how the OS hands a clicked invite link to
 * the app on Linux and Windows (as an argument of a new launch, which the single-instance lock
 * turns into a `second-instance` event). Chromium adds its own switches to that argv, so only
 * an argument that starts with the scheme is taken; the invite itself is validated later.
 */
export const INVITE_SCHEME = 'parley';
const MAX_ARG = 2048;

export function findInviteArg(argv: readonly string[]): string | undefined {
  return argv.find(
    (arg) => typeof arg === 'string' && arg.length <= MAX_ARG && /^parley:\/\//i.test(arg),
  );
}
