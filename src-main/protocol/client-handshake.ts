import type { Socket } from 'node:net';
import type { BackendName, CryptoBackend, KeyPair } from './crypto/crypto-backend.ts';
import { selectBackend } from './crypto/select-backend.ts';
import { ProtocolError } from './errors.ts';
import { encodeFrame } from './framing.ts';
import { HandshakeState } from './noise/handshake-state.ts';
import { encodePreface, parseStatusLine } from './preface.ts';
import { type ChannelOptions, SecureChannel } from './secure-channel.ts';
import { SocketReader, ignoreSocketError } from './socket-reader.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_SUITE, type Suite } from './suites.ts';
import { type TransportKeys, noiseSplit } from './transport-keys.ts';

export interface ConnectOptions extends ChannelOptions {
  readonly staticKeyPair: KeyPair;
  /** Sent encrypted in message 3, only after the host passed `verifyHost`. */
  readonly hello: Uint8Array;
  /**
   * Decides whether this is the host we meant, from the static key it proved and the info it
   * sent. Throw (e.g. `HostKeyMismatch`) to abort: message 3 is then never written.
   */
  readonly verifyHost: (hostKey: Uint8Array, hostInfo: Uint8Array) => void | Promise<void>;
  readonly suite?: Suite;
  /** A backend, or its name (`noble` only where select-backend.ts loaded it: all-backends.ts). */
  readonly backend?: BackendName | CryptoBackend;
  readonly handshakeTimeoutMs?: number;
  /** Default Noise's Split(); only the benchmark passes another (bench/null-cipher.ts). */
  readonly transportKeys?: TransportKeys;
}

/**
 * The client's side over a connected socket: preface + message 1 in one write, then the
 * host's status line and message 2, the host check, and message 3. Resolves with a channel
 * that is not started yet; `peerPayload` is the host info from message 2.
 */
export async function initiateChannel(
  socket: Socket,
  options: ConnectOptions,
): Promise<SecureChannel> {
  // Errors surface as 'close' or a failed read; this keeps a late ECONNRESET from crashing us.
  socket.on('error', ignoreSocketError);
  const reader = new SocketReader(socket);
  const timer = setTimeout(
    () =>
      reader.fail(
        new ProtocolError(
          'handshake-timeout',
          socket.connecting
            ? 'timed out connecting: the host did not answer'
            : 'the host did not finish the handshake in time',
        ),
      ),
    options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
  let verdict: unknown;
  try {
    socket.setNoDelay(true);
    const protocolName = options.suite ?? DEFAULT_SUITE;
    const preface = encodePreface(protocolName);
    const handshake = new HandshakeState({
      protocol: protocolName,
      initiator: true,
      prologue: preface,
      s: options.staticKeyPair,
      backend:
        typeof options.backend === 'object' ? options.backend : selectBackend(options.backend),
    });
    const message1 = encodeFrame(handshake.writeMessage(new Uint8Array(0)));
    const opening = new Uint8Array(preface.length + message1.length);
    opening.set(preface);
    opening.set(message1, preface.length);
    socket.write(opening);

    parseStatusLine((await reader.readLine()).text);
    const hostInfo = handshake.readMessage(await reader.readFrame());
    const hostKey = handshake.remoteStaticKey;
    if (!hostKey) throw new ProtocolError('handshake-failed', 'the host sent no static key');
    try {
      await options.verifyHost(hostKey, hostInfo);
    } catch (refusal) {
      verdict = refusal; // the caller's own error (e.g. HostKeyMismatch), passed on unchanged
      throw refusal;
    }
    if (socket.destroyed)
      throw new ProtocolError('connection-lost', 'the connection closed during the handshake');

    socket.write(encodeFrame(handshake.writeMessage(options.hello)));
    const [initiatorToResponder, responderToInitiator] = (options.transportKeys ?? noiseSplit)(
      handshake,
    );
    return new SecureChannel(
      socket,
      { send: initiatorToResponder, receive: responderToInitiator },
      {
        protocolName,
        remoteStaticKey: hostKey,
        handshakeHash: handshake.getHandshakeHash(),
        peerPayload: hostInfo,
      },
      reader.detach(),
      options,
    );
  } catch (error) {
    reader.detach();
    socket.destroy();
    if (error instanceof ProtocolError || error === verdict) throw error;
    throw new ProtocolError('handshake-failed', 'handshake failed', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
