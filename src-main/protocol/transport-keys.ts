import type { CipherState } from './noise/cipher-state.ts';
import type { HandshakeState } from './noise/handshake-state.ts';

/**
 * How a finished handshake becomes the transport's two CipherStates, [initiator→responder,
 * responder→initiator]. Every real session uses Noise's Split(); the parameter exists so the
 * benchmark can measure encryption's cost against the same code (bench/null-cipher.ts), and
 * nothing in src-main builds another one.
 */
export type TransportKeys = (handshake: HandshakeState) => [CipherState, CipherState];

export const noiseSplit: TransportKeys = (handshake) => handshake.split();
