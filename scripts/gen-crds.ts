import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CRD_FILE } from '../src/api/crd.js';
import { crdYaml } from '../src/api/crd-yaml.js';
import { SPEC_VALIDATOR_FILE, specValidatorSource } from '../src/api/spec-validator-source.js';

const root = path.resolve(import.meta.dirname, '..');
// kustomize refuses files outside its base and Helm reads only files inside its chart, so manifests/ and
// the chart carry their own copies, kept identical here.
const copies = [
  CRD_FILE,
  `manifests/base/crd/${path.basename(CRD_FILE)}`,
  `charts/cdm-sink-operator/files/${path.basename(CRD_FILE)}`,
];
for (const file of copies) {
  await mkdir(path.join(root, path.dirname(file)), { recursive: true });
  await writeFile(path.join(root, file), crdYaml());
  console.log(`wrote ${file}`);
}
await writeFile(path.join(root, SPEC_VALIDATOR_FILE), specValidatorSource());
console.log(`wrote ${SPEC_VALIDATOR_FILE}`);
