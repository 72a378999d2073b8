import type { Socket } from 'node:net';
import type { BackendName, CryptoBackend, KeyPair } from './crypto/crypto-backend.ts';
import { selectBackend } from './crypto/select-backend.ts';
import { ProtocolError } from './errors.ts';
import { encodeFrame } from './framing.ts';
import { HandshakeState } from './noise/handshake-state.ts';
import { STATUS_OK, encodeErrorLine, parsePreface } from './preface.ts';
import { type ChannelOptions, SecureChannel } from './secure-channel.ts';
import { SocketReader, ignoreSocketError } from './socket-reader.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, SUITES, type Suite } from './suites.ts';
import { type TransportKeys, noiseSplit } from './transport-keys.ts';
import { concatBytes } from '../../src-shared/bytes.ts';

export interface AcceptOptions extends ChannelOptions {
  readonly staticKeyPair: KeyPair;
  /** Sent encrypted in handshake message 2 (after the host's static key). */
  readonly hostInfo: Uint8Array;
  readonly suites?: readonly Suite[];
  /** A backend, or its name (`noble` only where select-backend.ts loaded it: all-backends.ts). */
  readonly backend?: BackendName | CryptoBackend;
  readonly handshakeTimeoutMs?: number;
  /** Default Noise's Split(); only the benchmark passes another (bench/null-cipher.ts). */
  readonly transportKeys?: TransportKeys;
}

/**
 * The host's side: read the preface, answer with a status line and message 2, read message 3.
 * Resolves with a channel that is not started yet (see `SecureChannel.start`); `peerPayload`
 * is the client's hello from message 3. On any failure the socket is closed and it rejects.
 */
export async function acceptChannel(
  socket: Socket,
  options: AcceptOptions,
): Promise<SecureChannel> {
  // Errors surface as 'close' or a failed read; this keeps a late ECONNRESET from crashing us.
  socket.on('error', ignoreSocketError);
  const reader = new SocketReader(socket);
  const timer = setTimeout(
    () =>
      reader.fail(
        new ProtocolError('handshake-timeout', 'the client did not finish the handshake in time'),
      ),
    options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
  let answered = false;
  try {
    socket.setNoDelay(true);
    const preface = await reader.readLine();
    const asked = parsePreface(preface.text);
    const suites: readonly string[] = options.suites ?? SUITES;
    // The suite's own constant, not the text parsed from the preface: that is a slice of the
    // line, which the channel would keep alive for the connection's life (~0.1 KB each).
    const protocolName = suites.find((suite) => suite === asked);
    if (protocolName === undefined) {
      throw new ProtocolError('unsupported-suite', `this host does not speak ${asked}`);
    }
    const handshake = new HandshakeState({
      protocol: protocolName,
      initiator: false,
      prologue: preface.line,
      s: options.staticKeyPair,
      backend:
        typeof options.backend === 'object' ? options.backend : selectBackend(options.backend),
    });
    const payload1 = handshake.readMessage(await reader.readFrame());
    if (payload1.length !== 0) {
      throw new ProtocolError(
        'handshake-failed',
        'message 1 must carry no payload (it is not encrypted)',
      );
    }
    const message2 = encodeFrame(handshake.writeMessage(options.hostInfo));
    socket.write(concatBytes(STATUS_OK, message2));
    answered = true;
    const hello = handshake.readMessage(await reader.readFrame());
    const remoteStaticKey = handshake.remoteStaticKey;
    if (!remoteStaticKey)
      throw new ProtocolError('handshake-failed', 'the client sent no static key');
    const [initiatorToResponder, responderToInitiator] = (options.transportKeys ?? noiseSplit)(
      handshake,
    );
    const channel = new SecureChannel(
      socket,
      { send: responderToInitiator, receive: initiatorToResponder },
      {
        protocolName,
        remoteStaticKey,
        handshakeHash: handshake.getHandshakeHash(),
        peerPayload: hello,
      },
      reader.detach(),
      options,
    );
    // The channel listens for errors now: one listener, not an array of two per socket.
    socket.off('error', ignoreSocketError);
    return channel;
  } catch (error) {
    const protocolError =
      error instanceof ProtocolError
        ? error
        : new ProtocolError('handshake-failed', 'handshake failed', { cause: error });
    reader.detach();
    // Before our status line the client can still read a refusal; after it, only a hang-up.
    if (!answered && !socket.destroyed && protocolError.code !== 'connection-lost') {
      socket.end(encodeErrorLine(protocolError.code, protocolError.message));
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
    throw protocolError;
  } finally {
    clearTimeout(timer);
  }
}

/** Refuses a connection before any handshake (host full, per-address limit). */
export function refuseConnection(socket: Socket, code: string, text: string): void {
  socket.end(encodeErrorLine(code, text));
  setTimeout(() => socket.destroy(), 1000).unref();
}
