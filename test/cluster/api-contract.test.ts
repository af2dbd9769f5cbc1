import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_GROUP_VERSION, API_VERSION, KIND, PLURAL } from '../../src/api/types.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { adminKubeConfig, eventually, installOperator } from './cluster-env.js';

/**
 * One API contract, two servers: every scenario runs against the real kube-apiserver first and then against
 * the fake one (test/support/fake-apiserver/) that the integration tests trust, and the fake's outcome must
 * equal the real one. Outcomes hold only what is the same on any run (codes, reasons, messages, field
 * names, generations, event types and which write a resourceVersion belongs to), never raw
 * resourceVersions, uids or timestamps. A difference is a defect of the fake.
 */

const CRD_FILE = fileURLToPath(new URL('../../crds/cdm.nucleus.io_cdmsinkprovisions.yaml', import.meta.url));
const COLLECTION = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
const MINIMAL_SPEC = { endpoint: { templateId: 'cdm.jdbc', connection: { secretRef: { name: 's' } } } };
const FINALIZER = 'contract.cdm.nucleus.io/hold';
const IMMUTABLE_MESSAGE =
  'spec.endpoint.schema and spec.endpoint.tablePrefix are immutable: existing tables would be orphaned; ' +
  'create a new CdmSinkProvision instead';

type TargetName = 'real' | 'fake';
type Json = Record<string, unknown>;

interface Meta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

interface Provision {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec: Json;
  status?: Json;
}

/** What a PUT sends: a read object, possibly edited. */
interface ProvisionBody {
  apiVersion: string;
  kind: string;
  metadata: Partial<Meta> & { name: string };
  spec: Json;
  status?: Json;
}

interface ProvisionList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: Provision[];
}

/** A rejected call as the Status body tells it; uids are blanked because they differ per server. */
interface Failure {
  code: number;
  reason: string | undefined;
  message: string | undefined;
  details: Json | undefined;
}

interface WatchedEvent {
  type: string;
  object: Provision;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** One server as a client sees it: admin credentials and a namespace of this file's own. */
class Target {
  readonly custom: CustomObjectsApi;

  constructor(
    readonly name: TargetName,
    readonly kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private ref(name: string) {
    return { ...COLLECTION, namespace: this.namespace, name };
  }

  manifest(name: string, spec: Json = MINIMAL_SPEC, metadata: Partial<Meta> = {}): Json {
    return { apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { ...metadata, name }, spec };
  }

  /** Creates and returns the HTTP status and Warning header too, which are part of the contract. */
  async createWithCode(
    body: Json,
    fieldValidation?: 'Strict',
  ): Promise<{ code: number; object: Provision; warning: string | undefined }> {
    const info = await this.custom.createNamespacedCustomObjectWithHttpInfo({
      ...COLLECTION,
      namespace: this.namespace,
      body,
      fieldValidation,
    });
    return { code: info.httpStatusCode, object: info.data as Provision, warning: info.headers.warning };
  }

  async create(name: string, spec: Json = MINIMAL_SPEC, metadata: Partial<Meta> = {}): Promise<Provision> {
    return (await this.createWithCode(this.manifest(name, spec, metadata))).object;
  }

  async get(name: string): Promise<Provision> {
    return (await this.custom.getNamespacedCustomObject(this.ref(name))) as Provision;
  }

  async list(labelSelector?: string): Promise<ProvisionList> {
    return (await this.custom.listNamespacedCustomObject({
      ...COLLECTION,
      namespace: this.namespace,
      labelSelector,
    })) as ProvisionList;
  }

  async replace(object: ProvisionBody, fieldValidation?: 'Strict'): Promise<Provision> {
    return (await this.custom.replaceNamespacedCustomObject({
      ...this.ref(object.metadata.name),
      body: object,
      fieldValidation,
    })) as Provision;
  }

  async replaceStatus(object: Provision): Promise<Provision> {
    return (await this.custom.replaceNamespacedCustomObjectStatus({
      ...this.ref(object.metadata.name),
      body: object,
    })) as Provision;
  }

  async patch(name: string, body: Json, fieldValidation?: 'Strict'): Promise<Provision> {
    return (await this.custom.patchNamespacedCustomObject(
      { ...this.ref(name), body, fieldValidation },
      mergePatch,
    )) as Provision;
  }

  async patchStatus(name: string, body: Json): Promise<Provision> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { ...this.ref(name), body },
      mergePatch,
    )) as Provision;
  }

  async delete(name: string): Promise<{ code: number; body: Json }> {
    const info = await this.custom.deleteNamespacedCustomObjectWithHttpInfo(this.ref(name));
    return { code: info.httpStatusCode, body: info.data as Json };
  }

  /** A watch on this namespace's provisions; BOOKMARKs are dropped since their timing is the server's own. */
  async watch(params: Record<string, string | boolean>): Promise<{ events: WatchedEvent[]; stop(): void }> {
    const events: WatchedEvent[] = [];
    const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${this.namespace}/${PLURAL}`;
    const controller = await new Watch(this.kc).watch(
      path,
      params,
      (type, object: Provision) => {
        if (type !== 'BOOKMARK') events.push({ type, object });
      },
      // A watch that fails shows as events that never come, which the scenario then names.
      () => {},
    );
    return { events, stop: () => controller.abort() };
  }
}

/** Awaits a call that must fail with an API Status. */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    const status = body as { reason?: string; message?: string; details?: Json };
    const details = status.details && { ...status.details };
    if (details && 'uid' in details) details.uid = '<uid>';
    return { code: error.code, reason: status.reason, message: status.message, details };
  }
  throw new Error('expected the call to be rejected');
}

interface Cause {
  reason?: string;
  message?: string;
  field?: string;
}

function causesOf(f: Failure): Cause[] {
  return (f.details?.causes ?? []) as Cause[];
}

const QUOTED_VALUE = /Invalid value: ("(?:[^"\\]|\\.)*"): /;

/**
 * A Strict patch's refusal quotes the whole patched object, whose managedFields, uid and timestamps differ
 * from server to server: its spec is compared, and the messages around it verbatim.
 */
function withPatchedSpec(f: Failure): Json {
  const match = QUOTED_VALUE.exec(f.message ?? '');
  const patched = match?.[1] ? (JSON.parse(JSON.parse(match[1]) as string) as Provision) : undefined;
  const unquoted = (text: string | undefined) => text?.replace(QUOTED_VALUE, 'Invalid value: <patched>: ');
  const causes = causesOf(f).map((c) => ({ ...c, message: unquoted(c.message) }));
  return {
    ...f,
    message: unquoted(f.message),
    details: { ...f.details, causes },
    patchedSpec: patched?.spec,
  };
}

/** The field paths a 422 names, which controllers and users key on. */
function causeFields(f: Failure): string[] {
  return causesOf(f).map((c) => c.field ?? '');
}

/**
 * For a 422 naming sibling fields: the apiserver visits an object's properties in Go map order, which
 * changes from one request to the next, so only the set of causes is compared; the message must still
 * list exactly those causes, in their order.
 */
function inAnyCauseOrder(f: Failure): Failure {
  const causes = causesOf(f);
  const listed = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const message = f.message ?? '';
  expect(message.endsWith(` is invalid: [${listed}]`), message).toBe(true);
  const sorted = [...causes].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    ...f,
    message: message.slice(0, message.indexOf(' is invalid: ')),
    details: { ...f.details, causes: sorted },
  };
}

/**
 * Numbers resourceVersions in the order a scenario saw its writes, so two servers with different revision
 * counters can be compared: `order.of(rv)` is the write's index, or -1 for an RV no response carried.
 */
class WriteOrder {
  private readonly rvs: string[] = [];

  note<T extends { metadata: { resourceVersion: string } }>(object: T): T {
    this.rvs.push(object.metadata.resourceVersion);
    return object;
  }

  of(rv: string): number {
    return this.rvs.indexOf(rv);
  }
}

function increasing(rvs: readonly string[]): boolean {
  return rvs.every((rv, i) => i === 0 || BigInt(rv) > BigInt(rvs[i - 1] ?? '0'));
}

interface Scenario {
  readonly title: string;
  /** Runs against one server, asserts what must hold anywhere, and returns what both must agree on. */
  readonly run: (t: Target) => Promise<unknown>;
}

const scenarios: Scenario[] = [
  {
    title: 'CRUD: create with defaults, get, list, replace, delete, 404 after, 409 AlreadyExists',
    async run(t) {
      const created = await t.createWithCode(t.manifest('crud'));
      expect(created.code).toBe(201);
      const fetched = await t.get('crud');
      expect(fetched.spec).toEqual(created.object.spec);
      const list = await t.list();
      const replaced = await t.replace({ ...fetched, spec: { ...fetched.spec, suspend: true } });
      const deleted = await t.delete('crud');
      const afterDelete = await failure(t.get('crud'));
      await t.create('crud');
      const duplicate = await failure(t.create('crud'));
      return {
        created: {
          code: created.code,
          apiVersion: created.object.apiVersion,
          kind: created.object.kind,
          spec: created.object.spec,
          status: created.object.status,
          generation: created.object.metadata.generation,
        },
        list: {
          apiVersion: list.apiVersion,
          kind: list.kind,
          hasResourceVersion: /^\d+$/.test(list.metadata.resourceVersion),
          items: list.items.map((i) => [i.apiVersion, i.kind, i.metadata.name]),
        },
        replaced: {
          suspend: replaced.spec.suspend,
          generation: replaced.metadata.generation,
          rvChanged: replaced.metadata.resourceVersion !== fetched.metadata.resourceVersion,
        },
        deleted: { code: deleted.code, body: deleteBodyShape(deleted.body, created.object) },
        afterDelete,
        duplicate,
      };
    },
  },
  {
    title: 'metadata.generation moves with the spec only; resourceVersion with every write',
    async run(t) {
      const steps: Array<{ step: string; generation: number; rvChanged: boolean }> = [];
      let last = await t.create('generation');
      expect(last.metadata.generation).toBe(1);
      const record = (step: string, next: Provision) => {
        steps.push({
          step,
          generation: next.metadata.generation,
          rvChanged: next.metadata.resourceVersion !== last.metadata.resourceVersion,
        });
        last = next;
      };
      record('labels', await t.patch('generation', { metadata: { labels: { team: 'a' } } }));
      record('annotations', await t.patch('generation', { metadata: { annotations: { note: 'x' } } }));
      record('spec', await t.patch('generation', { spec: { suspend: true } }));
      record('status', await t.patchStatus('generation', { status: { observedGeneration: 2 } }));
      record('same spec again', await t.patch('generation', { spec: { suspend: true } }));
      record('replace unchanged', await t.replace(await t.get('generation')));
      record(
        'spec by replace',
        await t.replace({ ...last, spec: { ...last.spec, models: ['cdm.work.user'] } }),
      );
      expect(steps.map((s) => s.generation)).toEqual([1, 1, 2, 2, 2, 2, 3]);
      return steps;
    },
  },
  {
    title: '409 on a stale update; a merge patch without resourceVersion succeeds',
    async run(t) {
      const first = await t.create('stale');
      await t.patch('stale', { metadata: { labels: { touched: 'yes' } } });
      const stalePut = await failure(t.replace({ ...first, spec: { ...first.spec, suspend: true } }));
      const stalePatch = await failure(
        t.patch('stale', {
          metadata: { resourceVersion: first.metadata.resourceVersion },
          spec: { suspend: true },
        }),
      );
      const { resourceVersion: _rv, ...withoutRv } = first.metadata;
      const putWithoutRv = await failure(t.replace({ ...first, metadata: withoutRv }));
      const patched = await t.patch('stale', { spec: { suspend: true } });
      expect(stalePut.code).toBe(409);
      return {
        stalePut,
        stalePatch,
        putWithoutRv,
        patched: { suspend: patched.spec.suspend, labels: patched.metadata.labels },
      };
    },
  },
  {
    title: 'the status subresource: /status writes only status, the main resource ignores status',
    async run(t) {
      await t.create('status');
      const viaStatus = await t.patchStatus('status', {
        metadata: { labels: { ignored: 'yes' } },
        spec: { suspend: true },
        status: { modelCount: 3, sinkEndpointId: 'ns/status' },
      });
      const viaMain = await t.patch('status', { spec: { suspend: true }, status: { modelCount: 9 } });
      const putStatus = await t.replaceStatus({
        ...viaMain,
        spec: { ...viaMain.spec, deletionPolicy: 'Delete' },
        status: { modelCount: 4 },
      });
      const invalidStatus = await failure(
        t.patchStatus('status', { status: { conditions: [{ type: 'Ready', status: 'Maybe' }] } }),
      );
      const shape = (p: Provision) => ({
        suspend: p.spec.suspend,
        deletionPolicy: p.spec.deletionPolicy,
        status: p.status,
        labels: p.metadata.labels,
        generation: p.metadata.generation,
      });
      return {
        viaStatus: shape(viaStatus),
        viaMain: shape(viaMain),
        putStatus: shape(putStatus),
        invalidStatus,
      };
    },
  },
  {
    title: 'finalizers hold a deleted object with a deletionTimestamp until the last one is removed',
    async run(t) {
      const order = new WriteOrder();
      const created = order.note(await t.create('held', MINIMAL_SPEC, { finalizers: [FINALIZER] }));
      const watch = await t.watch({
        resourceVersion: created.metadata.resourceVersion,
        fieldSelector: 'metadata.name=held',
      });
      try {
        const deleting = await t.delete('held');
        const marked = order.note(deleting.body as unknown as Provision);
        const again = await t.delete('held');
        const stillThere = await t.get('held');
        const released = await t.patch('held', { metadata: { finalizers: null } });
        const gone = await failure(t.get('held'));
        await eventually('the DELETED event', () => watch.events.some((e) => e.type === 'DELETED'));
        expect(marked.metadata.deletionTimestamp).toMatch(/Z$/);
        expect(marked.metadata.generation).toBe(2);
        expect(watch.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
        return {
          deleting: {
            code: deleting.code,
            kind: marked.kind,
            hasDeletionTimestamp: marked.metadata.deletionTimestamp !== undefined,
            deletionGracePeriodSeconds: marked.metadata.deletionGracePeriodSeconds,
            generation: marked.metadata.generation,
            finalizers: marked.metadata.finalizers,
          },
          again: {
            code: again.code,
            kind: again.body.kind,
            write: order.of((again.body as unknown as Provision).metadata.resourceVersion),
          },
          stillThere: {
            write: order.of(stillThere.metadata.resourceVersion),
            sameTimestamp: stillThere.metadata.deletionTimestamp === marked.metadata.deletionTimestamp,
          },
          released: {
            kind: released.kind,
            finalizers: released.metadata.finalizers ?? null,
            hasDeletionTimestamp: released.metadata.deletionTimestamp !== undefined,
            write: order.of(released.metadata.resourceVersion),
          },
          gone,
          events: watch.events.map((e) => ({
            type: e.type,
            write: order.of(e.object.metadata.resourceVersion),
            generation: e.object.metadata.generation,
            finalizers: e.object.metadata.finalizers ?? null,
            hasDeletionTimestamp: e.object.metadata.deletionTimestamp !== undefined,
          })),
        };
      } finally {
        watch.stop();
      }
    },
  },
  {
    title: '422 Invalid for schema violations, with the causes naming the fields',
    async run(t) {
      const invalid = (name: string, spec: Json) => failure(t.create(name, spec));
      const endpoint = MINIMAL_SPEC.endpoint;
      const outcomes = {
        unknownModel: await invalid('bad-model', { ...MINIMAL_SPEC, models: ['cdm.work.sprint'] }),
        longPrefix: await invalid('bad-prefix', { endpoint: { ...endpoint, tablePrefix: 'p'.repeat(27) } }),
        noSecretRef: await invalid('bad-connection', { endpoint: { ...endpoint, connection: {} } }),
        longUpperPrefix: await invalid('bad-prefix-2', {
          endpoint: { ...endpoint, tablePrefix: 'P'.repeat(27) },
        }),
        wrongType: inAnyCauseOrder(
          await invalid('bad-type', { ...MINIMAL_SPEC, suspend: 'yes', models: 'cdm.work.user' }),
        ),
        wrongPolicyType: await invalid('bad-type-2', { ...MINIMAL_SPEC, policy: { adopt: 1 } }),
        noSpec: await failure(
          t.createWithCode({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: 'x' } }),
        ),
        severalAtOnce: inAnyCauseOrder(
          await invalid('bad-several', {
            endpoint: { ...endpoint, schema: 'Upper', templateId: 'other' },
            models: [],
            policy: { lockTimeout: '5 minutes' },
          }),
        ),
        duplicateModel: await invalid('bad-duplicate', {
          ...MINIMAL_SPEC,
          models: ['cdm.work.user', 'cdm.work.user'],
        }),
        nulLabelKey: await invalid('bad-label-key', {
          ...MINIMAL_SPEC,
          catalog: { labels: { 'te\u0000am': 'a' } },
        }),
        slashLabelKey: await invalid('bad-label-slash', {
          ...MINIMAL_SPEC,
          catalog: { labels: { '/team': 'a' } },
        }),
        tooManyLabels: await invalid('bad-labels', {
          ...MINIMAL_SPEC,
          catalog: { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
        }),
      };
      expect(outcomes.unknownModel).toMatchObject({ code: 422, reason: 'Invalid' });
      // CEL rules are skipped once the schema found a blocking error; the `<nil>` cause says so.
      expect(causeFields(outcomes.unknownModel)).toEqual(['spec.models[0]', '<nil>']);
      expect(causeFields(outcomes.longPrefix)).toEqual(['spec.endpoint.tablePrefix', '<nil>']);
      expect(causeFields(outcomes.noSecretRef)).toEqual(['spec.endpoint.connection.secretRef', '<nil>']);
      expect(causeFields(outcomes.nulLabelKey)).toEqual(['spec.catalog.labels']);
      expect(outcomes.nulLabelKey.code).toBe(422);
      const accepted = await t.create('good-labels', {
        ...MINIMAL_SPEC,
        catalog: { labels: { 'example.com/team': 'a' } },
      });
      return { ...outcomes, acceptedLabels: accepted.spec.catalog };
    },
  },
  {
    title: 'unknown fields are dropped with a Warning, or refused with 400 under fieldValidation=Strict',
    async run(t) {
      const body = t.manifest('unknown', {
        ...MINIMAL_SPEC,
        bogus: 1,
        endpoint: { ...MINIMAL_SPEC.endpoint, extra: 'x' },
      });
      const strict = await failure(t.createWithCode(body, 'Strict'));
      const warned = await t.createWithCode(body);
      const strictPatch = withPatchedSpec(
        await failure(t.patch('unknown', { spec: { bogus: 2 } }, 'Strict')),
      );
      const strictPut = await failure(
        t.replace({ ...warned.object, spec: { ...warned.object.spec, bogus: 3 } }, 'Strict'),
      );
      expect(strict.code).toBe(400);
      return {
        strict,
        strictPatch,
        strictPut,
        warned: { code: warned.code, warning: warned.warning, endpoint: warned.object.spec.endpoint },
      };
    },
  },
  {
    title: 'the CEL transition rule keeps spec.endpoint.schema and tablePrefix immutable',
    async run(t) {
      const created = await t.create('immutable', {
        endpoint: { ...MINIMAL_SPEC.endpoint, schema: 'one', tablePrefix: 'a_' },
      });
      const endpoint = created.spec.endpoint as Json;
      const schemaByPatch = await failure(t.patch('immutable', { spec: { endpoint: { schema: 'two' } } }));
      const prefixByPut = await failure(
        t.replace({ ...created, spec: { ...created.spec, endpoint: { ...endpoint, tablePrefix: 'b_' } } }),
      );
      const bothByPatch = await failure(
        t.patch('immutable', { spec: { endpoint: { schema: 'two', tablePrefix: 'b_' } } }),
      );
      // Removing the field defaults it back to cdm_work, which is a change as well.
      const removedByPatch = await failure(t.patch('immutable', { spec: { endpoint: { schema: null } } }));
      const otherChange = await t.patch('immutable', { spec: { models: ['cdm.work.user'] } });
      expect(schemaByPatch.code).toBe(422);
      expect(schemaByPatch.message).toContain(IMMUTABLE_MESSAGE);
      return {
        schemaByPatch,
        prefixByPut,
        bothByPatch,
        removedByPatch,
        otherChange: { models: otherChange.spec.models, endpoint: otherChange.spec.endpoint },
      };
    },
  },
  {
    title: 'list returns a collection resourceVersion; watches from it or an older one replay in order',
    async run(t) {
      const label = { scenario: 'watch' };
      const order = new WriteOrder();
      order.note(await t.create('watch-a', MINIMAL_SPEC, { labels: label }));
      const list = await t.list('scenario=watch');
      const params = { labelSelector: 'scenario=watch', allowWatchBookmarks: true };
      const fromList = await t.watch({ ...params, resourceVersion: list.metadata.resourceVersion });
      const created = order.note(await t.create('watch-b', MINIMAL_SPEC, { labels: label }));
      order.note(await t.patch('watch-a', { spec: { suspend: true } }));
      await t.delete('watch-b');
      order.note(await t.patch('watch-a', { metadata: { labels: { scenario: 'elsewhere' } } }));
      const summary = (events: WatchedEvent[]) =>
        events.map((e) => ({
          type: e.type,
          name: e.object.metadata.name,
          write: order.of(e.object.metadata.resourceVersion),
          suspend: e.object.spec?.suspend,
        }));
      const settle = async (w: { events: WatchedEvent[] }, count: number) => {
        await eventually(`${count} watch events`, () => w.events.length >= count);
        return w.events;
      };
      const watches = [
        fromList,
        await t.watch({ ...params, resourceVersion: list.metadata.resourceVersion }),
        await t.watch({ ...params, resourceVersion: created.metadata.resourceVersion }),
      ];
      try {
        const live = await settle(fromList, 4);
        const replayed = await settle(watches[1] ?? fromList, 4);
        const fromMiddle = await settle(watches[2] ?? fromList, 3);
        expect(increasing(live.map((e) => e.object.metadata.resourceVersion))).toBe(true);
        const current = await t.watch({ labelSelector: 'scenario=elsewhere' });
        watches.push(current);
        const initial = await settle(current, 1);
        return {
          list: { kind: list.kind, names: list.items.map((i) => i.metadata.name) },
          live: summary(live),
          replayed: summary(replayed),
          fromMiddle: summary(fromMiddle),
          withoutResourceVersion: summary(initial),
        };
      } finally {
        for (const w of watches) w.stop();
      }
    },
  },
  {
    title: 'defaults are applied on update as on create',
    async run(t) {
      const created = await t.create('defaults', {
        ...MINIMAL_SPEC,
        policy: { lockTimeout: '9s', drift: 'Report', adopt: true },
        catalog: { register: false, domain: 'other' },
      });
      const { policy: _p, catalog: _c, ...withoutPolicy } = created.spec;
      const replaced = await t.replace({ ...created, spec: withoutPolicy });
      const nulled = await t.patch('defaults', { spec: { policy: { drift: null }, deletionPolicy: null } });
      const emptied = await t.patch('defaults', { spec: { catalog: {} } });
      expect(replaced.spec.policy).toEqual({ lockTimeout: '5s', drift: 'Correct', adopt: false });
      return {
        replaced: {
          policy: replaced.spec.policy,
          catalog: replaced.spec.catalog,
          generation: replaced.metadata.generation,
        },
        nulled: { policy: nulled.spec.policy, deletionPolicy: nulled.spec.deletionPolicy },
        emptied: { catalog: emptied.spec.catalog, generation: emptied.metadata.generation },
      };
    },
  },
];

/** A DELETE answer: a Status for an object removed at once, the object itself while finalizers hold it. */
function deleteBodyShape(body: Json, deleted: Provision): Json {
  if (body.kind !== 'Status') return { kind: body.kind, name: (body.metadata as Meta | undefined)?.name };
  const details = { ...(body.details as Json) };
  if (details.uid !== undefined)
    details.uid = details.uid === deleted.metadata.uid ? '<uid of the object>' : details.uid;
  return { ...body, details };
}

const targets = new Map<TargetName, Target>();
const realOutcomes = new Map<string, unknown>();
let fake: FakeApiServer | undefined;

beforeAll(async () => {
  await installOperator();
  // The same namespace name on both servers, so messages naming it can be compared verbatim.
  const namespace = `contract-${randomBytes(3).toString('hex')}`;
  fake = await startFakeApiServer({ crds: [CRD_FILE] });
  const kubeConfigs: Array<[TargetName, KubeConfig]> = [
    ['real', adminKubeConfig()],
    ['fake', fake.kubeConfig()],
  ];
  for (const [name, kc] of kubeConfigs) {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    targets.set(name, new Target(name, kc, namespace));
  }
});
afterAll(() => fake?.close());

function target(name: TargetName): Target {
  const t = targets.get(name);
  if (!t) throw new Error(`the ${name} API server did not start`);
  return t;
}

// The real server goes first: its outcome is what the fake's must equal.
describe.each(['real', 'fake'] as const)('%s', (name) => {
  for (const { title, run } of scenarios) {
    it(title, async () => {
      const outcome = await run(target(name));
      if (name === 'real') {
        realOutcomes.set(title, outcome);
        return;
      }
      if (!realOutcomes.has(title))
        throw new Error('the real server’s run of this scenario did not complete');
      expect(outcome).toEqual(realOutcomes.get(title));
    });
  }
});
