import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROW_TYPES_FILE, rowTypesSource } from '../src/writer/row-types-source.js';

const root = path.resolve(import.meta.dirname, '..');
await writeFile(path.join(root, ROW_TYPES_FILE), rowTypesSource());
console.log(`wrote ${ROW_TYPES_FILE}`);
