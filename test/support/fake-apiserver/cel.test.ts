import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CelEvalError, CelProgram } from './cel.js';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import { apiFailure, type Clients, clientsFor, NS } from './test-fixtures.js';

const evaluate = (rule: string, self: unknown, oldSelf?: unknown) =>
  CelProgram.compile(rule).evaluate({ self, oldSelf });

describe('the CEL subset', () => {
  it('evaluates selection, logic, comparison, arithmetic and the string library', () => {
    expect(
      evaluate('self.a.b == 2 && self.s.startsWith("ab") && size(self.s) == 3', { a: { b: 2 }, s: 'abc' }),
    ).toBe(true);
    expect(evaluate("self.s.indexOf('/') <= 3 ? self.n * 2 + 1 : -1", { s: 'ab/c', n: 4 })).toBe(9);
    expect(evaluate("'x' in self && !('y' in self)", { x: 1 })).toBe(true);
    expect(evaluate("self.matches('^[a-z]+$') || self.lowerAscii() == 'abc'", 'ABC')).toBe(true);
    expect(evaluate('self.size() == 2 && self[1] == "b"', ['a', 'b'])).toBe(true);
    expect(evaluate("r'\\d' == '\\\\d'", null)).toBe(true);
  });

  it('runs the list macros over lists and map keys', () => {
    expect(evaluate('self.all(k, k.startsWith("a"))', { ab: 1, ac: 2 })).toBe(true);
    expect(evaluate('self.exists(x, x > 2)', [1, 2, 3])).toBe(true);
    expect(evaluate('self.exists_one(x, x > 1)', [1, 2, 3])).toBe(false);
    expect(evaluate('self.filter(x, x % 2 == 1).map(x, x * 10)', [1, 2, 3])).toEqual([10, 30]);
  });

  it('absorbs errors in && and || when the other side decides, as CEL does', () => {
    expect(evaluate('has(self.missing) && self.missing.deep', {})).toBe(false);
    expect(evaluate('self.missing || true', {})).toBe(true);
    expect(() => evaluate('self.missing == 1', {})).toThrow(new CelEvalError('no such key: missing'));
    expect(evaluate('self == oldSelf', { a: [1] }, { a: [1] })).toBe(true);
  });

  it('refuses, at compile time, what is outside the subset', () => {
    expect(() => CelProgram.compile('self.x.quantity() > 1')).toThrow(
      /outside the fake apiserver's CEL subset/,
    );
    expect(() => CelProgram.compile('other == 1')).toThrow(/undeclared reference to 'other'/);
    expect(CelProgram.compile('self.a == oldSelf.a').usesOldSelf).toBe(true);
  });
});

const GROUP = 'rules.example.test';
/** Checked against kube-apiserver 1.36 once: it accepts this CRD and answers exactly as asserted below. */
const ruleCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `gadgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: 'Gadget', plural: 'gadgets' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-validations': [
                  { rule: 'self.key == oldSelf.key', message: 'key is immutable' },
                  {
                    rule: 'self.max >= self.min',
                    messageExpression: "'max must be at least the min of ' + self.key",
                  },
                ],
                properties: {
                  // Bounded sizes keep the apiserver's estimated rule cost within its budget.
                  key: { type: 'string', default: 'k', maxLength: 10 },
                  size: { type: 'string', enum: ['small', 'large'] },
                  min: { type: 'integer', default: 0 },
                  max: { type: 'integer', default: 1, 'x-kubernetes-validations': [{ rule: 'self < 100' }] },
                  tags: {
                    type: 'object',
                    maxProperties: 5,
                    additionalProperties: { type: 'string', maxLength: 10 },
                    'x-kubernetes-validations': [
                      {
                        rule: "self.all(k, !k.contains('_'))",
                        message: 'no underscores',
                        reason: 'FieldValueForbidden',
                      },
                    ],
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

describe('x-kubernetes-validations on a served custom resource', () => {
  let server: FakeApiServer;
  let api: Clients;
  const ref = (name: string) => ({ group: GROUP, version: 'v1', namespace: NS, plural: 'gadgets', name });
  const create = (name: string, spec: object) =>
    api.custom.createNamespacedCustomObject({
      ...ref(name),
      body: { apiVersion: `${GROUP}/v1`, kind: 'Gadget', metadata: { name }, spec },
    });
  const patch = (name: string, spec: object) =>
    api.custom.patchNamespacedCustomObjectWithHttpInfo(
      { ...ref(name), body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  beforeAll(async () => {
    server = await startFakeApiServer({ crds: [ruleCrd] });
    api = clientsFor(server);
  });
  afterAll(() => server.close());

  it('reports failed rules at their node, omitting object values, printing scalar ones', async () => {
    const { code, status } = await apiFailure(create('bounds', { min: 300, max: 200, tags: { a_b: 'x' } }));
    expect(code).toBe(422);
    expect(status.details?.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec',
        message: 'Invalid value: max must be at least the min of k',
      },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.max',
        message: 'Invalid value: 200: failed rule: self < 100',
      },
      { reason: 'FieldValueForbidden', field: 'spec.tags', message: 'Forbidden: no underscores' },
    ]);
  });

  it('runs transition rules on updates only', async () => {
    await create('transition', { key: 'one' });
    const { status } = await apiFailure(patch('transition', { key: 'two' }));
    expect(status.message).toBe(
      'Gadget.rules.example.test "transition" is invalid: spec: Invalid value: key is immutable',
    );
  });

  it('skips the rules with a notice once the schema found a blocking error', async () => {
    const { status } = await apiFailure(create('blocked', { size: 'huge', min: 5, max: 1 }));
    expect(status.details?.causes?.map((c) => c.field)).toEqual(['spec.size', '<nil>']);
    expect(status.details?.causes?.[1]?.message).toBe(
      'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    );
  });
});
