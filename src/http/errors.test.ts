import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/index.js';
import { installErrorHandling } from './errors.js';

async function appThrowing(err: unknown) {
  const app = Fastify({ logger: false });
  installErrorHandling(app);
  app.get('/boom', async () => {
    throw err;
  });
  return app;
}

describe('the API error handler', () => {
  it('hides what a 5xx was about: only the registry summary leaves', async () => {
    const app = await appThrowing(
      new Error('connect ECONNREFUSED 10.0.0.5:5432 at /srv/mediaforge/db.ts:12'),
    );
    const r = await app.inject({ method: 'GET', url: '/boom' });
    expect(r.statusCode).toBe(500);
    const body = r.json();
    expect(body).toMatchObject({ error: 'internal_error', code: 500 });
    expect(body.message).toBe('An unexpected error; details are in the server log.');
    expect(r.body).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|\/srv/);
    expect(typeof body.request_id).toBe('string');
  });

  it('keeps the message of a 4xx and of every registered 5xx code hides its own', async () => {
    const four = await (await appThrowing(new AppError('job_terminal', 'job x is already completed'))).inject(
      {
        method: 'GET',
        url: '/boom',
      },
    );
    expect(four.json()).toMatchObject({
      error: 'job_terminal',
      code: 400,
      message: 'job x is already completed',
    });
    const five = await (
      await appThrowing(
        new AppError('database_unavailable', 'password authentication failed for user "root"'),
      )
    ).inject({ method: 'GET', url: '/boom' });
    expect(five.statusCode).toBe(503);
    expect(five.body).not.toContain('password');
  });

  it('answers an unknown route with not_found in the same shape', async () => {
    const r = await (await appThrowing(new Error('x'))).inject({ method: 'GET', url: '/nope?x=1' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'not_found', code: 404, message: 'no route GET /nope' });
  });
});
