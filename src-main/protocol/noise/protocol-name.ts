import type { CipherName } from '../crypto/crypto-backend.ts';
import { ProtocolError } from '../errors.ts';
import { type PatternName, isPatternName } from './patterns.ts';

/** A parsed Noise protocol name, e.g. `Noise_XX_25519_ChaChaPoly_SHA256`. Only 25519 and SHA256. */
export interface NoiseProtocol {
  readonly name: string;
  readonly pattern: PatternName;
  readonly cipher: CipherName;
}

const NAME = /^Noise_([A-Z]+)_25519_(ChaChaPoly|AESGCM)_SHA256$/;

export function parseProtocolName(name: string): NoiseProtocol {
  const match = NAME.exec(name);
  const pattern = match?.[1];
  const cipher = match?.[2];
  if (!pattern || !isPatternName(pattern) || (cipher !== 'ChaChaPoly' && cipher !== 'AESGCM')) {
    throw new ProtocolError('unsupported-suite', `unsupported Noise protocol "${name}"`);
  }
  return { name, pattern, cipher };
}
