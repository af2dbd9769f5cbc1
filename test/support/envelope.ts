/** The `-o json` envelope as docs/cli.md documents it: the tests' own reading of the contract. */
export interface Envelope<P = Record<string, unknown>> {
  command: string | null;
  ok: boolean;
  provisions: P[];
  errors: Array<{
    provision: string | null;
    file: string | null;
    document: number | null;
    path: string | null;
    reason: string;
    message: string;
  }>;
}
