/** The label-key rule, as field descriptions and error messages state it. */
export const LABEL_KEY_RULE =
  'an optional DNS-subdomain prefix of at most 253 characters and "/", then a name of 1 to 63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit (team, example.com/team)';

/** Labels per provision: each is carried on every dataset, and the CRD's CEL rule needs a bound. */
export const MAX_LABELS = 64;

const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const MAX_PREFIX = 253;
/**
 * The whole key, in the regular-expression syntax JavaScript and RE2 (CEL's `matches`) read alike; the
 * prefix length is checked apart, which a regular expression says badly.
 */
const LABEL_KEY_PATTERN = `^(${DNS_SUBDOMAIN}/)?${NAME}$`;
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);

/**
 * Kubernetes' own label-key syntax: catalog labels end up beside Kubernetes labels in DataHub and
 * OpenMetadata, and the rule leaves no room for NUL, surrogates or unbounded keys, which Postgres'
 * jsonb refuses or the catalog would carry on every dataset.
 */
export function isLabelKey(key: string): boolean {
  return LABEL_KEY.test(key) && key.indexOf('/') <= MAX_PREFIX;
}

/**
 * The same rule for the API server: a structural CRD schema cannot constrain map keys (no
 * propertyNames), a CEL rule on the map can.
 */
export const LABEL_KEY_VALIDATION = {
  rule: `self.all(k, k.matches('${LABEL_KEY_PATTERN}') && k.indexOf('/') <= ${MAX_PREFIX})`,
  message: `every key must be ${LABEL_KEY_RULE}`,
} as const;
