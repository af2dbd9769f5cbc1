/**
 * Stable, CamelCase condition reasons (DESIGN.md §2). They double as metric labels and Event reasons,
 * so renaming one is a breaking change; `docs/reasons.md` documents each and a test keeps the two in step.
 */
export const REASONS = [
  'Provisioned',
  'Progressing',
  'InvalidSpec',
  'UnsupportedModel',
  'SecretNotFound',
  'ConnectionFailed',
  'InvalidConnection',
  'PoolExhausted',
  'AuthenticationFailed',
  'PermissionDenied',
  'LockTimeout',
  'QueryCanceled',
  'DestructiveChangeBlocked',
  'Drifted',
  'ConflictingOwner',
  'UnmanagedTableExists',
  'CatalogError',
  'ApplyFailed',
  'Suspended',
  'Deleting',
] as const;

export type Reason = (typeof REASONS)[number];
