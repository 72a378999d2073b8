/**
 * The contract's request and event names and channel names, without its schemas: the preload
 * needs only these, and importing contract.ts would bundle zod into it. contract.ts checks at
 * compile time that these lists are exactly its keys.
 */
export const REQUEST_NAMES = [
  'getSnapshot',
  'connect',
  'disconnect',
  'retryNow',
  'networkChanged',
  'send',
  'editMessage',
  'deleteMessage',
  'react',
  'sendFile',
  'cancelFile',
  'getFile',
  'saveFile',
  'search',
  'joinRoom',
  'leaveRoom',
  'setActiveRoom',
  'setRoomMute',
  'loadHistory',
  'typing',
  'setNick',
  'getMembers',
  'answerTrust',
  'markVerified',
  'safetyNumber',
  'acceptKeyChange',
  'getSettings',
  'updateSettings',
  'importAuthority',
  'listAuthorities',
  'removeAuthority',
  'openExternal',
  'createInvite',
  'listInvites',
  'revokeInvite',
  'createRoom',
  'setTopic',
  'setOpen',
  'unban',
  'partRoom',
  'removeMember',
  'setRole',
  'openDm',
] as const;

export const EVENT_NAMES = [
  'connectionState',
  'message',
  'messageStatus',
  'presence',
  'members',
  'typing',
  'trustRequired',
  'hostKeyChanged',
  'unread',
  'fileProgress',
  'rooms',
  'settings',
  'openRoom',
  'openInvite',
  'error',
  'roomEvent',
  'roomRemoved',
  'inviteRefused',
] as const;

export type RequestName = (typeof REQUEST_NAMES)[number];
export type EventName = (typeof EVENT_NAMES)[number];

export const requestChannel = (name: RequestName): string => `parley:${name}`;
export const eventChannel = (name: EventName): string => `parley:event:${name}`;
export const listenerName = (name: EventName): string =>
  `on${name.charAt(0).toUpperCase()}${name.slice(1)}`;
