import type { CdmSinkProvision } from '../api/types.js';
import type { StoredDataset } from '../catalog/index.js';

/**
 * Tables this provision provisioned before, as the records outside the sink's schema know them: its
 * active catalog rows and its last status (a table it reported Ready or Drifted existed). The ownership
 * lines of its other tables add to this inside the plan.
 */
export function provisionedBefore(
  provision: CdmSinkProvision,
  stored: readonly StoredDataset[],
  schema: string,
): Set<string> {
  const names = new Set(
    stored.filter((d) => d.status === 'active' && d.schema_name === schema).map((d) => d.table_name),
  );
  for (const table of provision.status?.tables ?? []) {
    const [tableSchema, name] = table.table.split('.');
    if (tableSchema === schema && name && (table.state === 'Ready' || table.state === 'Drifted'))
      names.add(name);
  }
  return names;
}
