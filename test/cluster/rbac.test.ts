import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { condition } from '../integration/controller-env.js';
import { REPO } from '../support/cli.js';
import { ClusterEnv, eventually, installOperator, SERVICE_ACCOUNT, SYSTEM_NAMESPACE } from './cluster-env.js';

const SHIPPED_RULES = (
  parse(readFileSync(path.join(REPO, 'manifests/rbac/cluster-role.yaml'), 'utf8')) as {
    rules: V1PolicyRule[];
  }
).rules;
const CONTROLLER_USER = `system:serviceaccount:${SYSTEM_NAMESPACE}:${SERVICE_ACCOUNT}`;

describe('RBAC as shipped, evaluated by the real authorizer', () => {
  let env: ClusterEnv;
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('rbac');
  });
  afterAll(() => env?.close());

  async function allowed(
    user: string,
    attributes: { verb: string; resource: string; group?: string; subresource?: string; namespace?: string },
  ): Promise<boolean> {
    const review = await env.authorization.createSubjectAccessReview({
      body: { spec: { user, resourceAttributes: { group: '', ...attributes } } },
    });
    return review.status?.allowed === true;
  }

  it('a SubjectAccessReview confirms the controller cannot list or watch Secrets, anywhere', async () => {
    for (const namespace of [undefined, env.namespace, 'kube-system']) {
      for (const verb of ['list', 'watch', 'create', 'update', 'delete']) {
        expect(
          await allowed(CONTROLLER_USER, { verb, resource: 'secrets', namespace }),
          `${verb} ${namespace}`,
        ).toBe(false);
      }
    }
    // What it does need: one named Secret read when reconciling.
    expect(
      await allowed(CONTROLLER_USER, { verb: 'get', resource: 'secrets', namespace: env.namespace }),
    ).toBe(true);
  });

  it('grants exactly the calls the controller makes, and Leases only in its own namespace', async () => {
    const provisions = { group: 'cdm.nucleus.io', resource: 'cdmsinkprovisions', namespace: env.namespace };
    for (const verb of ['get', 'list', 'watch', 'patch'])
      expect(await allowed(CONTROLLER_USER, { ...provisions, verb }), verb).toBe(true);
    for (const verb of ['create', 'update', 'delete'])
      expect(await allowed(CONTROLLER_USER, { ...provisions, verb }), verb).toBe(false);
    expect(await allowed(CONTROLLER_USER, { ...provisions, subresource: 'status', verb: 'patch' })).toBe(
      true,
    );
    for (const verb of ['create', 'patch'])
      expect(await allowed(CONTROLLER_USER, { resource: 'events', namespace: env.namespace, verb })).toBe(
        true,
      );
    const leases = { group: 'coordination.k8s.io', resource: 'leases' };
    for (const verb of ['get', 'create', 'update']) {
      expect(await allowed(CONTROLLER_USER, { ...leases, namespace: SYSTEM_NAMESPACE, verb }), verb).toBe(
        true,
      );
      expect(await allowed(CONTROLLER_USER, { ...leases, namespace: env.namespace, verb }), verb).toBe(false);
    }
  });

  /**
   * The shipped ClusterRole minus one rule, bound in this namespace to a ServiceAccount of its own, with
   * a controller of its own running as it (no leader election: the Lease Role is not bound to it).
   */
  async function controllerWithout(name: string, drop: (rule: V1PolicyRule) => boolean) {
    const rules = SHIPPED_RULES.filter((rule) => !drop(rule));
    expect(rules.length).toBe(SHIPPED_RULES.length - 1);
    const roleName = `${env.namespace}-${name}`;
    await env.rbac.createClusterRole({ body: { metadata: { name: roleName }, rules } });
    await env.core.createNamespacedServiceAccount({ namespace: env.namespace, body: { metadata: { name } } });
    await env.rbac.createNamespacedRoleBinding({
      namespace: env.namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name, namespace: env.namespace }],
      },
    });
    return env.startController({
      kubeconfig: await env.serviceAccountKubeconfig(name, env.namespace),
      identity: name,
      args: ['--leader-elect=false'],
    });
  }

  it('without `get` on Secrets, the provision says PermissionDenied and Stalled, naming the Secret', async () => {
    const controller = await controllerWithout(
      'no-secrets',
      (rule) => rule.resources?.includes('secrets') === true,
    );
    await env.createSink('nosecret');
    const stalled = await eventually(
      'the failure reported on the provision',
      async () => {
        const current = await env.provision('nosecret');
        return condition(current, 'Stalled')?.status === 'True' ? current : undefined;
      },
      30_000,
    );
    expect(condition(stalled, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PermissionDenied',
      message: expect.stringMatching(/Secret .*nosecret-sink.*forbidden/),
    });
    expect(await env.tables('cdm_nosecret')).toEqual([]);
    // The next test's controller watches this namespace too.
    await controller.stop();
  });

  it('without `patch` on the status subresource, the controller logs the refusal clearly and keeps going', async () => {
    const controller = await controllerWithout(
      'no-status',
      (rule) => rule.resources?.includes('cdmsinkprovisions/status') === true,
    );
    await env.createSink('nostatus');
    const refusals = () =>
      controller.lines.filter(
        (l) =>
          l.level === 50 &&
          /"nostatus" is forbidden.*cannot patch resource \\?"cdmsinkprovisions\/status/.test(l.msg),
      );
    // Retried with backoff, not hung and not given up: the refusal is logged again.
    await eventually('the refused status write logged, twice', () => refusals().length >= 2, 30_000);
    expect(refusals()[0]?.msg).toMatch(
      /^the Kubernetes API refused the controller: HTTP 403: cdmsinkprovisions.cdm.nucleus.io "nostatus" is forbidden: User "system:serviceaccount:[^"]+:no-status" cannot patch resource "cdmsinkprovisions\/status".*lacks a permission the manifests grant \(manifests\/rbac\/\)/,
    );
    expect(controller.running).toBe(true);
  });
});
