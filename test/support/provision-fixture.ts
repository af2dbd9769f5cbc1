import { findCondition } from '../../src/api/conditions.js';
import type { CdmSinkProvision, Condition } from '../../src/api/types.js';
import { validateProvision } from '../../src/api/validate.js';

type Spec = CdmSinkProvision['spec'];

/** Any part of a spec; validation fills in the defaults of the rest. */
export type SpecOverrides = Omit<Partial<Spec>, 'endpoint' | 'policy' | 'catalog'> & {
  endpoint?: Partial<Spec['endpoint']>;
  policy?: Partial<Spec['policy']>;
  catalog?: Partial<Spec['catalog']>;
};

/** A valid provision with every default filled in, as the API server would store it. */
export function provisionFixture(
  name: string,
  spec: SpecOverrides = {},
  namespace = 'team',
): CdmSinkProvision {
  const { endpoint, policy, ...rest } = spec;
  const result = validateProvision({
    apiVersion: 'cdm.nucleus.io/v1alpha1',
    kind: 'CdmSinkProvision',
    metadata: { name, namespace, generation: 1 },
    spec: {
      endpoint: {
        templateId: 'cdm.jdbc',
        connection: { secretRef: { name: 's', key: 'url' } },
        ...endpoint,
      },
      ...(policy ? { policy } : {}),
      ...rest,
    },
  });
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return result.provision;
}

/** A condition of a provision's (or an outcome's) status, as `kubectl wait` would find it. */
export const condition = (
  provision: { status?: CdmSinkProvision['status'] } | undefined,
  type: string,
): Condition | undefined => findCondition(provision?.status?.conditions, type);
