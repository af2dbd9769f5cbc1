/** Derives the apiserver's RequestInfo (verb, group, version, resource, subresource, namespace, name) from a URL. */

export type RequestVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  /** For non-resource requests (discovery, /version) this is the lower-cased HTTP method, as in the apiserver. */
  readonly verb: RequestVerb | string;
  readonly apiPrefix: 'api' | 'apis' | '';
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** Path segments after `/api/v1` or `/apis/{g}/{v}`, kept for routing discovery requests. */
  readonly parts: readonly string[];
}

/** Subresources that apply to the namespace object itself rather than naming a namespaced resource. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const nonResource = (): RequestInfo => ({
    isResourceRequest: false,
    verb: method.toLowerCase(),
    apiPrefix: segments[0] === 'api' || segments[0] === 'apis' ? segments[0] : '',
    group: segments[0] === 'apis' ? (segments[1] ?? '') : '',
    version: segments[0] === 'api' ? (segments[1] ?? '') : (segments[2] ?? ''),
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    parts: [],
  });
  let rest: string[];
  let group = '';
  let version: string;
  let apiPrefix: 'api' | 'apis';
  if (segments[0] === 'api' && segments.length >= 3) {
    apiPrefix = 'api';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    apiPrefix = 'apis';
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else {
    return nonResource();
  }
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  let verb: RequestVerb | string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watchPrefix || isTrue(query.get('watch')) ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = method.toLowerCase();
  }
  return {
    isResourceRequest: true,
    verb,
    apiPrefix,
    group,
    version,
    resource,
    subresource,
    namespace,
    name,
    parts: rest,
  };
}
