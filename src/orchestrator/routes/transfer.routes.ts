/**
 * /api/v1/transfer: a worker without shared storage fetches a task's inputs (GET) and uploads its
 * outputs (PUT) here, with the short-lived signed URLs the orchestrator hands it for that task
 * attempt (storage/signed-url.ts). No API key: the URL is the credential, for one file and one
 * method. Files are read and written only under the media roots; an upload is streamed to a
 * temporary name beside its destination, its SHA-256 compared with what the worker says it sent,
 * and renamed into place only when they agree: a destination is the whole file or untouched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, TRANSFER_CHECKSUM_HEADER as CHECKSUM_HEADER } from '../../core/index.js';
import {
  checkTransfer,
  confirmSource,
  prepareDestination,
  relativeToRoots,
  TRANSFER_ROUTE,
  type TransferMethod,
} from '../../storage/index.js';
import type { OrchestratorDeps } from '../deps.js';

export async function transferRoutes(app: FastifyInstance, deps: OrchestratorDeps): Promise<void> {
  const { roots } = deps;
  const secret = () => deps.control.transferSecret();

  // The body of an upload is the file: read as a stream by the handler, never buffered.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  const granted = async (req: FastifyRequest, method: TransferMethod) => {
    const check = checkTransfer(
      req.query as Record<string, unknown>,
      method,
      await secret(),
      Math.floor(Date.now() / 1000),
    );
    if (!check.ok) throw new AppError('forbidden', `this transfer URL is not valid: ${check.why}`);
    return check.grant;
  };

  /** An upload lands only for the attempt that holds its task now (a stale one would overwrite a newer result). */
  const stillHeld = async (task: string | undefined, path: string) => {
    const answer = task ? await deps.control.mayUpload(task, path) : 'forbidden';
    if (answer === 'forbidden')
      throw new AppError('forbidden', 'this upload is not one of its task’s outputs');
    if (answer === 'stale')
      throw new AppError('stale_attempt', 'the attempt this upload was for no longer holds its task');
  };

  app.get(TRANSFER_ROUTE, { schema: { hide: true } }, async (req, reply) => {
    const path = await confirmSource((await granted(req, 'GET')).path, roots);
    const s = await stat(path);
    if (!s.isFile()) throw new AppError('input_not_found', 'not a file');
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(s.size))
      .send(createReadStream(path));
  });

  app.put(TRANSFER_ROUTE, { schema: { hide: true } }, async (req, reply) => {
    const { path, task } = await granted(req, 'PUT');
    await stillHeld(task, path);
    const expected = String(req.headers[CHECKSUM_HEADER] ?? '');
    if (!/^[0-9a-f]{64}$/.test(expected))
      throw new AppError('invalid_request', `an upload must say its SHA-256 in ${CHECKSUM_HEADER}`);
    if (!(req.body as Readable | undefined)?.pipe)
      throw new AppError('invalid_request', 'an upload is sent as application/octet-stream');
    const final = await prepareDestination(path, roots);
    const temp = `${final}.upload-${randomBytes(4).toString('hex')}.part`;
    const hash = createHash('sha256');
    try {
      const body = req.body as Readable;
      body.on('data', (c: Buffer) => hash.update(c));
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
      const got = hash.digest('hex');
      if (got !== expected)
        throw new AppError(
          'output_write_failed',
          `the upload of ${relativeToRoots(path, roots)} arrived damaged (SHA-256 ${got}, sent ${expected}); send it again`,
        );
      // On disk before it takes the destination's name: a crash leaves the old file or the new one.
      const fd = await open(temp, 'r');
      try {
        await fd.sync();
      } finally {
        await fd.close();
      }
      // Again at the end: the attempt may have been taken back while the bytes came.
      await stillHeld(task, path);
      await rename(temp, final);
    } finally {
      await rm(temp, { force: true }).catch(() => {});
    }
    return reply.status(204).send();
  });
}
