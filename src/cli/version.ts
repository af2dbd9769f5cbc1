import { readFile } from 'node:fs/promises';

/**
 * The package's version. package.json is two folders up from both src/cli (tests, tsx) and dist/cli
 * (the installed package), and npm always packs it, so one relative URL serves both.
 */
export async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
