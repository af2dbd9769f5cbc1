export { isOperatorError, OperatorError } from './operator-error.js';
export { REASONS, type Reason } from './reasons.js';
export { redactSecrets, redactUrl, secretScrubber } from './redact.js';
