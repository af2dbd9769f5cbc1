import { parse as parseConnectionString } from 'pg-connection-string';

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
 * A redactor that also removes one known connection string's password wherever it appears verbatim
 * (driver messages can echo it outside URL syntax). Parsed the way node-postgres parses it, so every
 * form it accepts (socket hosts in the query string, `socket:` URLs) yields its password.
 */
export function secretScrubber(url: string | undefined): (text: string) => string {
  const passwords = new Set<string>();
  try {
    const password = url ? parseConnectionString(url).password : undefined;
    if (password) passwords.add(password);
  } catch {
    // Unparseable: the generic patterns below still apply.
  }
  if (url) {
    // The raw (still percent-encoded) form can appear too, e.g. in an echoed URL.
    const raw = new RegExp(URL_PASSWORD.source, 'i').exec(url)?.[2];
    if (raw) passwords.add(raw);
  }
  const secrets = [...passwords].filter((p) => p.length >= 3);
  return (text) => secrets.reduce((t, p) => t.split(p).join('***'), redactSecrets(text));
}
