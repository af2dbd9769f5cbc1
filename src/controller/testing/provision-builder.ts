import { API_GROUP_VERSION, type CdmSinkProvision, KIND } from '../../api/types.js';

/**
 * A chained fixture builder for provisions (controller-rs `fixtures.rs`):
 * `aProvision('jira').inNamespace('data').withModels('cdm.work.item').deleting().build()`.
 */
export class ProvisionBuilder {
  private readonly value: CdmSinkProvision;

  constructor(name: string) {
    this.value = {
      apiVersion: API_GROUP_VERSION,
      kind: KIND,
      metadata: { name, namespace: 'default' },
      spec: {
        endpoint: {
          templateId: 'cdm.jdbc',
          connection: { secretRef: { name: `${name}-sink`, key: 'url' } },
          schema: 'cdm_work',
          tablePrefix: 'cdm_',
        },
        models: ['cdm.work.project'],
        catalog: { register: true, domain: 'cdm.work' },
        policy: { lockTimeout: '5s', drift: 'Correct', adopt: false },
        deletionPolicy: 'Retain',
        suspend: false,
      },
    };
  }

  inNamespace(namespace: string): this {
    this.value.metadata.namespace = namespace;
    return this;
  }

  withModels(...models: string[]): this {
    this.value.spec.models = models;
    return this;
  }

  withSchema(schema: string, tablePrefix = this.value.spec.endpoint.tablePrefix): this {
    this.value.spec.endpoint.schema = schema;
    this.value.spec.endpoint.tablePrefix = tablePrefix;
    return this;
  }

  withSecretRef(name: string, key = 'url'): this {
    this.value.spec.endpoint.connection.secretRef = { name, key };
    return this;
  }

  withDrift(drift: 'Correct' | 'Report'): this {
    this.value.spec.policy.drift = drift;
    return this;
  }

  withDeletionPolicy(policy: 'Retain' | 'Delete'): this {
    this.value.spec.deletionPolicy = policy;
    return this;
  }

  suspended(): this {
    this.value.spec.suspend = true;
    return this;
  }

  withFinalizers(...finalizers: string[]): this {
    this.value.metadata.finalizers = finalizers;
    return this;
  }

  deleting(): this {
    this.value.metadata.deletionTimestamp = new Date(0).toISOString();
    return this;
  }

  build(): CdmSinkProvision {
    return structuredClone(this.value);
  }
}

export function aProvision(name = 'sink'): ProvisionBuilder {
  return new ProvisionBuilder(name);
}
