/** How many characters of a bad value an error message may show. */
export const EXCERPT_CHARACTERS = 64;

/**
 * A value as an error message may quote it: JSON, in full when short, else its first characters, '…'
 * and its length. A manifest can carry megabytes in one field, and an error that echoes them back
 * costs seconds and gigabytes and buries the message itself.
 */
export function excerpt(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= EXCERPT_CHARACTERS) return JSON.stringify(value);
    return `${JSON.stringify(`${prefix(value)}…`)} (${value.length} characters)`;
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= EXCERPT_CHARACTERS ? text : `${prefix(text)}… (${text.length} characters)`;
}

function prefix(text: string): string {
  // Never cut a surrogate pair in half: the excerpt itself must be valid Unicode.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(EXCERPT_CHARACTERS - 1))
    ? EXCERPT_CHARACTERS - 1
    : EXCERPT_CHARACTERS;
  return text.slice(0, end);
}
