import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../support/cli.js';

/**
 * manifests/argocd/health.lua run by a real Lua interpreter, the way Argo CD runs it: the object as the
 * global `obj` (JSON null absent, arrays as sequences, numbers as numbers), the script's return value
 * read as the health. Argo CD embeds gopher-lua (Lua 5.1) and opens only the base, package and table
 * libraries and a reduced `os` for health checks, so the script runs here with `string`, `math`, `io`,
 * `os`, `utf8`, `coroutine` and `debug` removed and string methods unreachable; what Lua 5.4 accepts
 * but 5.1 does not (goto, `//`, bitwise operators, attributes) is rejected by reading the source.
 */

const LUA = process.env.CDM_LUA ?? 'lua5.4';
const ARGOCD = path.join(REPO, 'manifests/argocd');
const HEALTH_LUA = path.join(ARGOCD, 'health.lua');
const TESTDATA = path.join(ARGOCD, 'testdata');
const ARGO_HEALTH = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function asJson(value: unknown, at: string): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${at}: ${value} has no JSON form`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => asJson(v, `${at}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, asJson(v, `${at}.${k}`)]),
    );
  }
  throw new Error(`${at}: ${typeof value} is not what the API server's JSON holds`);
}

/** A Lua string literal of the UTF-8 bytes of `text`: plain ASCII as is, every other byte as `\ddd`. */
function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    // Three digits always, so a digit that follows is never read as part of the escape.
    else if (byte < 0x20 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

/**
 * A Lua table constructor for a JSON value, as Argo CD builds `obj`: a key whose value is null is
 * absent (nil), an array is a sequence from 1 (a null element stays a hole, keeping positions).
 */
function luaValue(value: Json): string {
  if (value === null) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(luaValue).join(', ')}}`;
  const fields = Object.entries(value)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `[${luaString(k)}] = ${luaValue(v)}`);
  return `{${fields.join(', ')}}`;
}

interface Health {
  readonly type: string;
  readonly status?: string;
  readonly message?: string;
}

/** Runs health.lua once for `object` in a fresh interpreter; fails the test on a Lua error. */
function runHealthLua(object: Json, script = HEALTH_LUA): Health {
  // Each field is written as `<byte length>\n<bytes>`, so a message may hold any byte, NUL and newline included.
  const harness = `
local write = io.write
local loadfile, pcall, type, tostring = loadfile, pcall, type, tostring
local function field(value)
  if value == nil then
    write("-\\n")
  else
    value = tostring(value)
    write(#value, "\\n", value)
  end
end
-- Without the string library gopher-lua has no string metatable either: ("x"):sub(1) must fail.
getmetatable("").__index = nil
string, math, io, os, utf8, coroutine, debug = nil, nil, nil, nil, nil, nil, nil
obj = ${luaValue(object)}
local chunk, err = loadfile(arg[1])
if chunk == nil then
  field("load error")
  field(err)
  return
end
local ok, hs = pcall(chunk)
if not ok then
  field("runtime error")
  field(hs)
elseif type(hs) ~= "table" then
  field(type(hs))
else
  field("table")
  field(hs.status)
  field(hs.message)
end
`;
  const run = spawnSync(LUA, ['-', script], { input: harness });
  if (run.error) throw run.error;
  expect(run.status, run.stderr.toString()).toBe(0);
  const fields: Array<string | undefined> = [];
  for (let rest = run.stdout; rest.length > 0; ) {
    const newline = rest.indexOf(0x0a);
    const head = rest.subarray(0, newline).toString();
    if (head === '-') {
      fields.push(undefined);
      rest = rest.subarray(newline + 1);
    } else {
      const end = newline + 1 + Number(head);
      fields.push(rest.subarray(newline + 1, end).toString('utf8'));
      rest = rest.subarray(end);
    }
  }
  const [type = '', status, message] = fields;
  if (type.endsWith('error')) throw new Error(`health.lua ${type}: ${status}`);
  return { type, ...(status === undefined ? {} : { status }), ...(message === undefined ? {} : { message }) };
}

interface Fixture {
  readonly file: string;
  readonly object: Json;
  readonly expected: { readonly status: string; readonly message: string };
}

function readFixture(file: string): Fixture {
  const docs = parseAllDocuments(readFileSync(path.join(TESTDATA, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return asJson(doc.toJS(), file);
  });
  const [object, expected] = docs as [Json, { kind: string; status: string; message: string }];
  expect(docs, `${file}: the object, then its ExpectedHealth`).toHaveLength(2);
  expect(expected.kind).toBe('ExpectedHealth');
  return { file, object, expected: { status: expected.status, message: expected.message } };
}

const fixtures = readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map(readFixture);

/** The script with comments and string literals blanked, so only code is searched. */
function codeOnly(source: string): string {
  return source.replace(
    /--\[(=*)\[[\s\S]*?\]\1\]|--[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\[(=*)\[[\s\S]*?\]\2\]/g,
    ' ',
  );
}

describe('manifests/argocd/health.lua, run by Lua as Argo CD runs it', () => {
  beforeAll(() => {
    const probe = spawnSync(LUA, ['-v'], { encoding: 'utf8' });
    if (probe.error) {
      throw new Error(
        `${LUA} is not installed, and these tests run the Argo CD health check with it: install Debian's ` +
          `lua5.4 package (apt-get install lua5.4), or point CDM_LUA at a Lua 5.4 interpreter`,
      );
    }
  });

  it('has a fixture for every state the controller writes', () => {
    expect(fixtures.map((f) => f.file)).toEqual(
      expect.arrayContaining([
        'ready.yaml',
        'reconciling-retrying.yaml',
        'stalled-secret-not-found.yaml',
        'stalled-invalid-spec.yaml',
        'no-status.yaml',
        'stale-generation.yaml',
        'suspended.yaml',
        'deleting.yaml',
        'deleting-blocked.yaml',
      ]),
    );
    expect(new Set(fixtures.map((f) => f.expected.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended']),
    );
  });

  it.each(fixtures)('$file → $expected.status', ({ object, expected }) => {
    const health = runHealthLua(object);
    expect(health.type).toBe('table');
    expect(ARGO_HEALTH).toContain(health.status);
    expect(health.status).toBe(expected.status);
    expect(health.message).toContain(expected.message);
  });

  it('passes strings through byte for byte, and treats JSON null as absent', () => {
    const awkward = 'quote " backslash \\ newline\n tab\t NUL\0 é ✓ 5s';
    const object: Json = {
      apiVersion: 'cdm.nucleus.io/v1alpha1',
      kind: 'CdmSinkProvision',
      metadata: { name: 'x', namespace: 'y', generation: 7, deletionTimestamp: null },
      status: {
        observedGeneration: 7,
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Provisioned', message: awkward, observedGeneration: 7 },
          { type: 'Stalled', status: 'False', reason: 'Provisioned', message: null },
        ],
      },
    };
    expect(runHealthLua(object)).toEqual({
      type: 'table',
      status: 'Healthy',
      message: `Provisioned: ${awkward}`,
    });
  });

  it('uses only what Lua 5.1 without the string and math libraries has', () => {
    const code = codeOnly(readFileSync(HEALTH_LUA, 'utf8'));
    const newerThan51: Array<[RegExp, string]> = [
      [/\bgoto\b|::/, 'goto and labels (Lua 5.2)'],
      [/\/\//, 'integer division (Lua 5.3)'],
      [/[&|]|~(?!=)|<<|>>/, 'bitwise operators (Lua 5.3)'],
      [/<\s*(const|close)\s*>/, 'variable attributes (Lua 5.4)'],
      [/\b(string|math|utf8|io|os|debug|coroutine)\s*\./, 'a library Argo CD does not open'],
      [/\w\s*:\s*\w+\s*\(/, 'a method call (string methods need the string library)'],
    ];
    for (const [pattern, what] of newerThan51) expect(code, what).not.toMatch(pattern);
  });

  it('notices a branch that maps to the wrong health (the harness runs the file it is given)', () => {
    const ready = fixtures.find((f) => f.file === 'ready.yaml')!;
    const source = readFileSync(HEALTH_LUA, 'utf8');
    const swapped = source.replace('hs.status = "Healthy"', 'hs.status = "Progressing"');
    expect(swapped).not.toBe(source);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'argocd-health-'));
    try {
      writeFileSync(path.join(dir, 'health.lua'), swapped);
      expect(runHealthLua(ready.object, path.join(dir, 'health.lua')).status).toBe('Progressing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
