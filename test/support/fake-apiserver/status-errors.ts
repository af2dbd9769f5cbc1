/**
 * `metav1.Status` failure envelopes. client-node's ApiException only exposes the raw body, so every error
 * the fake returns must carry the same `reason`/`code`/`details` the apiserver would.
 */
import { aggregateMessage, causeReason, type FieldError, fieldErrorBody } from './field-errors.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  /** Omitted on success, as the apiserver's `omitempty` does. */
  code?: number;
}

/** Identifies a resource the way error messages name it: `widgets.example.test`, or `secrets` for core. */
export interface GroupResource {
  readonly group: string;
  readonly plural: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.plural}.${gr.group}` : gr.plural;
}

/** Thrown by the store and handlers; the router turns it into the Status response. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: number,
    reason: string,
    message: string,
    details?: StatusDetails,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) body.details = this.details;
    return body;
  }
}

function resourceDetails(gr: GroupResource, name?: string): StatusDetails {
  const details: StatusDetails = {};
  if (name !== undefined) details.name = name;
  if (gr.group) details.group = gr.group;
  details.kind = gr.plural;
  return details;
}

export const apiErrors = {
  notFound(gr: GroupResource, name: string): ApiError {
    return new ApiError(
      404,
      'NotFound',
      `${qualifiedResource(gr)} "${name}" not found`,
      resourceDetails(gr, name),
    );
  },
  /** What the apiserver answers for a path it has no handler for. */
  noRoute(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(gr: GroupResource, name: string): ApiError {
    return new ApiError(
      409,
      'AlreadyExists',
      `${qualifiedResource(gr)} "${name}" already exists`,
      resourceDetails(gr, name),
    );
  },
  conflict(gr: GroupResource, name: string, why: string): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
      resourceDetails(gr, name),
    );
  },
  staleResourceVersion(gr: GroupResource, name: string): ApiError {
    return apiErrors.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): ApiError {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    // Status details are `omitempty`: an error about no particular object names none.
    const details: StatusDetails = {};
    if (name) details.name = name;
    if (group) details.group = group;
    if (kind) details.kind = kind;
    details.causes = errors.map((e) => ({
      reason: causeReason(e),
      message: fieldErrorBody(e),
      field: e.field,
    }));
    return new ApiError(
      422,
      'Invalid',
      `${qualifiedKind} "${name}" is invalid: ${aggregateMessage(errors)}`,
      details,
    );
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  forbidden(gr: GroupResource, name: string, why: string): ApiError {
    return new ApiError(
      403,
      'Forbidden',
      `${qualifiedResource(gr)} "${name}" is forbidden: ${why}`,
      resourceDetails(gr, name),
    );
  },
  methodNotAllowed(): ApiError {
    return new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  },
  unsupportedMediaType(accepted: readonly string[]): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
  },
  expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  /** JSON-patch application failures (e.g. a failed `test` op) come back as a generic 422. */
  patchRejected(gr: GroupResource, name: string, why: string): ApiError {
    return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
      ...resourceDetails(gr, name),
      causes: [{ reason: 'UnexpectedServerResponse', message: why }],
    });
  },
  timeout(message: string): ApiError {
    return new ApiError(504, 'Timeout', message, {});
  },
  tooManyRequests(retryAfterSeconds: number): ApiError {
    return new ApiError(
      429,
      'TooManyRequests',
      'Too many requests, please try again later.',
      { retryAfterSeconds },
      { 'Retry-After': String(retryAfterSeconds) },
    );
  },
  internal(why: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${why}`, {
      causes: [{ message: why }],
    });
  },
  serviceUnavailable(retryAfterSeconds?: number): ApiError {
    const headers: Record<string, string> = {};
    const details: StatusDetails = {};
    if (retryAfterSeconds !== undefined) {
      headers['Retry-After'] = String(retryAfterSeconds);
      details.retryAfterSeconds = retryAfterSeconds;
    }
    return new ApiError(
      503,
      'ServiceUnavailable',
      'The server is currently unable to handle the request',
      details,
      headers,
    );
  },
};

/** The body of a DELETE that removed the object immediately (`ReturnDeletedObject` is false for our kinds). */
export function deleteSuccessStatus(gr: GroupResource, name: string, uid: string | undefined): StatusBody {
  const details = resourceDetails(gr, name);
  if (uid) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
