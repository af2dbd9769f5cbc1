/** Looks up served resource types by URL (group/version/plural) and by object (apiVersion/kind). */
import { apiVersionOf, type ResourceType } from './resource-type.js';

export interface GroupVersions {
  readonly group: string;
  readonly versions: readonly string[];
}

export class ResourceRegistry {
  private readonly byPathKey = new Map<string, ResourceType>();
  private readonly byKindKey = new Map<string, ResourceType>();
  private readonly groupOrder: string[] = [];
  private readonly versionsByGroup = new Map<string, string[]>();

  register(type: ResourceType): void {
    const pathKey = `${type.group}/${type.version}/${type.plural}`;
    if (this.byPathKey.has(pathKey)) throw new Error(`resource ${pathKey} is registered twice`);
    this.byPathKey.set(pathKey, type);
    this.byKindKey.set(`${apiVersionOf(type)}/${type.kind}`, type);
    let versions = this.versionsByGroup.get(type.group);
    if (!versions) {
      versions = [];
      this.versionsByGroup.set(type.group, versions);
      this.groupOrder.push(type.group);
    }
    if (!versions.includes(type.version)) versions.push(type.version);
  }

  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPathKey.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.byKindKey.get(`${apiVersion}/${kind}`);
  }

  /** Throws a plain Error: this is only reached from the direct (non-HTTP) seeding API. */
  requireKind(apiVersion: string | undefined, kind: string | undefined): ResourceType {
    const type = apiVersion && kind ? this.byKind(apiVersion, kind) : undefined;
    if (!type)
      throw new Error(`fake apiserver: no resource is served for ${apiVersion ?? '?'}, Kind=${kind ?? '?'}`);
    return type;
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.versionsByGroup.get(group)?.includes(version) ?? false;
  }

  /** Groups in registration order, the core group (`''`) included. */
  groups(): GroupVersions[] {
    return this.groupOrder.map((group) => ({ group, versions: this.versionsByGroup.get(group) ?? [] }));
  }

  resourcesIn(group: string, version: string): ResourceType[] {
    return [...this.byPathKey.values()].filter((t) => t.group === group && t.version === version);
  }

  /** One representative type per storage collection, for cross-collection scans such as namespace cleanup. */
  namespacedCollections(): ResourceType[] {
    const seen = new Map<string, ResourceType>();
    for (const t of this.byPathKey.values())
      if (t.namespaced && !seen.has(`${t.group}/${t.plural}`)) seen.set(`${t.group}/${t.plural}`, t);
    return [...seen.values()];
  }
}
