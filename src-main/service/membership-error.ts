import { ChatSessionError } from '../client/chat-session.ts';
import { MembershipError } from '../client/membership-requests.ts';
import { hostText } from './host-text.ts';
import { ServiceError } from './service-error.ts';

/**
 * A membership request's failure as the UI is told it: the host's refusal with its own words
 * (`forbidden`, `not-member`, `room-exists`, …), or why it could not be asked. Anything else
 * is rethrown (dispatchRequest logs it as internal).
 */
export function membershipFailure(error: unknown): ServiceError {
  if (error instanceof ChatSessionError) return new ServiceError('invalid-request', error.message);
  if (!(error instanceof MembershipError)) throw error;
  const said = hostText(error.message);
  switch (error.code) {
    case 'forbidden':
    case 'too-many-rooms':
    case 'banned':
      return new ServiceError('forbidden', said);
    case 'room-exists':
      return new ServiceError('room-exists', said);
    case 'not-member':
      return new ServiceError('not-member', said);
    case 'unknown-room':
    case 'not-in-room':
      return new ServiceError('not-found', said);
    case 'rate-limited':
      return new ServiceError('rate-limited', said);
    case 'busy':
      return new ServiceError('rate-limited', 'too many requests are waiting; try again shortly');
    case 'offline':
    case 'stopped':
      return new ServiceError('not-connected', 'not connected to the host; nothing was sent');
    case 'disconnected':
      return new ServiceError(
        'timeout',
        'the connection ended before the host answered; it may or may not have been done',
      );
    case 'bad-request':
      return new ServiceError('invalid-request', said);
    default:
      return new ServiceError('internal', said);
  }
}
