/**
 * Which links from the chat may be handed to the system browser: absolute http(s) URLs with
 * a host and no embedded credentials. Everything else (file:, javascript:, custom schemes that
 * launch other apps, `user:pass@` tricks) is refused. Returns the normalized URL or undefined.
 */
export const MAX_URL_LENGTH = 4096;

export function safeExternalUrl(text: string): string | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_URL_LENGTH) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url.href;
}
