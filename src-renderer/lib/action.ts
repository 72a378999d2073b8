// "/me waves" is an action: every client shows it as "* alice waves" (IRC's convention), so a
// message sent with the /me command reads the same everywhere.

const PREFIX = '/me ';

/** What the person did ("waves" for "/me waves"), or null for an ordinary message. */
export function actionOf(text: string): string | null {
  if (!text.startsWith(PREFIX)) return null;
  const action = text.slice(PREFIX.length);
  return action.trim() === '' ? null : action;
}

/** The message as words, for a screen reader or a notification: "alice waves" for an action. */
export function spokenText(from: string, text: string): string {
  const action = actionOf(text);
  return action === null ? `${from}: ${text}` : `${from} ${action}`;
}
