import { SPEC_SCHEMA, STATUS_SCHEMA } from './schema.js';
import { API_GROUP, API_VERSION, KIND, PLURAL, SHORT_NAME, SINGULAR } from './types.js';

export const CRD_FILE = `crds/${API_GROUP}_${PLURAL}.yaml`;

/** The CustomResourceDefinition, generated from the API schema so the two never disagree. */
export function customResourceDefinition(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${API_GROUP}`,
      labels: {
        'app.kubernetes.io/name': 'cdm-sink-operator',
        'app.kubernetes.io/part-of': 'cdm-sink-operator',
      },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [SHORT_NAME],
        categories: ['cdm'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Models', type: 'integer', jsonPath: '.status.modelCount' },
            { name: 'Schema', type: 'string', jsonPath: '.spec.endpoint.schema' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'CdmSinkProvision declares a Postgres sink and the CDM models it must hold.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: SPEC_SCHEMA,
                status: STATUS_SCHEMA,
              },
            },
          },
        },
      ],
    },
  };
}
