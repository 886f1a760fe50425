/**
 * Short-lived signed URLs for moving a task's files to and from a worker without shared storage:
 * `/api/v1/transfer?path=…&method=GET|PUT&expires=…&sig=…`, the signature an HMAC-SHA256 over the
 * method, the path and the expiry with a secret the orchestrator's replicas share. Whoever holds
 * the URL may do that one thing to that one file until it expires, and nothing else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TRANSFER_ROUTE = '/api/v1/transfer';

export type TransferMethod = 'GET' | 'PUT';

export interface TransferGrant {
  path: string;
  method: TransferMethod;
  /** Unix seconds. */
  expires: number;
  /**
   * The task attempt it serves (`<task id>#<attempt>`): an upload is kept only while that attempt
   * still holds its task, so a worker whose attempt was taken back cannot overwrite the output.
   */
  task?: string;
}

function signature(g: TransferGrant, secret: string): string {
  // NUL cannot occur in a path: the fields cannot be shifted into one another.
  return createHmac('sha256', secret)
    .update(`${g.method}\0${g.path}\0${g.expires}\0${g.task ?? ''}`)
    .digest('hex');
}

/** The URL (path and query, relative to the orchestrator) for this grant. */
export function signTransfer(g: TransferGrant, secret: string): string {
  const q = new URLSearchParams({
    path: g.path,
    method: g.method,
    expires: String(g.expires),
    ...(g.task === undefined ? {} : { task: g.task }),
    sig: signature(g, secret),
  });
  return `${TRANSFER_ROUTE}?${q}`;
}

export type TransferCheck = { ok: true; grant: TransferGrant } | { ok: false; why: string };

/** Whether the query grants `method` on its path now (`now` in unix seconds). */
export function checkTransfer(
  query: Readonly<Record<string, unknown>>,
  method: TransferMethod,
  secret: string,
  now: number,
): TransferCheck {
  const { path, expires, sig } = query;
  if (typeof path !== 'string' || typeof expires !== 'string' || typeof sig !== 'string')
    return { ok: false, why: 'the URL lacks its path, expiry or signature' };
  if (query.method !== method) return { ok: false, why: `the URL does not grant ${method}` };
  const exp = Number(expires);
  if (!/^\d{1,12}$/.test(expires) || !Number.isSafeInteger(exp)) return { ok: false, why: 'bad expiry' };
  const { task } = query;
  if (task !== undefined && typeof task !== 'string') return { ok: false, why: 'bad task' };
  const grant: TransferGrant = { path, method, expires: exp, ...(task === undefined ? {} : { task }) };
  const want = Buffer.from(signature(grant, secret), 'hex');
  const got = /^[0-9a-f]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(0);
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return { ok: false, why: 'the signature does not match' };
  if (exp < now) return { ok: false, why: 'the URL has expired' };
  return { ok: true, grant };
}
