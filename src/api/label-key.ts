/** The label-key rule, as field descriptions and error messages state it. */
export const LABEL_KEY_RULE =
  'an optional DNS-subdomain prefix of at most 253 characters and "/", then a name of 1 to 63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit (team, example.com/team)';

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Kubernetes' own label-key syntax: catalog labels end up beside Kubernetes labels in DataHub and
 * OpenMetadata, and the rule leaves no room for NUL, surrogates or unbounded keys, which Postgres'
 * jsonb refuses or the catalog would carry on every dataset.
 */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (name.length > 63 || !NAME.test(name)) return false;
  if (slash < 0) return true;
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix);
}
