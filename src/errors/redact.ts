/**
 * Secrets never reach logs, status, events or errors. Connection URLs are the one secret this project
 * handles, so every message that may carry one passes through here.
 */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s/]*)@/gi;
const KEYWORD_PASSWORD = /\b(password|pass|pwd)=([^\s&;]+)/gi;

/** Masks the password of any `scheme://user:password@` URL and any `password=` pair in `text`. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(KEYWORD_PASSWORD, '$1=***');
}

/** A connection URL fit for printing: `postgres://user:***@host:port/db`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace('%2A%2A%2A', '***');
  } catch {
    return redactSecrets(url);
  }
}

/**
 * A redactor that also removes one known connection URL's password wherever it appears verbatim
 * (driver messages can echo it outside URL syntax).
 */
export function secretScrubber(url: string | undefined): (text: string) => string {
  let password = '';
  try {
    password = url ? decodeURIComponent(new URL(url).password) : '';
  } catch {
    password = '';
  }
  return (text) => {
    const redacted = redactSecrets(text);
    return password.length >= 3 ? redacted.split(password).join('***') : redacted;
  };
}
