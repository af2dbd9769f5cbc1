/** A `CdmSinkProvision` as YAML text, for tests that write manifest files or pipe them to the CLI. */
export function provisionYaml(
  name: string,
  options: { namespace?: string; models?: readonly string[]; schema?: string; secret?: string } = {},
): string {
  const schema = options.schema ? `, schema: ${options.schema}` : '';
  return [
    'apiVersion: cdm.nucleus.io/v1alpha1',
    'kind: CdmSinkProvision',
    `metadata: { name: ${name}, namespace: ${options.namespace ?? 'ns'} }`,
    'spec:',
    `  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: ${options.secret ?? 's'} } }${schema} }`,
    `  models: [${(options.models ?? ['cdm.work.user']).join(', ')}]`,
    '',
  ].join('\n');
}
