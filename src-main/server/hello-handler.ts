import type { SecureChannel } from '../protocol/secure-channel.ts';
import { WireError, decodeMessage } from '../protocol/wire/codec.ts';
import { CloseCode, WIRE_VERSION } from '../protocol/wire/constants.ts';
import { hostSchemas } from '../protocol/wire/host-schemas-loader.ts';
import type { Hello } from '../protocol/wire/messages.ts';
import type { ClaimOutcome, NicknameRegistry } from './nickname-registry.ts';

/**
 * A new channel's hello (the payload of handshake message 3): the nickname it asks for is
 * claimed through the registry, the one claim path renames use too; then the client is
 * welcomed, or told the name belongs to another key.
 */
export class HelloHandler {
  readonly #nicknames: NicknameRegistry;
  readonly #stopping: () => boolean;
  readonly #welcome: (channel: SecureChannel, nick: string, device: string | undefined) => void;
  readonly #onFailure: (channel: SecureChannel, error: unknown) => void;
  readonly #serialize: (work: () => void) => void;

  constructor(deps: {
    nicknames: NicknameRegistry;
    /** Whether the host is shutting down: then nobody new is welcomed. */
    stopping: () => boolean;
    /** The nickname is the key's: serve the connection (with the MLS device it named). */
    welcome: (channel: SecureChannel, nick: string, device: string | undefined) => void;
    /** Reading the hello or welcoming failed: the connection is ended, nobody else is. */
    onFailure: (channel: SecureChannel, error: unknown) => void;
    /**
     * Runs the hello's handling and the welcome (they read and write the database). A cluster
     * node runs database work only inside a turn that holds the cluster's write lock, so it
     * queues the work for its next turn; default: now.
     */
    serialize?: (work: () => void) => void;
  }) {
    this.#nicknames = deps.nicknames;
    this.#stopping = deps.stopping;
    this.#welcome = deps.welcome;
    this.#onFailure = deps.onFailure;
    this.#serialize = deps.serialize ?? ((work) => work());
  }

  /** A completed handshake with room for its client. Never throws. */
  greet(channel: SecureChannel): void {
    this.#serialize(() => {
      try {
        this.#greet(channel);
      } catch (error) {
        this.#onFailure(channel, error);
      }
    });
  }

  #greet(channel: SecureChannel): void {
    if (this.#stopping()) {
      channel.close(CloseCode.shutdown, 'the host is shutting down');
      return;
    }
    // One parse for a well-formed hello; only a hello that fails it is read again for its version
    // first: a client of another version may well send a hello of another shape, and must be told
    // to update, not that its hello is bad.
    let hello: Hello;
    try {
      hello = decodeMessage(hostSchemas().Hello, channel.peerPayload);
    } catch (helloError) {
      let error = helloError;
      try {
        const { v } = decodeMessage(hostSchemas().HelloVersion, channel.peerPayload);
        if (v !== WIRE_VERSION) {
          channel.close(
            CloseCode.version,
            `this host speaks Parley wire version ${WIRE_VERSION}; update Parley`,
          );
          return;
        }
      } catch (versionError) {
        error = versionError;
      }
      const reason = error instanceof WireError ? error.message : 'unreadable hello';
      channel.close(CloseCode.badHello, reason);
      return;
    }
    this.#nicknames.claim(hello.nick, channel.remoteStaticKey, (outcome) =>
      this.#serialize(() => this.#claimed(channel, hello, outcome)),
    );
  }

  /**
   * Answered later (after the turn's commit), so outside greet()'s boundary: its own; and the
   * welcome reads and writes the database, so it runs serialized like the hello.
   */
  #claimed(channel: SecureChannel, hello: Hello, outcome: ClaimOutcome): void {
    try {
      if (channel.closed) return;
      if (this.#stopping()) channel.close(CloseCode.shutdown, 'the host is shutting down');
      else if (outcome === 'ok') this.#welcome(channel, hello.nick, hello.device);
      else if (outcome === 'taken') {
        channel.close(
          CloseCode.nickTaken,
          `the nickname "${hello.nick}" belongs to another key on this host; choose another`,
        );
      } else {
        channel.close(
          CloseCode.shutdown,
          'the host could not check your nickname; try again later',
        );
      }
    } catch (error) {
      this.#onFailure(channel, error);
    }
  }
}
