/** Turns CRD manifests (paths or parsed objects) into served resource types, one per served version. */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { CrdSchema } from './crd-schema.js';
import { isObject, type JsonObject, stringArray } from './json.js';
import { ALL_VERBS, type ResourceType } from './resource-type.js';
import type { SchemaProps } from './structural-schema.js';

export interface LoadedCrd {
  readonly manifest: JsonObject;
  readonly types: ResourceType[];
}

async function readManifests(input: string | object): Promise<JsonObject[]> {
  if (typeof input !== 'string') return [input as JsonObject];
  const text = await readFile(input, 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc): doc is JsonObject => isObject(doc) && doc.kind === 'CustomResourceDefinition');
}

function required<T>(value: T | undefined, what: string, crdName: string): T {
  if (value === undefined || value === null || value === '')
    throw new Error(`CRD ${crdName}: ${what} is required`);
  return value;
}

export function typesFromCrd(manifest: JsonObject): ResourceType[] {
  const crdName = String((manifest.metadata as JsonObject | undefined)?.name ?? '<unnamed>');
  if (manifest.apiVersion !== 'apiextensions.k8s.io/v1') {
    throw new Error(
      `CRD ${crdName}: only apiextensions.k8s.io/v1 is supported, got ${String(manifest.apiVersion)}`,
    );
  }
  const spec = required(isObject(manifest.spec) ? manifest.spec : undefined, 'spec', crdName);
  const names = required(isObject(spec.names) ? spec.names : undefined, 'spec.names', crdName);
  const group = required(spec.group as string | undefined, 'spec.group', crdName);
  const kind = required(names.kind as string | undefined, 'spec.names.kind', crdName);
  const plural = required(names.plural as string | undefined, 'spec.names.plural', crdName);
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
  if (versions.length === 0) throw new Error(`CRD ${crdName}: spec.versions is empty`);
  return versions
    .filter((v) => v.served !== false)
    .map((v): ResourceType => {
      const version = required(v.name as string | undefined, 'spec.versions[].name', crdName);
      const schemaHolder = isObject(v.schema) ? v.schema : {};
      const openAPIV3Schema = isObject(schemaHolder.openAPIV3Schema)
        ? (schemaHolder.openAPIV3Schema as SchemaProps)
        : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      const subresources = isObject(v.subresources) ? v.subresources : {};
      return {
        group,
        version,
        kind,
        listKind: (names.listKind as string | undefined) ?? `${kind}List`,
        plural,
        singular: (names.singular as string | undefined) ?? kind.toLowerCase(),
        namespaced: spec.scope !== 'Cluster',
        shortNames: stringArray(names.shortNames),
        categories: stringArray(names.categories),
        verbs: ALL_VERBS,
        statusSubresource: isObject(subresources.status),
        tracksGeneration: true,
        allowUnconditionalUpdate: false,
        isCustomResource: true,
        nameRule: 'subdomain',
        extraFieldLabels: [],
        schema: new CrdSchema(openAPIV3Schema),
      };
    });
}

export async function loadCrds(inputs: ReadonlyArray<string | object>): Promise<LoadedCrd[]> {
  const loaded: LoadedCrd[] = [];
  for (const input of inputs) {
    for (const manifest of await readManifests(input))
      loaded.push({ manifest, types: typesFromCrd(manifest) });
  }
  return loaded;
}
