/**
 * The API server prunes unknown fields; the CLI has no API server, so for offline validation every
 * object with declared properties rejects others instead. Derived from the one schema, never hand-kept.
 */
export function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // Kubernetes extensions mean nothing to Ajv.
    if (key.startsWith('x-kubernetes-')) continue;
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strictSchema(v)]))
        : strictSchema(value);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined)
    out.additionalProperties = false;
  if ((schema as Record<string, unknown>)['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  return out;
}
