// Invite tokens and ids (docs/protocol.md §11.1). The token is the secret in a link; the host keeps
// only its SHA-256, so a copy of the database admits nobody. The id is a separate random handle for
// listing and revoking, so showing it reveals nothing about the token.
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 18; // 24 base64url characters, 144 bits
const ID_BYTES = 9; // 12 base64url characters

/** A fresh invite token: 18 random bytes as unpadded base64url. */
export function newInviteToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The 32-byte SHA-256 of a token, the primary key the host looks invites up by. */
export function hashInviteToken(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

/**
 * A fresh public invite id: 9 random bytes as unpadded base64url, never starting with '-': an
 * operator passes it as `parley host revoke --id ID`, and a value starting with a dash is read as
 * an option (1 id in 64 was refused that way: the host-command test's flake).
 */
export function newInviteId(): string {
  for (;;) {
    const id = randomBytes(ID_BYTES).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
