/**
 * Handshake patterns from the Noise specification, section 7. `pre` lists the keys
 * known before the handshake (pre-messages); each message is a list of tokens.
 * X and N are one-way patterns (room keys will travel in them later).
 */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

export interface HandshakePattern {
  readonly initiatorPre: readonly Token[];
  readonly responderPre: readonly Token[];
  /** messages[i] is sent by the initiator when i is even. */
  readonly messages: readonly (readonly Token[])[];
  readonly oneWay: boolean;
}

export const PATTERNS = {
  N: { initiatorPre: [], responderPre: ['s'], messages: [['e', 'es']], oneWay: true },
  X: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [['e', 'es', 's', 'ss']],
    oneWay: true,
  },
  NK: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [
      ['e', 'es'],
      ['e', 'ee'],
    ],
    oneWay: false,
  },
  XX: {
    initiatorPre: [],
    responderPre: [],
    messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
    oneWay: false,
  },
  IK: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
    oneWay: false,
  },
} as const satisfies Record<string, HandshakePattern>;

export type PatternName = keyof typeof PATTERNS;

export function isPatternName(name: string): name is PatternName {
  return Object.hasOwn(PATTERNS, name);
}
