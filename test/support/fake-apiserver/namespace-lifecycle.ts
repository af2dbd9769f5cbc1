/**
 * The NamespaceLifecycle admission plugin and the namespace controller in one: content may only be created in
 * an existing, active namespace, and a terminating namespace has its content deleted and disappears once empty.
 */
import { type JsonObject, readMetadata, stringArray } from './json.js';
import { groupResourceOf, type ResourceType, storageKeyOf } from './resource-type.js';
import { ApiError, apiErrors, type GroupResource } from './status-errors.js';
import type { ObjectStore } from './store.js';

const NAMESPACES: GroupResource = { group: '', plural: 'namespaces' };
export const NAMESPACE_STORAGE = storageKeyOf(NAMESPACES);

export function isNamespaceType(type: ResourceType): boolean {
  return storageKeyOf(type) === NAMESPACE_STORAGE;
}

export class NamespaceLifecycle {
  /** `collections` lists one type per namespaced storage collection. */
  constructor(
    private readonly store: ObjectStore,
    private readonly collections: () => readonly ResourceType[],
  ) {}

  /** Admission for creates: 404 for a missing namespace, 403 for a terminating one. */
  requireActive(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(NAMESPACE_STORAGE, undefined, namespace);
    if (!ns) throw apiErrors.notFound(NAMESPACES, namespace);
    if (readMetadata(ns).deletionTimestamp) {
      throw apiErrors.forbidden(
        groupResourceOf(type),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  /**
   * Deletes everything in a namespace already marked for deletion (objects with finalizers stay until
   * released), then removes the namespace if nothing is left. Returns the namespace if it still exists.
   */
  terminate(
    namespace: string,
    deleteObject: (type: ResourceType, namespace: string, name: string) => void,
  ): JsonObject | undefined {
    for (const type of this.collections()) {
      for (const obj of this.store.list(storageKeyOf(type), namespace)) {
        try {
          deleteObject(type, namespace, String(readMetadata(obj).name));
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
      }
    }
    this.removeIfEmpty(namespace);
    return this.store.get(NAMESPACE_STORAGE, undefined, namespace);
  }

  /** Called after any removal: a terminating namespace goes away with its last object. */
  removeIfEmpty(namespace: string): void {
    const ns = this.store.get(NAMESPACE_STORAGE, undefined, namespace);
    if (!ns) return;
    const meta = readMetadata(ns);
    if (!meta.deletionTimestamp || stringArray(meta.finalizers).length > 0) return;
    if (this.collections().some((t) => this.store.countInNamespace(storageKeyOf(t), namespace) > 0)) return;
    this.store.remove(NAMESPACE_STORAGE, ns);
  }
}
