/**
 * RFC 6902 JSON patch with evanphx/json-patch's error wording, which is what the apiserver embeds in its
 * 422 causes. Decoding problems (not an array of operations) are reported separately as 400s.
 */
import { clone, deepEqual, isObject } from './json.js';

export interface JsonPatchOperation {
  readonly op: string;
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

/** Raised when a well-formed patch cannot be applied; the apiserver maps this to 422. */
export class JsonPatchApplyError extends Error {}

/** Raised when the body is not a JSON-patch document at all; the apiserver maps this to 400. */
export class JsonPatchDecodeError extends Error {}

export function decodeJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body)) {
    const got = body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body;
    throw new JsonPatchDecodeError(
      `json: cannot unmarshal ${got} into Go value of type []handlers.jsonPatchOp`,
    );
  }
  return body.map((op) => {
    if (!isObject(op))
      throw new JsonPatchDecodeError(
        'json: cannot unmarshal non-object into Go value of type jsonpatch.Operation',
      );
    if (typeof op.path !== 'string') throw new JsonPatchDecodeError('json: operation has no string "path"');
    return op as unknown as JsonPatchOperation;
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchApplyError(`invalid JSON pointer: "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

interface Location {
  readonly parent: unknown;
  readonly key: string;
}

function locate(doc: unknown, pointer: string, op: string): Location {
  const parts = parsePointer(pointer);
  const key = parts.pop();
  if (key === undefined)
    throw new JsonPatchApplyError(`${op} operation does not apply: the root cannot be targeted`);
  let parent: unknown = doc;
  for (const part of parts) {
    parent = Array.isArray(parent) ? parent[Number(part)] : isObject(parent) ? parent[part] : undefined;
    if (parent === undefined) {
      throw new JsonPatchApplyError(
        `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
      );
    }
  }
  return { parent, key };
}

function arrayIndex(arr: unknown[], key: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && key === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw new JsonPatchApplyError(`Unable to access invalid index: ${key}`);
  const index = Number(key);
  if (index > arr.length || (!allowEnd && index === arr.length)) {
    throw new JsonPatchApplyError(`Unable to access invalid index: ${index} (path ${pointer})`);
  }
  return index;
}

function read(doc: unknown, pointer: string, op: string): unknown {
  if (pointer === '') return doc;
  const { parent, key } = locate(doc, pointer, op);
  const value = Array.isArray(parent)
    ? parent[arrayIndex(parent, key, pointer, false)]
    : isObject(parent)
      ? parent[key]
      : undefined;
  if (value === undefined) {
    throw new JsonPatchApplyError(
      `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
    );
  }
  return value;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const { parent, key } = locate(doc, pointer, 'add');
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else
    throw new JsonPatchApplyError(
      `add operation does not apply: doc is missing path: "${pointer}": missing value`,
    );
  return doc;
}

function remove(doc: unknown, pointer: string, op: string): unknown {
  const { parent, key } = locate(doc, pointer, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else if (isObject(parent) && Object.hasOwn(parent, key)) delete parent[key];
  else
    throw new JsonPatchApplyError(
      `${op} operation does not apply: doc is missing key: ${pointer}: missing value`,
    );
  return doc;
}

export function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let doc = clone(target);
  for (const operation of operations) {
    const { op, path } = operation;
    switch (op) {
      case 'add':
        doc = add(doc, path, clone(operation.value));
        break;
      case 'remove':
        doc = remove(doc, path, 'remove');
        break;
      case 'replace':
        read(doc, path, 'replace');
        doc =
          path === ''
            ? clone(operation.value)
            : add(remove(doc, path, 'replace'), path, clone(operation.value));
        break;
      case 'move': {
        const value = read(doc, operation.from ?? '', 'move');
        doc = add(remove(doc, operation.from ?? '', 'move'), path, value);
        break;
      }
      case 'copy':
        doc = add(doc, path, clone(read(doc, operation.from ?? '', 'copy')));
        break;
      case 'test': {
        const actual = path === '' ? doc : readOptional(doc, path);
        if (!deepEqual(actual, operation.value))
          throw new JsonPatchApplyError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new JsonPatchApplyError(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

function readOptional(doc: unknown, pointer: string): unknown {
  try {
    return read(doc, pointer, 'test');
  } catch (e) {
    if (e instanceof JsonPatchApplyError) return undefined;
    throw e;
  }
}
