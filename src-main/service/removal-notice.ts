import type { Settings } from '../../src-shared/ipc/domain.ts';
import type { ShownNotification } from './notification-policy.ts';
import { escapeMarkup } from './notification-policy.ts';

export interface Removal {
  readonly room: string;
  readonly reason: 'removed' | 'banned' | 'parted';
  /** Who did it; absent: the host's operator. */
  readonly by?: string;
}

export interface RemovalContext {
  readonly windowFocused: boolean;
  readonly settings: Settings;
  readonly platform: string;
}

/**
 * The desktop notification for losing a room, if any: "You were removed from #room by alice".
 * None for a room we left ourselves, while the window is focused (the app shows it), or muted.
 * With privacy 'nothing' it names neither the room nor who.
 */
export function removalNotice(
  removal: Removal,
  context: RemovalContext,
): ShownNotification | undefined {
  if (removal.reason === 'parted' || context.windowFocused || context.settings.muted) {
    return undefined;
  }
  const verb = removal.reason === 'banned' ? 'banned from' : 'removed from';
  const body =
    context.settings.notificationPrivacy === 'nothing'
      ? `You were ${verb} a room`
      : `You were ${verb} #${removal.room}${removal.by ? ` by ${removal.by}` : ''}`;
  return {
    show: true,
    title: 'Parley',
    body: context.platform === 'linux' ? escapeMarkup(body) : body,
    room: removal.room,
    coalesced: 1,
  };
}
