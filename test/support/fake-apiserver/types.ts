/** The public contract of the fake API server; other test code is written against exactly these names. */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { FaultControls } from './faults.js';

export interface FakeApiServerOptions {
  /** CRD YAML file paths or parsed CRD objects (apiextensions.k8s.io/v1); served with validation. */
  crds?: Array<string | object>;
  /** Watch event window per resource type (default 1000); older resourceVersions get 410 Expired. */
  historyLimit?: number;
  /** BOOKMARK cadence when allowWatchBookmarks=true (default 1000). */
  bookmarkIntervalMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** Response status; 0 until the response head is written (e.g. while a delayed request waits). */
  readonly status: number;
  /**
   * When it was answered, as a count increasing across the whole server (0 until then). A write takes
   * effect as it is answered, so ordering writes by this is the order the server applied them, which
   * arrival order is not once latency is injected.
   */
  readonly answered: number;
  /** RequestInfo verb: get, list, watch, create, update, patch, delete, deletecollection (or the HTTP method). */
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  readonly isResourceRequest: boolean;
  /** The parsed JSON request body, the raw text if it is not JSON, or undefined when empty. */
  readonly body: unknown;
  /**
   * Who sent it, as an audit log's `user.username` would say: the user named by a `kubeConfig({ user })`
   * bearer token, else undefined. The server authorizes everyone; this only tells clients apart.
   */
  readonly user: string | undefined;
}

export interface FakeApiServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** A client-node KubeConfig pointing at this server (token auth, skipTLSVerify for plain HTTP). */
  kubeConfig(opts?: { namespace?: string; user?: string }): KubeConfig;
  /**
   * Direct store access for seeding/inspecting without HTTP (still bumps RV, emits watch events, validates
   * CRs). Failures throw {@link FakeApiError}. Unlike HTTP, `create` makes a missing namespace first.
   * The type parameters only spare casts: results are the stored JSON (timestamps are strings, not Dates).
   */
  create<T extends KubernetesObject>(obj: T): T;
  get<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined;
  list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
  ): T[];
  /** Like PUT on the main endpoint (RV precondition if set; `.status` ignored when it is a subresource). */
  update<T extends KubernetesObject>(obj: T): T;
  /** Like PUT on `/status`: only `.status` is taken (an addition to the original contract). */
  updateStatus<T extends KubernetesObject>(obj: T): T;
  /** Like DELETE: finalizers keep the object with a deletionTimestamp. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Every HTTP request seen, in arrival order. */
  readonly requests: ReadonlyArray<RecordedRequest>;
  /** Number of watch streams currently connected (dropped ones included until the client disconnects). */
  readonly openWatches: number;
  readonly faults: FaultControls;
  /** Closes open watches and the listener. */
  close(): Promise<void>;
}
