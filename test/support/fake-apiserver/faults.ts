/**
 * Fault injection for resilience tests: injected error responses, latency, and watch-stream faults.
 * Request matchers compare `method` case-insensitively and look for `pathIncludes` in the raw request URL
 * (path and query string), so `pathIncludes: 'watch=true'` targets watches only.
 */
import { type ApiError, apiErrors } from './status-errors.js';

export interface FailureMatch {
  readonly status: 429 | 500 | 503;
  readonly method?: string;
  readonly pathIncludes?: string;
  /** Sent as `Retry-After` and `details.retryAfterSeconds`; 429 defaults to 1 second. */
  readonly retryAfterSeconds?: number;
}

export interface RequestMatch {
  readonly method?: string;
  readonly pathIncludes?: string;
}

export interface FaultControls {
  /** Silently stop sending on all open watches without closing them (half-open). */
  dropWatches(): void;
  /** End all open watch streams cleanly (dropped ones included). */
  closeWatches(): void;
  /** Forget the event history so any watch or continue from an older revision gets 410 Expired. */
  compact(): void;
  /** Answer the next `n` matching requests with the given status instead of handling them. */
  failNext(n: number, match: FailureMatch): void;
  /** Add latency before matching requests are handled; `delay(0)` clears all delays. */
  delay(ms: number, match?: RequestMatch): void;
  /** Clears pending failures and delays (dropped watches stay dropped). */
  reset(): void;
}

export interface WatchFaultHooks {
  readonly dropWatches: () => void;
  readonly closeWatches: () => void;
  readonly compact: () => void;
}

function matches(match: RequestMatch, method: string, url: string): boolean {
  if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  return !match.pathIncludes || url.includes(match.pathIncludes);
}

export class FaultInjector implements FaultControls {
  private readonly failures: Array<{ remaining: number; readonly match: FailureMatch }> = [];
  private delays: Array<{ readonly ms: number; readonly match: RequestMatch }> = [];

  constructor(private readonly hooks: WatchFaultHooks) {}

  dropWatches(): void {
    this.hooks.dropWatches();
  }

  closeWatches(): void {
    this.hooks.closeWatches();
  }

  compact(): void {
    this.hooks.compact();
  }

  failNext(n: number, match: FailureMatch): void {
    if (n > 0) this.failures.push({ remaining: n, match });
  }

  delay(ms: number, match: RequestMatch = {}): void {
    if (ms <= 0) {
      this.delays = [];
      return;
    }
    this.delays.push({ ms, match });
  }

  reset(): void {
    this.failures.length = 0;
    this.delays = [];
  }

  /** The longest configured latency that applies to this request. */
  delayFor(method: string, url: string): number {
    return this.delays
      .filter((d) => matches(d.match, method, url))
      .reduce((max, d) => Math.max(max, d.ms), 0);
  }

  /** Consumes one pending failure that matches, returning the error to answer with. */
  takeFailure(method: string, url: string): ApiError | undefined {
    const entry = this.failures.find((f) => f.remaining > 0 && matches(f.match, method, url));
    if (!entry) return undefined;
    entry.remaining--;
    if (entry.remaining === 0) this.failures.splice(this.failures.indexOf(entry), 1);
    const { status, retryAfterSeconds } = entry.match;
    if (status === 429) return apiErrors.tooManyRequests(retryAfterSeconds ?? 1);
    if (status === 503) return apiErrors.serviceUnavailable(retryAfterSeconds);
    return apiErrors.internal('injected fault');
  }
}
