import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The files derived from manifests/monitoring/alerts.yaml and grafana-dashboard.json, the sources of
 * truth: the PrometheusRule object of the kustomize pack and the Helm chart's copies (Helm reads only
 * files inside its chart). `npm run gen:monitoring` writes them; a test fails when one is stale.
 */
export function monitoringCopies(root: string): ReadonlyMap<string, string> {
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
  const alerts = read('manifests/monitoring/alerts.yaml');
  const dashboard = read('manifests/monitoring/grafana-dashboard.json');
  return new Map([
    ['manifests/monitoring/prometheus-rule.yaml', prometheusRule(alerts)],
    ['charts/cdm-sink-operator/files/alerts.yaml', alerts],
    ['charts/cdm-sink-operator/files/grafana-dashboard.json', dashboard],
  ]);
}

/** alerts.yaml's text indented under `spec:`, so its comments survive into the object people read. */
function prometheusRule(alerts: string): string {
  const body = alerts
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  return `# Generated from alerts.yaml by \`npm run gen:monitoring\`; edit that file, not this one.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: cdm-sink-operator
  namespace: cdm-sink-system
  labels:
    app.kubernetes.io/name: cdm-sink-controller
    app.kubernetes.io/part-of: cdm-sink-operator
spec:
${body}`;
}
