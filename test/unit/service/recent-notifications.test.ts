import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { RecentNotifications } from '../../../src-main/service/recent-notifications.ts';

const failed: ChatMessageView = {
  room: 'lobby',
  id: 'm1',
  seq: 4,
  from: 'bob',
  fp: 'BOB FP',
  key: 'B'.repeat(43),
  text: '',
  ts: 1000,
  own: false,
  status: 'sent',
  e2ee: { status: 'failed', reason: 'forged' },
};

function decide(view: ChatMessageView, privacy: (typeof DEFAULT_SETTINGS)['notificationPrivacy']) {
  return new RecentNotifications('linux').decide(view, false, {
    windowFocused: false,
    roomVisible: false,
    settings: { ...DEFAULT_SETTINGS, notificationPrivacy: privacy },
    now: 1000,
  });
}

describe('notifications of end-to-end encrypted messages', () => {
  it('say neutrally that a message could not be decrypted, never why', () => {
    expect(decide(failed, 'sender-and-text')).toMatchObject({
      title: 'bob in #lobby',
      body: 'a message that could not be decrypted',
    });
    expect(JSON.stringify(decide(failed, 'sender-and-text'))).not.toContain('forged');
  });

  it('keep the privacy levels', () => {
    expect(decide(failed, 'sender')).toMatchObject({ title: 'bob in #lobby', body: 'New message' });
    expect(decide(failed, 'nothing')).toMatchObject({ title: 'Parley', body: 'New message' });
    const { e2ee: _e2ee, ...readable } = failed;
    expect(decide({ ...readable, text: 'see you at noon' }, 'sender-and-text')).toMatchObject({
      body: 'see you at noon',
    });
  });
});
