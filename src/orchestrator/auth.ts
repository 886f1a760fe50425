/**
 * API keys: `Authorization: Bearer <key>` or `X-API-Key: <key>`. Every route needs one except
 * the probes (/health, /healthz, /readyz), /metrics and the API's own description (/docs, the
 * OpenAPI document): a description is not a secret, and a browser cannot add a key to it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/index.js';
import type { KeysRepository, Principal } from '../db/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const PUBLIC = [
  /^\/health$/,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/docs(\/|$)/,
  /^\/api\/v1\/openapi\.json$/,
  // A signed URL is its own credential (routes/transfer.routes.ts).
  /^\/api\/v1\/transfer$/,
];

/**
 * Calls a worker makes, with its own credential (an enrolment token to enrol, then its secret):
 * the worker routes check it themselves (workers.routes.ts).
 */
const WORKER_CALLS = [
  /^\/api\/v1\/workers$/,
  /^\/api\/v1\/workers\/[^/]+\/(session|heartbeat|storage)$/,
  /^\/api\/v1\/tasks\/[^/]+\/events$/,
  /^\/api\/v1\/tasks\/[^/]+\/transfer$/,
];

export function isWorkerCall(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0]!;
  return req.method === 'POST' && WORKER_CALLS.some((r) => r.test(path));
}

export function presentedKey(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) return m[1]!;
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x : null;
}

/** A few seconds of memory per key: a database read per request is most of a submit's cost. */
class PrincipalCache {
  readonly #entries = new Map<string, { p: Principal; until: number }>();
  get(key: string): Principal | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until < Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.p;
  }
  set(key: string, p: Principal): void {
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(key, { p, until: Date.now() + 5000 });
  }
  forgetKeyId(keyId: string): void {
    for (const [k, e] of this.#entries) if (e.p.keyId === keyId) this.#entries.delete(k);
  }
}

export function installAuth(app: FastifyInstance, keys: KeysRepository): { forget(keyId: string): void } {
  const cache = new PrincipalCache();
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (PUBLIC.some((r) => r.test(path)) || isWorkerCall(req)) return;
    const key = presentedKey(req);
    if (!key)
      throw new AppError('unauthorized', 'an API key is required (Authorization: Bearer <key> or X-API-Key)');
    if (key.length > 512) throw new AppError('unauthorized', 'the API key is not valid');
    let p = cache.get(key);
    if (!p) {
      p = (await keys.authenticate(key)) ?? undefined;
      if (!p) throw new AppError('unauthorized', 'the API key is not valid');
      cache.set(key, p);
      void keys.touch(p.keyId).catch(() => {});
    }
    req.principal = p;
  });
  return { forget: (id) => cache.forgetKeyId(id) };
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('unauthorized', 'an API key is required');
  return req.principal;
}

/** The owner filter for a request: admins see every job, users their own. */
export function ownerScope(req: FastifyRequest): string | undefined {
  const p = principalOf(req);
  return p.role === 'admin' ? undefined : p.userId;
}
