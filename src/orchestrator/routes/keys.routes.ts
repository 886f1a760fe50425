/** /api/v1/api-keys: admins create keys for users; everyone lists and revokes their own. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ApiKeyView } from '../../db/index.js';
import { principalOf } from '../auth.js';
import type { OrchestratorDeps } from '../deps.js';

const NewKey = z.strictObject({
  user: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'letters, digits and _ . @ -, at most 64')
    .describe('The user the key belongs to; created when new.'),
  role: z.enum(['admin', 'user']).default('user'),
  name: z.string().min(1).max(100).default('default').describe('A label for the key.'),
});

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
const view = (k: ApiKeyView) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  user: k.user,
  role: k.role,
  created_at: iso(k.created_at),
  last_used_at: iso(k.last_used_at),
  revoked_at: iso(k.revoked_at),
});

export async function keysRoutes(
  app: FastifyInstance,
  deps: OrchestratorDeps & { forgetKey: (id: string) => void },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const keys = deps.control.keys;

  r.post(
    '/api/v1/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create a key (admins); the key is in this answer only',
        body: NewKey,
      },
    },
    async (req, reply) => {
      if (principalOf(req).role !== 'admin') throw new AppError('forbidden', 'only admins create API keys');
      const user = await keys.ensureUser(req.body.user, req.body.role);
      const { id, key } = await keys.create(user.id, req.body.name);
      const k = (await keys.get(id))!;
      return reply.status(201).send({ ...view(k), key });
    },
  );

  r.get(
    '/api/v1/api-keys',
    { schema: { tags: ['api-keys'], summary: 'List keys (admins: all)' } },
    async (req) => {
      const p = principalOf(req);
      return { data: (await keys.list(p.role === 'admin' ? undefined : p.userId)).map(view) };
    },
  );

  r.delete(
    '/api/v1/api-keys/:id',
    {
      schema: { tags: ['api-keys'], summary: 'Revoke a key', params: z.object({ id: z.string().max(100) }) },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const ok = await keys.revoke(req.params.id, p.role === 'admin' ? undefined : p.userId);
      if (!ok) throw new AppError('api_key_not_found', `no active API key ${req.params.id}`);
      deps.forgetKey(req.params.id);
      return reply.status(204).send();
    },
  );
}
