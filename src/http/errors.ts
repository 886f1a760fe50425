/**
 * One error handler for the API: every failure leaves as `{error, message, code}` (plus
 * `details` and `request_id`), with codes from the registry. A 5xx tells only the registry's
 * summary; what went wrong is in the log, under the same request id.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, formatPath, type Issue, isAppError, validationError } from '../core/index.js';

function fromFastify(err: FastifyError): AppError {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext === 'body' ? '' : `${err.validationContext ?? 'request'}.`;
    const details: Issue[] = err.validation.map((v) => {
      const zodCode = (v.params.issue as { code?: string } | undefined)?.code;
      const code: Issue['code'] =
        zodCode === 'unrecognized_keys'
          ? 'unknown_key'
          : zodCode === 'invalid_type'
            ? 'invalid_type'
            : zodCode === 'too_big' || zodCode === 'too_small'
              ? 'out_of_range'
              : zodCode === 'invalid_format'
                ? 'invalid_format'
                : 'invalid_value';
      return {
        path: `${where}${formatPath(v.instancePath.split('/').filter(Boolean))}`.replace(/\.$/, ''),
        code,
        message: v.message ?? 'invalid',
      };
    });
    return validationError(details);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'the request body is larger than the configured limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_request', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'the Content-Length does not match the body');
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.code === undefined))
    return new AppError('invalid_request', `the body is not valid JSON: ${err.message}`);
  if (err.statusCode === 429) return new AppError('rate_limited', err.message);
  if (err.statusCode === 413) return new AppError('payload_too_large', 'the request body is too large');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
    return new AppError('invalid_request', err.message);
  return new AppError('internal_error', err.message, { cause: err });
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = isAppError(err) ? err : fromFastify(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: e.code }, e.message);
    reply.status(e.status).send({ ...e.toBody(), request_id: req.id });
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    reply.status(404).send({ ...e.toBody(), request_id: req.id });
  });
}
