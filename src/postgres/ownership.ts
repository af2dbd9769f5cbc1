import type { TableSpec } from './table-spec.js';

/**
 * The ownership line every table we manage carries at the end of its comment, so ownership can be read
 * from the database itself (DESIGN.md §3):
 *
 *   Managed by cdm-sink-operator: model=cdm.work.item version=1.1.0 sink=ns/name origin=created tables=a,b
 *
 * `origin` says whether we created the table or adopted an existing one (only created tables are ever
 * dropped); `tables` lists every table of the sink at the time, a sink-side record that a table which
 * went missing was provisioned before, without relying on the catalog. Lines written before `origin`
 * existed have neither field and count as created.
 */

export type TableOrigin = 'created' | 'adopted';

export interface TableOwner {
  readonly modelId: string;
  readonly modelVersion: string;
  readonly sinkId: string;
  readonly origin: TableOrigin;
  /** The sink's tables when the line was written; empty for lines of the first release. */
  readonly sinkTables: readonly string[];
}

const MARKER = 'Managed by cdm-sink-operator:';
const OWNER_LINE =
  /(?:^|\n\n)Managed by cdm-sink-operator: model=(\S+) version=(\S+) sink=(\S+)(?: origin=(created|adopted))?(?: tables=(\S+))?$/;

/** Reads the ownership line back from a table comment; `undefined` when the table is not ours. */
export function parseTableOwner(comment: string | null | undefined): TableOwner | undefined {
  const match = comment ? OWNER_LINE.exec(comment) : null;
  if (!match) return undefined;
  return {
    modelId: match[1]!,
    modelVersion: match[2]!,
    sinkId: match[3]!,
    origin: (match[4] as TableOrigin | undefined) ?? 'created',
    sinkTables: match[5] ? match[5].split(',') : [],
  };
}

export function ownershipLine(owner: TableOwner): string {
  const tables = owner.sinkTables.length > 0 ? ` tables=${owner.sinkTables.join(',')}` : '';
  return `${MARKER} model=${owner.modelId} version=${owner.modelVersion} sink=${owner.sinkId} origin=${owner.origin}${tables}`;
}

/** The comment without our ownership line: what a released table keeps (`null` when nothing is left). */
export function withoutOwnership(comment: string | null | undefined): string | null {
  if (!comment) return null;
  const match = OWNER_LINE.exec(comment);
  const rest = match ? comment.slice(0, match.index) : comment;
  return rest === '' ? null : rest;
}

/** `text` followed by the ownership line: the model's description for created tables, the owner's own comment for adopted ones. */
export function withOwnership(text: string | null, owner: TableOwner): string {
  return text ? `${text}\n\n${ownershipLine(owner)}` : ownershipLine(owner);
}

/** The comment a table of ours should carry; an adopted table keeps its owner's text before our line. */
export function desiredComment(
  table: TableSpec,
  origin: TableOrigin,
  sinkTables: readonly string[],
  observedComment: string | null,
): string {
  const owner = {
    modelId: table.modelId,
    modelVersion: table.modelVersion,
    sinkId: table.sinkId,
    origin,
    sinkTables,
  };
  return withOwnership(origin === 'created' ? table.description : withoutOwnership(observedComment), owner);
}
