import { describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CRD_NAME, installOperator, kubectl, kubectlOk } from './cluster-env.js';

/** The README's install steps, run with the built kubectl against the real API server. */
describe('install as the README says', () => {
  it('kubectl apply -k manifests/ (server-side) accepts every object, and the CRD is Established', async () => {
    const rendered = parseAllDocuments(await kubectlOk(['kustomize', 'manifests/'])).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const out = await installOperator();
    for (const object of rendered) {
      const group =
        object.kind === 'CustomResourceDefinition' ? 'customresourcedefinition.apiextensions.k8s.io' : '';
      expect(out, `${object.kind} ${object.metadata.name}`).toMatch(
        new RegExp(
          `${group || object.kind.toLowerCase()}[^ ]*/${object.metadata.name} serverside-applied`,
          'i',
        ),
      );
    }
    expect(out.trim().split('\n')).toHaveLength(rendered.length);

    const crd = JSON.parse(await kubectlOk(['get', `crd/${CRD_NAME}`, '-o', 'json'])) as {
      status: {
        conditions: Array<{ type: string; status: string }>;
        acceptedNames: { shortNames?: string[] };
      };
    };
    expect(crd.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Established', status: 'True' }),
    );
    expect(crd.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'NamesAccepted', status: 'True' }),
    );
    expect(crd.status.acceptedNames.shortNames).toContain('cdmsink');
  });

  it('a second apply changes nothing', async () => {
    await installOperator();
    const diff = await kubectl(['diff', '--server-side', '-k', 'manifests/']);
    expect(diff.stderr).toBe('');
    expect(diff.code).toBe(0);
  });

  it('kubectl apply -f manifests/examples/cluster/ -f manifests/examples/ then succeeds', async () => {
    await installOperator();
    const result = await kubectl(['apply', '-f', 'manifests/examples/cluster/', '-f', 'manifests/examples/']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const names = await kubectlOk([
      'get',
      'cdmsink',
      '-n',
      'data-platform',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
    expect(names.split(' ').sort()).toEqual(['jira-cdm', 'support-desk']);
  });

  it('the namespaced install and the monitoring pack are accepted too (server-side dry run)', async () => {
    await installOperator();
    // Both name namespaces they do not create: the watched one, and the monitoring CRDs.
    const created = await kubectl(['create', 'namespace', 'data-platform']);
    if (created.code !== 0) expect(created.stderr).toMatch(/AlreadyExists/);
    await kubectlOk(['apply', '--server-side', '-f', inject('tools').monitoringCrds]);
    await kubectlOk([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/prometheusrules.monitoring.coreos.com',
    ]);
    for (const dir of ['manifests/namespaced/', 'manifests/monitoring/']) {
      const lines = (await kubectlOk(['apply', '--server-side', '--dry-run=server', '-k', dir]))
        .trim()
        .split('\n');
      expect(lines.length, dir).toBeGreaterThan(2);
      for (const line of lines) expect(line, dir).toMatch(/ serverside-applied \(server dry run\)$/);
    }
  });
});
