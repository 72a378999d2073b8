import { DM_ROOM_PREFIX } from '../../src-shared/identifiers.ts';
import type { ChatMessageView, Settings } from '../../src-shared/ipc/domain.ts';
import {
  type RecentNotification,
  type ShownNotification,
  UNREADABLE_TEXT,
  decideNotification,
} from './notification-policy.ts';

/** Notifications remembered for coalescing. */
const RECENT_NOTIFICATIONS_MS = 60_000;
/**
 * ... and at most this many: enough to coalesce any burst the user could read, while a flood
 * of messages costs the same per message as a quiet room.
 */
const MAX_RECENT_NOTIFICATIONS = 200;

/** What the notification policy needs to know about the app at the moment a message arrives. */
export interface NotificationContext {
  readonly windowFocused: boolean;
  readonly roomVisible: boolean;
  readonly settings: Settings;
  readonly now: number;
  /** The room's own level keeps this message quiet ('nothing', or 'mentions' without one). */
  readonly roomMuted?: boolean;
}

/**
 * The notifications shown lately (bounded in time and number), and the decision for the next
 * message: the policy coalesces bursts against them.
 */
export class RecentNotifications {
  readonly #platform: string;
  #recent: RecentNotification[] = [];

  constructor(platform: string) {
    this.#platform = platform;
  }

  /** The notification to show for `view`, if any; remembered for coalescing. */
  decide(
    view: ChatMessageView,
    history: boolean,
    context: NotificationContext,
  ): ShownNotification | undefined {
    const { now, settings } = context;
    this.#recent = this.#recent.filter((n) => now - n.at < RECENT_NOTIFICATIONS_MS);
    const decision = decideNotification({
      message: {
        room: view.room,
        from: view.from,
        // A message that could not be decrypted has no text: the notification says so, neutrally
        // (never why: a reason is for the timeline, where it can be explained).
        text: view.e2ee?.status === 'failed' ? UNREADABLE_TEXT : view.text,
        own: view.own,
        history,
        direct: view.room.startsWith(DM_ROOM_PREFIX),
      },
      windowFocused: context.windowFocused,
      roomVisible: context.roomVisible,
      muted: settings.muted || context.roomMuted === true,
      privacy: settings.notificationPrivacy,
      recent: this.#recent,
      now,
      platform: this.#platform,
    });
    if (!decision.show) return undefined;
    this.#recent.push({ room: view.room, from: view.from, at: now });
    if (this.#recent.length > MAX_RECENT_NOTIFICATIONS) {
      this.#recent.splice(0, this.#recent.length - MAX_RECENT_NOTIFICATIONS);
    }
    return decision;
  }

  /** The user looked at the room: its next message is news again. */
  forgetRoom(room: string): void {
    this.#recent = this.#recent.filter((n) => n.room !== room);
  }

  clear(): void {
    this.#recent = [];
  }
}
