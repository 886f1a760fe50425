/** docs/errors.md, generated from the error registry. */
import { ERROR_CODES, ISSUE_CODES } from './errors.js';

export function errorsDocument(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error body is `{"error": "<code>", "message": "...", "code": <HTTP status>}`; a `validation_error` adds `details: [{path, code, message}]`.',
    'The CLI prints `error: <code>: <message>` and exits 2 for an invalid spec, 1 for a failed run.',
    '',
    '| error | status | meaning |',
    '| --- | --- | --- |',
    ...Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.summary} |`),
    '',
    '## Validation problems (`details[].code`)',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...Object.entries(ISSUE_CODES).map(([code, summary]) => `| \`${code}\` | ${summary} |`),
    '',
  ];
  return lines.join('\n');
}
