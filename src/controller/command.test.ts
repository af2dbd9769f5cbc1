import { describe, expect, it, vi } from 'vitest';
import { runControllerCommand } from './command.js';

describe('runControllerCommand', () => {
  it('exits 2 with the reason and the usage on a bad flag', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runControllerCommand(['--concurrency', '0'], {})).toBe(2);
      const written = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(written).toContain('--concurrency must be a whole number from 1 to 256');
      expect(written).toContain('Usage: cdm-sink controller');
    } finally {
      stderr.mockRestore();
    }
  });

  it('prints the usage for --help and exits 0', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await runControllerCommand(['--help'], {})).toBe(0);
    } finally {
      stdout.mockRestore();
    }
  });
});
