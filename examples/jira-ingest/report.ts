import type { RawFileResult } from './raw-sink.js';

/**
 * What a worker run prints: a table for people, the same data as JSON (`--json`) for scripts and tests.
 * Type-only imports keep this file free of the writer, so both modes can use it.
 */

export interface ModelCounts {
  readonly modelId: string;
  readonly received: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Older than the stored row (by `updated_at`), so the stored row was kept. */
  readonly stale: number;
  readonly rejected: number;
}

export interface CdmReport {
  readonly unit: string;
  readonly mode: 'cdm';
  readonly site: string;
  readonly sinkEndpointId: string;
  readonly schema: string;
  readonly models: readonly ModelCounts[];
}

export interface RawReport {
  readonly unit: string;
  readonly mode: 'raw';
  readonly site: string;
  readonly outDir: string;
  readonly files: readonly RawFileResult[];
}

export type UnitReport = CdmReport | RawReport;

/** Numbers right-aligned under their header, text left-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => String(row[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  return all
    .map((row) =>
      row
        .map((cell, i) => (numeric[i] ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderReport(report: UnitReport): string {
  switch (report.mode) {
    case 'cdm':
      return [
        `${report.unit} (mode cdm): ${report.site} → ${report.sinkEndpointId}, schema ${report.schema}`,
        formatTable(
          ['model', 'received', 'inserted', 'updated', 'unchanged', 'stale', 'rejected'],
          report.models.map((m) => [
            m.modelId,
            m.received,
            m.inserted,
            m.updated,
            m.unchanged,
            m.stale,
            m.rejected,
          ]),
        ),
      ].join('\n');
    case 'raw':
      return [
        `${report.unit} (mode raw): ${report.site} → ${report.outDir}`,
        formatTable(
          ['entity', 'records', 'file'],
          report.files.map((f) => [f.entity, f.records, f.file]),
        ),
      ].join('\n');
  }
}
