import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { monitoringCopies } from './monitoring-copies.js';

const root = path.resolve(import.meta.dirname, '..');
for (const [file, content] of monitoringCopies(root)) {
  await mkdir(path.join(root, path.dirname(file)), { recursive: true });
  await writeFile(path.join(root, file), content);
  console.log(`wrote ${file}`);
}
