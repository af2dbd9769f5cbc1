/** One HTTP request/response pair plus its entry in the request log; all responses go through here. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError } from './status-errors.js';
import type { RecordedRequest } from './types.js';

export type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

/** `Warning: 299 - "text"` as the apiserver sends for fieldValidation=Warn and deprecations. */
function warningHeader(text: string): string {
  return `299 - "${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Server-wide count of answered requests: handling is synchronous, so answering order is commit order. */
let answered = 0;

export class HttpExchange {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly url: URL,
    readonly rawBody: string,
    readonly record: MutableRecord,
  ) {}

  static async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get contentType(): string | undefined {
    return this.req.headers['content-type'];
  }

  query(name: string): string | undefined {
    return this.url.searchParams.get(name) ?? undefined;
  }

  sendJson(
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    warnings: readonly string[] = [],
  ): void {
    this.answer(status);
    if (warnings.length > 0) this.res.setHeader('Warning', warnings.map(warningHeader));
    this.res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    this.res.end(JSON.stringify(body));
  }

  sendError(error: ApiError): void {
    this.sendJson(error.code, error.toStatus(), { ...error.headers });
  }

  sendText(status: number, text: string): void {
    this.answer(status);
    this.res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    this.res.end(text);
  }

  /** Marks the log entry for a streaming response whose head the watch stream writes itself. */
  markStreaming(): ServerResponse {
    this.answer(200);
    return this.res;
  }

  private answer(status: number): void {
    this.record.status = status;
    this.record.answered = ++answered;
  }
}
