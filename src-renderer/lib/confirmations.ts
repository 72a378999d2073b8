// The words of the membership confirmations (leave, open or close a room, unban, remove or ban):
// what each one says is decided here, apart from the dialog that shows it and the request it
// runs, so the sentences can be read and tested together.

/** What a confirmation dialog says. */
export interface ConfirmText {
  readonly title: string;
  readonly text: string;
  readonly confirmLabel: string;
  /** The action cannot be undone by the user alone (the button is red). */
  readonly danger: boolean;
}

/**
 * Leaving the room on screen. `title` is the DM peer's name in a direct message; `open` whether
 * anyone on the host may join the room again.
 */
export function leaveText(
  room: string,
  dm: { readonly title: string } | null,
  open: boolean,
): ConfirmText {
  if (dm) {
    return {
      title: `Leave the conversation with ${dm.title}?`,
      text: `It leaves your list. Sending ${dm.title} a message again brings it back.`,
      confirmLabel: 'Leave',
      danger: false,
    };
  }
  const back = open
    ? 'You can join it again from the rooms on this host.'
    : 'To come back, you will need a new invite link.';
  return {
    title: `Leave #${room}?`,
    text: `You will no longer see #${room} or its messages. ${back}`,
    confirmLabel: 'Leave room',
    danger: true,
  };
}

/** Opening the room to everyone on the host, or (when `open`) making it invite-only again. */
export function accessText(room: string, open: boolean): ConfirmText {
  return open
    ? {
        title: `Make #${room} invite-only?`,
        text: `Only members and people you invite will be able to join #${room}; people already in stay.`,
        confirmLabel: 'Make invite-only',
        danger: false,
      }
    : {
        title: `Open #${room} to everyone on this host?`,
        text: `Anyone who connects to this host will be able to join #${room} and read its history. You can make it invite-only again later; people who joined stay.`,
        confirmLabel: 'Open room',
        danger: false,
      };
}

/** Lifting `nick`'s ban from a room; `open` rooms let them straight back in. */
export function unbanText(room: string, nick: string, open: boolean): ConfirmText {
  return {
    title: `Lift the ban on ${nick}?`,
    text: open
      ? `${nick} will be able to join #${room} again, like anyone on this host.`
      : `${nick} will be able to come back to #${room} with a new invite link. Lifting the ban does not add them back.`,
    confirmLabel: `Unban ${nick}`,
    danger: false,
  };
}

/** Removing `nick` from a room, or banning them (`ban`). */
export function removeText(room: string, nick: string, ban: boolean): ConfirmText {
  return ban
    ? {
        title: `Ban ${nick} from #${room}?`,
        text: `${nick} is removed from #${room} and cannot come back, not even with an invite link, until an admin lifts the ban.`,
        confirmLabel: `Ban ${nick}`,
        danger: true,
      }
    : {
        title: `Remove ${nick} from #${room}?`,
        text: `${nick} will no longer see #${room} or its new messages. They can come back only with a new invite link.`,
        confirmLabel: `Remove ${nick}`,
        danger: true,
      };
}
