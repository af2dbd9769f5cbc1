import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed Kubernetes API call, or undefined for network and other errors. */
export function apiStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  // The watch (node-fetch) reports a non-200 response as a plain Error with `statusCode`.
  if (error instanceof Error && 'statusCode' in error && typeof error.statusCode === 'number')
    return error.statusCode;
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404;
}

/** 409: a stale resourceVersion (optimistic concurrency) or an object that already exists. */
export function isConflict(error: unknown): boolean {
  return apiStatusCode(error) === 409;
}

/**
 * A one-line description of a failed API call. `ApiException.message` embeds the raw response body,
 * which may be long; the `Status` object's own message is what a human needs.
 */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeParse(error.body) : error.body;
    const message =
      body && typeof body === 'object' && 'message' in body && typeof body.message === 'string'
        ? body.message
        : '';
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
