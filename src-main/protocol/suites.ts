/** The Noise protocols a Parley channel speaks. The pattern is always XX: both sides have static keys. */
export const SUITES = ['Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_25519_AESGCM_SHA256'] as const;
export type Suite = (typeof SUITES)[number];
export const DEFAULT_SUITE: Suite = 'Noise_XX_25519_ChaChaPoly_SHA256';
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export function isSuite(name: string): name is Suite {
  return (SUITES as readonly string[]).includes(name);
}
