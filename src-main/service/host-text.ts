/**
 * Text the host chose (its name, its error messages), made safe to show: control characters
 * and bidirectional overrides become visible escapes, so a host cannot reorder or hide what
 * the user reads around it.
 */
export function hostText(text: string): string {
  return text.replace(
    /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`,
  );
}
