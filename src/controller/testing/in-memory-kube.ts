import { ApiException, type CoreV1Event, type V1Lease, type V1Secret } from '@kubernetes/client-node';
import type { CdmSinkProvision } from '../../api/types.js';
import { objectKey, type StoreListener } from '../informer-supervisor.js';
import type { KubePorts } from '../kube-ports.js';

/**
 * In-memory stand-ins for the Kubernetes ports, for unit tests of the work loop (controller-runtime
 * keeps its doubles in `controllertest/` the same way). They keep the semantics the loop relies on:
 * resourceVersion preconditions (409), finalizers blocking deletion, status-only writes not bumping
 * generation, and store notifications like an informer's. Integration tests use the fake API server.
 */

function apiError(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(code, message, JSON.stringify({ kind: 'Status', code, reason, message }), {});
}

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = applyMergePatch(base[key], value);
  }
  return base;
}

const clone = <T>(value: T): T => structuredClone(value);

export class InMemoryKube {
  readonly provisionStore = new Map<string, CdmSinkProvision>();
  readonly secretStore = new Map<string, V1Secret>();
  readonly leaseStore = new Map<string, V1Lease>();
  readonly createdEvents: CoreV1Event[] = [];
  readonly eventPatches: Array<{ name: string; body: object }> = [];
  readonly calls: string[] = [];
  listener: StoreListener<CdmSinkProvision> | undefined;
  /** Makes the next `n` lease calls fail with a 500, as an unreachable API server would. */
  failLeaseCalls = 0;
  /**
   * Awaited before each lease call is served (after it is counted): a test makes calls slow or hang
   * here. It gets the call's abort signal and may honour or ignore it, as a real connection might.
   */
  leaseGate:
    | ((op: 'get' | 'create' | 'replace', signal: AbortSignal | undefined) => Promise<void>)
    | undefined;
  private rv = 1;

  readonly ports: KubePorts = {
    provisions: {
      get: async (namespace, name) => {
        this.calls.push('provisions.get');
        const obj = this.provisionStore.get(`${namespace}/${name}`);
        return obj && clone(obj);
      },
      patch: async (namespace, name, body) => {
        this.calls.push('provisions.patch');
        return this.patchProvision(`${namespace}/${name}`, body, false);
      },
      patchStatus: async (namespace, name, body) => {
        this.calls.push('provisions.patchStatus');
        return this.patchProvision(`${namespace}/${name}`, body, true);
      },
    },
    secrets: {
      read: async (namespace, name) => {
        this.calls.push('secrets.read');
        const secret = this.secretStore.get(`${namespace}/${name}`);
        return secret && clone(secret);
      },
    },
    events: {
      create: async (_namespace, event) => {
        this.calls.push('events.create');
        this.createdEvents.push(clone(event));
        return event;
      },
      patch: async (_namespace, name, body) => {
        this.calls.push('events.patch');
        const event = this.createdEvents.find((e) => e.metadata.name === name);
        if (!event) throw apiError(404, 'NotFound', `events "${name}" not found`);
        this.eventPatches.push({ name, body });
        Object.assign(event, body);
        return event;
      },
    },
    leases: {
      get: async (namespace, name, signal) => {
        await this.leaseCall('get', signal);
        const lease = this.leaseStore.get(`${namespace}/${name}`);
        return lease && clone(lease);
      },
      create: async (namespace, lease, signal) => {
        await this.leaseCall('create', signal);
        const key = `${namespace}/${lease.metadata?.name}`;
        if (this.leaseStore.has(key)) throw apiError(409, 'AlreadyExists', `leases "${key}" already exists`);
        const stored = {
          ...clone(lease),
          metadata: { ...lease.metadata, resourceVersion: String(this.rv++) },
        };
        this.leaseStore.set(key, stored);
        return clone(stored);
      },
      replace: async (namespace, name, lease, signal) => {
        await this.leaseCall('replace', signal);
        const key = `${namespace}/${name}`;
        const current = this.leaseStore.get(key);
        if (!current) throw apiError(404, 'NotFound', `leases "${key}" not found`);
        if (current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
          throw apiError(409, 'Conflict', 'the object has been modified');
        }
        const stored = {
          ...clone(lease),
          metadata: { ...lease.metadata, resourceVersion: String(this.rv++) },
        };
        this.leaseStore.set(key, stored);
        return clone(stored);
      },
    },
  };

  /** The informer-cache view the work loop reads. */
  readonly cache = { get: (key: string) => this.provisionStore.get(key) };

  create(provision: CdmSinkProvision): CdmSinkProvision {
    const stored = clone(provision);
    stored.metadata = {
      ...stored.metadata,
      generation: 1,
      resourceVersion: String(this.rv++),
      uid: `uid-${this.rv}`,
    };
    delete stored.status;
    this.provisionStore.set(objectKey(stored), stored);
    this.notify((l) => l.added(stored));
    return stored;
  }

  /** A spec edit: bumps generation, as the API server does for changes outside metadata and status. */
  updateSpec(key: string, edit: (p: CdmSinkProvision) => void): void {
    const old = this.must(key);
    const next = clone(old);
    edit(next);
    next.metadata = { ...next.metadata, generation: (old.metadata.generation ?? 0) + 1 };
    this.store(key, old, next);
  }

  delete(key: string): void {
    const old = this.must(key);
    if (!old.metadata.finalizers?.length) {
      this.provisionStore.delete(key);
      this.notify((l) => l.deleted(old));
      return;
    }
    const next = clone(old);
    next.metadata.deletionTimestamp = new Date(0).toISOString();
    this.store(key, old, next);
  }

  addSecret(namespace: string, name: string, data: Record<string, string>): void {
    const encoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    this.secretStore.set(`${namespace}/${name}`, { metadata: { namespace, name }, data: encoded });
  }

  private async leaseCall(op: 'get' | 'create' | 'replace', signal: AbortSignal | undefined): Promise<void> {
    this.calls.push('leases');
    await this.leaseGate?.(op, signal);
    if (this.failLeaseCalls > 0) {
      this.failLeaseCalls--;
      throw apiError(500, 'InternalError', 'injected');
    }
  }

  private must(key: string): CdmSinkProvision {
    const obj = this.provisionStore.get(key);
    if (!obj) throw apiError(404, 'NotFound', `${key} not found`);
    return obj;
  }

  private patchProvision(key: string, body: object, status: boolean): CdmSinkProvision {
    const old = this.must(key);
    const wanted = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== old.metadata.resourceVersion) {
      throw apiError(
        409,
        'Conflict',
        'the object has been modified; please apply your changes to the latest version',
      );
    }
    const patched = applyMergePatch(clone(old), body) as CdmSinkProvision;
    // The status subresource changes only status; the main resource never changes status.
    const next = status ? { ...clone(old), status: patched.status } : { ...patched, status: old.status };
    next.metadata = { ...next.metadata, resourceVersion: old.metadata.resourceVersion };
    this.store(key, old, next);
    return clone(this.provisionStore.get(key) ?? next);
  }

  private store(key: string, old: CdmSinkProvision, next: CdmSinkProvision): void {
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.provisionStore.delete(key);
      this.notify((l) => l.deleted(old));
      return;
    }
    next.metadata = { ...next.metadata, resourceVersion: String(this.rv++) };
    this.provisionStore.set(key, next);
    this.notify((l) => l.updated(old, next));
  }

  /** Like a watch, notifications arrive after the write's response, not inside it. */
  private notify(send: (listener: StoreListener<CdmSinkProvision>) => void): void {
    setImmediate(() => {
      if (this.listener) send(this.listener);
    });
  }
}
