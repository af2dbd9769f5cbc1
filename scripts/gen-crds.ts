import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CRD_FILE } from '../src/api/crd.js';
import { crdYaml } from '../src/api/crd-yaml.js';

const root = path.resolve(import.meta.dirname, '..');
await mkdir(path.join(root, path.dirname(CRD_FILE)), { recursive: true });
await writeFile(path.join(root, CRD_FILE), crdYaml());
console.log(`wrote ${CRD_FILE}`);
