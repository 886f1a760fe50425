/**
 * Hostile and broken requests through the real API (Fastify inject on the in-process
 * orchestrator, its local worker and FFmpeg): each is refused with its documented 4xx code, or
 * accepted and then failed by the job with a clear code. Never a 5xx, never a file outside the
 * media root, never a read of a file outside it.
 *
 * A case with `bug` set asserts the correct behaviour and is expected to fail today (it.fails):
 * the comment beside it says why and what would fix it.
 */
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import { atimeMs, markUnread, snapshot } from './helpers/fs-state.js';
import { startTestOrchestrator, type TestOrchestrator, waitForJob } from './helpers/orchestrator.js';
import { listFiles, tempRoot } from './helpers/pipeline.js';

/** Paths the cases point at: the media root, a folder beside it holding a real clip, an empty canary. */
interface Env {
  root: string;
  /** Outside every root: `secret.mp4` (a real clip, so a job that read it would succeed) and `passwd.txt`. */
  outside: string;
  /** Outside every root and empty: outputs aimed here must never land. */
  canary: string;
}

interface Req {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url?: string;
  headers?: Record<string, string>;
  /** Sent as JSON (application/json). */
  body?: unknown;
  /** Sent as is, with `headers['content-type']` or application/json. */
  raw?: string;
  /** false: no API key. */
  auth?: false;
}

interface Refusal {
  name: string;
  request: Req | ((e: Env) => Req);
  status: number;
  /** `error` of the body. */
  code: string;
  /** For a validation_error: one of `details` must say this. */
  detail?: { code: string; path?: string };
  /** Why this case fails today (it.fails until fixed). */
  bug?: string;
}

interface JobCase {
  name: string;
  body: unknown | ((e: Env) => unknown);
  /** The job's error code, or null when the job must complete. */
  code: string | null;
  /** For a completed job: the files (relative to the root) it must have written. */
  writes?: string[];
  bug?: string;
}

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };

/** One input, optional operations, one output: the smallest real job. */
function job(o: { source?: string; destination?: string; operations?: unknown[]; id?: string } = {}) {
  return {
    spec: {
      inputs: [{ id: 'in', source: o.source ?? 'in.mp4' }],
      operations: o.operations ?? [],
      outputs: [{ id: o.id ?? 'in', destination: o.destination ?? 'out/ok.mp4', codec: FAST }],
    },
  };
}
const op = (name: string, params: unknown) =>
  job({ operations: [{ op: name, input: 'in', output: 'x', params }], id: 'x' });
const withEnvelope = (extra: Record<string, unknown>) => ({ ...job(), ...extra });
const source = (s: string) => job({ source: s });
const destination = (d: string) => job({ destination: d });

const spec = (key: string) => `spec.${key}`;

const REFUSALS: Refusal[] = [
  // ---- the body itself
  {
    name: 'malformed JSON',
    request: { raw: '{"spec": {"inputs": [' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'JSON with a trailing comma',
    request: { raw: '{"spec": {},}' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'content-type application/xml',
    request: { raw: '<spec/>', headers: { 'content-type': 'application/xml' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'content-type application/x-www-form-urlencoded',
    request: { raw: 'spec=in.mp4', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'content-type text/plain carrying a valid JSON job',
    request: { raw: JSON.stringify(job()), headers: { 'content-type': 'text/plain' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'empty body with content-type JSON', request: { raw: '' }, status: 400, code: 'invalid_request' },
  { name: 'no body at all', request: {}, status: 400, code: 'invalid_request' },
  { name: 'top-level array', request: { body: [job()] }, status: 400, code: 'invalid_request' },
  { name: 'top-level string', request: { raw: '"in.mp4"' }, status: 400, code: 'invalid_request' },
  { name: 'top-level null', request: { raw: 'null' }, status: 400, code: 'invalid_request' },
  {
    name: '__proto__ key (prototype poisoning)',
    request: { raw: `{"spec": ${JSON.stringify(job().spec)}, "__proto__": {"admin": true}}` },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: '100 000 nested arrays (deep JSON)',
    request: { raw: `{"spec": ${'['.repeat(100_000)}${']'.repeat(100_000)}}` },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_type' },
  },
  {
    name: 'a body over body_limit_bytes (1 MiB)',
    request: { body: { spec: { inputs: [{ id: 'a', source: 'x'.repeat(1_200_000) }] } } },
    status: 413,
    code: 'payload_too_large',
  },
  { name: '{"spec": null}', request: { body: { spec: null } }, status: 400, code: 'missing_spec' },
  { name: 'no spec: {}', request: { body: {} }, status: 400, code: 'missing_spec' },
  { name: 'no spec: {"priority": 1}', request: { body: { priority: 1 } }, status: 400, code: 'missing_spec' },
  {
    name: 'spec is a string',
    request: { body: { spec: 'in.mp4' } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_type', path: 'spec' },
  },
  {
    name: 'spec.inputs is a string',
    request: { body: { spec: { ...job().spec, inputs: 'in.mp4' } } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_type', path: spec('inputs') },
  },
  {
    name: 'spec.outputs[0].destination is a number',
    request: { body: { spec: { ...job().spec, outputs: [{ id: 'in', destination: 42 }] } } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_type', path: spec('outputs[0].destination') },
  },
  {
    name: 'no inputs',
    request: { body: { spec: { ...job().spec, inputs: [] } } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('inputs') },
  },
  {
    name: 'unknown key inside the spec',
    request: { body: { spec: { ...job().spec, colour: 'red' } } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'unknown_key', path: spec('colour') },
  },

  // ---- the graph
  {
    name: 'unknown operator',
    request: { body: op('explode', {}) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'unknown_operator', path: spec('operations[0].op') },
  },
  {
    name: 'cycle a → b → a',
    request: {
      body: job({
        operations: [
          { op: 'scale', input: 'b', output: 'a', params: { width: 64 } },
          { op: 'scale', input: 'a', output: 'b', params: { width: 64 } },
        ],
        id: 'a',
      }),
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'cycle' },
  },
  {
    name: 'dangling reference from an operation',
    request: {
      body: job({
        operations: [{ op: 'scale', input: 'ghost', output: 'x', params: { width: 64 } }],
        id: 'x',
      }),
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'unknown_reference', path: spec('operations[0].input') },
  },
  {
    name: 'dangling reference from an output',
    request: { body: job({ id: 'ghost' }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'unknown_reference', path: spec('outputs[0].id') },
  },
  {
    name: 'duplicate input ids',
    request: {
      body: {
        spec: {
          ...job().spec,
          inputs: [
            { id: 'in', source: 'in.mp4' },
            { id: 'in', source: 'in.mp4' },
          ],
        },
      },
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'duplicate_id', path: spec('inputs[1].id') },
  },
  {
    name: 'an id that is a shell command',
    request: { body: { spec: { ...job().spec, inputs: [{ id: 'in;rm -rf /', source: 'in.mp4' }] } } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_format', path: spec('inputs[0].id') },
  },
  {
    name: 'too many outputs (17 > max_outputs 16)',
    request: {
      body: {
        spec: {
          ...job().spec,
          outputs: Array.from({ length: 17 }, (_, i) => ({ id: 'in', destination: `out/${i}.mp4` })),
        },
      },
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('outputs') },
  },
  {
    name: 'too many inputs (17 > max_inputs 16)',
    request: {
      body: {
        spec: {
          ...job().spec,
          inputs: Array.from({ length: 17 }, (_, i) => ({ id: `i${i}`, source: 'in.mp4' })),
        },
      },
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('inputs') },
  },

  // ---- parameters
  ...(
    [
      ['scale width -5', op('scale', { width: -5 }), 'out_of_range', 'width'],
      ['scale width 0', op('scale', { width: 0 }), 'out_of_range', 'width'],
      ['scale width 1e9', op('scale', { width: 1e9 }), 'out_of_range', 'width'],
      ['scale width "640" (a string)', op('scale', { width: '640' }), 'invalid_type', 'width'],
      ['scale width "NaN"', op('scale', { width: 'NaN' }), 'invalid_type', 'width'],
      ['scale width 2.5', op('scale', { width: 2.5 }), 'invalid_type', 'width'],
      ['fps 0', op('fps', { fps: 0 }), 'invalid_format', 'fps'],
      ['fps -30', op('fps', { fps: -30 }), 'invalid_format', 'fps'],
      ['fps 1e9', op('fps', { fps: 1e9 }), 'out_of_range', 'fps'],
      ['fps "fast"', op('fps', { fps: 'fast' }), 'invalid_format', 'fps'],
      ['trim start "-1"', op('trim', { start: '-1' }), 'invalid_format', 'start'],
      ['trim duration "Infinity"', op('trim', { duration: 'Infinity' }), 'invalid_format', 'duration'],
      ['trim duration as an option "-t 1"', op('trim', { duration: '-t 1' }), 'invalid_format', 'duration'],
      ['volume factor 1e308', op('volume', { factor: 1e308 }), 'out_of_range', 'factor'],
    ] as const
  ).map(
    ([name, body, code, param]): Refusal => ({
      name,
      request: { body },
      status: 400,
      code: 'validation_error',
      detail: { code, path: spec(`operations[0].params.${param}`) },
    }),
  ),
  {
    name: 'crf 1e9',
    request: {
      body: {
        spec: {
          ...job().spec,
          outputs: [{ id: 'in', destination: 'o.mp4', codec: { video: { codec: 'h264', crf: 1e9 } } }],
        },
      },
    },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('outputs[0].codec.video.crf') },
  },

  // ---- paths out of the media root
  ...(
    [
      ['source ../../etc/passwd', () => source('../../etc/passwd'), 'inputs[0].source'],
      ['source ../ into the data dir', () => source('../db/PG_VERSION'), 'inputs[0].source'],
      ['source /etc/passwd', () => source('/etc/passwd'), 'inputs[0].source'],
      [
        'source: absolute path of a clip outside',
        (e: Env) => source(join(e.outside, 'secret.mp4')),
        'inputs[0].source',
      ],
      ['source file:///etc/passwd', () => source('file:///etc/passwd'), 'inputs[0].source'],
      [
        'source file:// of a clip outside',
        (e: Env) => source(`file://${e.outside}/secret.mp4`),
        'inputs[0].source',
      ],
      [
        'source file:// with %2e%2e out of the root',
        (e: Env) => source(`file://${e.root}/%2e%2e/%2e%2e/etc/passwd`),
        'inputs[0].source',
      ],
      ['source /proc/self/environ', () => source('/proc/self/environ'), 'inputs[0].source'],
      ['destination ../escape.mp4', () => destination('../escape.mp4'), 'outputs[0].destination'],
      ['destination a/../../escape.mp4', () => destination('a/../../escape.mp4'), 'outputs[0].destination'],
      [
        'destination absolute in the canary',
        (e: Env) => destination(join(e.canary, 'out.mp4')),
        'outputs[0].destination',
      ],
      [
        'destination file:// in the canary',
        (e: Env) => destination(`file://${e.canary}/out.mp4`),
        'outputs[0].destination',
      ],
      [
        'destination file://localhost/tmp',
        (e: Env) => destination(`file://localhost${e.canary}/o.mp4`),
        'outputs[0].destination',
      ],
    ] as const
  ).map(
    ([name, body, path]): Refusal => ({
      name,
      request: (e) => ({ body: body(e) }),
      status: 400,
      code: 'validation_error',
      detail: { code: 'path_outside_root', path: spec(path) },
    }),
  ),

  // ---- schemes that are not local files
  ...(
    [
      ['source ftp://', source('ftp://example.com/a.mp4'), 'inputs[0].source'],
      ['source gopher://', source('gopher://example.com/1/a.mp4'), 'inputs[0].source'],
      ['source data:', source('data:video/mp4;base64,AAAAIGZ0eXBpc29t'), 'inputs[0].source'],
      ['source concat:', source('concat:in.mp4|/etc/passwd'), 'inputs[0].source'],
      ['source subfile:', source('subfile:in.mp4'), 'inputs[0].source'],
      ['source pipe:0', source('pipe:0'), 'inputs[0].source'],
      ['source http:// (not supported yet)', source('http://127.0.0.1:1/a.mp4'), 'inputs[0].source'],
      ['source https:// (not supported yet)', source('https://example.com/a.mp4'), 'inputs[0].source'],
      [
        'source file://host/ (a remote file URL)',
        source('file://example.com/etc/passwd'),
        'inputs[0].source',
      ],
      ['destination http://', destination('http://example.com/out.mp4'), 'outputs[0].destination'],
      ['destination pipe:1', destination('pipe:1'), 'outputs[0].destination'],
    ] as const
  ).map(
    ([name, body, path]): Refusal => ({
      name,
      request: { body },
      status: 400,
      code: 'validation_error',
      detail: { code: 'unsupported_source', path: spec(path) },
    }),
  ),

  // ---- bytes and lengths
  {
    name: 'NUL byte in a source',
    request: { body: source('in.mp4\u0000.txt') },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_value', path: spec('inputs[0].source') },
  },
  {
    name: 'NUL byte in a destination',
    request: { body: destination('out\u0000/../../x.mp4') },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_value', path: spec('outputs[0].destination') },
  },
  {
    name: '%00 in a file:// source',
    request: (e) => ({ body: source(`file://${e.root}/in.mp4%00.txt`) }),
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_value', path: spec('inputs[0].source') },
  },
  {
    name: 'a source path over 4096 characters',
    request: { body: source(`${'a/'.repeat(2100)}in.mp4`) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('inputs[0].source') },
  },
  {
    name: 'a destination path over 4096 characters',
    request: { body: destination(`${'d'.repeat(4100)}.mp4`) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('outputs[0].destination') },
  },
  {
    name: 'source "." (the media root itself)',
    request: { body: source('.') },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_value', path: spec('inputs[0].source') },
  },
  {
    name: 'a source name of 300 bytes (over NAME_MAX)',
    request: { body: source(`${'n'.repeat(296)}.mp4`) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('inputs[0].source') },
  },
  {
    name: 'a destination folder name of 256 bytes (over NAME_MAX)',
    request: { body: destination(`${'é'.repeat(128)}/out.mp4`) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('outputs[0].destination') },
  },
  {
    name: 'a destination under 4096 characters that is over PATH_MAX under the root',
    request: { body: destination(`${'d/'.repeat(2040)}x.mp4`) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: spec('outputs[0].destination') },
  },

  // ---- the envelope
  {
    name: 'idempotency_key of 256 characters',
    request: { body: withEnvelope({ idempotency_key: 'k'.repeat(256) }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: 'idempotency_key' },
  },
  {
    name: 'Idempotency-Key header of 300 characters',
    request: { body: job(), headers: { 'idempotency-key': 'k'.repeat(300) } },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: 'idempotency_key' },
  },
  {
    name: 'empty idempotency_key',
    request: { body: withEnvelope({ idempotency_key: '' }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: 'idempotency_key' },
  },
  {
    name: 'priority 101',
    request: { body: withEnvelope({ priority: 101 }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: 'priority' },
  },
  {
    name: 'priority -1e9',
    request: { body: withEnvelope({ priority: -1e9 }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'out_of_range', path: 'priority' },
  },
  {
    name: 'priority "high"',
    request: { body: withEnvelope({ priority: 'high' }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'invalid_type', path: 'priority' },
  },
  ...['ftp://example.com/hook', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://127.0.0.1:6379/_'].map(
    (url): Refusal => ({
      name: `callback_url ${url.split(':')[0]}:`,
      request: { body: withEnvelope({ callback_url: url }) },
      status: 400,
      code: 'validation_error',
      detail: { code: 'invalid_format', path: 'callback_url' },
    }),
  ),
  {
    name: 'unknown top-level key',
    request: { body: withEnvelope({ colour: 'red' }) },
    status: 400,
    code: 'validation_error',
    detail: { code: 'unknown_key', path: 'colour' },
  },

  // ---- other routes and methods
  {
    name: 'unknown job id',
    request: { method: 'GET', url: '/api/v1/jobs/00000000-0000-0000-0000-000000000000' },
    status: 404,
    code: 'job_not_found',
  },
  {
    name: 'job id that is not a UUID',
    request: { method: 'GET', url: '/api/v1/jobs/not-a-job' },
    status: 404,
    code: 'job_not_found',
  },
  {
    name: 'job id ../../etc/passwd (encoded)',
    request: { method: 'GET', url: `/api/v1/jobs/${encodeURIComponent('../../etc/passwd')}` },
    status: 404,
    code: 'job_not_found',
  },
  {
    name: 'cancel an unknown job',
    request: { method: 'POST', url: '/api/v1/jobs/00000000-0000-0000-0000-000000000000/cancel' },
    status: 404,
    code: 'job_not_found',
  },
  { name: 'no API key', request: { body: job(), auth: false }, status: 401, code: 'unauthorized' },
];

const JOBS: JobCase[] = [
  { name: 'a missing file', body: source('missing.mp4'), code: 'input_not_found' },
  { name: 'a text file named .mp4', body: source('notes.mp4'), code: 'input_not_media' },
  { name: 'an empty file', body: source('empty.mp4'), code: 'input_not_media' },
  { name: 'a folder named .mp4', body: source('folder.mp4'), code: 'input_not_media' },
  { name: 'source "-i" (a missing file, never an option)', body: source('-i'), code: 'input_not_found' },
  {
    name: 'source "subfile,,start,0,end,9,,:in.mp4" is a file name, not the subfile protocol',
    body: source('subfile,,start,0,end,9,,:in.mp4'),
    code: 'input_not_found',
  },
  {
    name: 'destination "-y.mp4" is written as a file under the root',
    body: destination('-y.mp4'),
    code: null,
    writes: ['-y.mp4'],
  },
  {
    name: 'destination "-f.mp4" in a folder "-map" is written under the root',
    body: destination('-map/-f.mp4'),
    code: null,
    writes: ['-map/-f.mp4'],
  },
  {
    name: 'an HLS playlist whose segment is a clip outside the root',
    body: source('outside.m3u8'),
    code: 'input_not_allowed',
  },
  {
    name: 'an HLS playlist named .mp4 whose segment is reached through ../',
    body: source('relative.mp4'),
    code: 'input_not_allowed',
  },
  {
    name: 'an ffconcat list naming a clip outside the root',
    body: source('list.ffconcat'),
    code: 'input_not_allowed',
  },
  {
    name: 'an ffconcat list named .mp4 naming /etc/passwd',
    body: source('passwd-list.mp4'),
    code: 'input_not_allowed',
  },
  {
    name: 'a symlink inside the root to a clip outside it',
    body: source('link.mp4'),
    code: 'path_outside_root',
  },
  {
    name: 'a destination under a symlinked folder that leads outside',
    body: destination('linked/out.mp4'),
    code: 'path_outside_root',
  },
  {
    name: 'destination "-" (no extension, never stdout): refused when planned',
    body: destination('-'),
    code: 'validation_error',
  },
  {
    name: 'a destination name of 240 bytes (legal, under NAME_MAX)',
    body: destination(`${'n'.repeat(236)}.mp4`),
    code: null,
    writes: [`${'n'.repeat(236)}.mp4`],
  },
];

function looksLikeAppError(body: unknown, status: number, code: string) {
  expect(body).toMatchObject({ error: code, code: status });
  expect(typeof (body as { message?: unknown }).message).toBe('string');
}

describe('hostile requests through the API', () => {
  let t: TestOrchestrator;
  let alice: Record<string, string>;
  let env: Env;
  let secret: string;
  let secretAtime: number;
  let outsideBefore: string[];
  /** What the completed jobs wrote, relative to the root. */
  const written = new Set<string>();

  beforeAll(async () => {
    t = await startTestOrchestrator(TEST_DATABASES[0]!);
    alice = await t.user('alice');
    await t.clip('in.mp4', 1);
    env = { root: t.root, outside: tempRoot('mf-outside-'), canary: tempRoot('mf-canary-') };

    const root = t.root;
    secret = join(env.outside, 'secret.mp4');
    await copyFile(join(root, 'in.mp4'), secret);
    await writeFile(join(env.outside, 'passwd.txt'), 'root:x:0:0::/root:/bin/sh\n');

    await writeFile(join(root, 'notes.mp4'), 'hello, this is text\nnot a video\n');
    await writeFile(join(root, 'empty.mp4'), '');
    await mkdir(join(root, 'folder.mp4'));
    const hls = (segment: string) =>
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n${segment}\n#EXT-X-ENDLIST\n`;
    await writeFile(join(root, 'outside.m3u8'), hls(secret));
    await writeFile(join(root, 'relative.mp4'), hls(relative(root, secret)));
    await writeFile(join(root, 'list.ffconcat'), `ffconcat version 1.0\nfile '${secret}'\n`);
    await writeFile(join(root, 'passwd-list.mp4'), "ffconcat version 1.0\nfile '/etc/passwd'\n");
    await symlink(secret, join(root, 'link.mp4'));
    await symlink(env.canary, join(root, 'linked'));

    // Proves the detector works here: a read moves an atime set far before the mtime.
    markUnread(secret);
    secretAtime = atimeMs(secret);
    outsideBefore = snapshot(env.outside);
  });
  afterAll(async () => t?.close());

  const send = (r: Req) => {
    const headers: Record<string, string> = { ...(r.auth === false ? {} : alice), ...r.headers };
    let payload: string | undefined;
    if (r.raw !== undefined) payload = r.raw;
    else if (r.body !== undefined) payload = JSON.stringify(r.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    return t.app.inject({
      method: r.method ?? 'POST',
      url: r.url ?? '/api/v1/jobs',
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
  };

  describe('refused with their documented 4xx', () => {
    for (const c of REFUSALS) {
      (c.bug ? it.fails : it)(
        `${c.name} → ${c.status} ${c.code}${c.detail ? `/${c.detail.code}` : ''}`,
        async () => {
          const r = await send(typeof c.request === 'function' ? c.request(env) : c.request);
          const body = r.json();
          expect(r.statusCode, JSON.stringify(body).slice(0, 500)).toBe(c.status);
          looksLikeAppError(body, c.status, c.code);
          if (c.detail) {
            expect(body.details).toEqual(
              expect.arrayContaining([
                expect.objectContaining(c.detail.path ? c.detail : { code: c.detail.code }),
              ]),
            );
          }
        },
      );
    }
  });

  describe('accepted, then failed by the job with a clear code', () => {
    for (const c of JOBS) {
      (c.bug ? it.fails : it)(`${c.name} → ${c.code ?? 'completed'}`, async () => {
        const r = await send({ body: typeof c.body === 'function' ? c.body(env) : c.body });
        expect(r.statusCode, r.body.slice(0, 500)).toBe(201);
        const done = await waitForJob(t.app, alice, r.json().job_id);
        if (done.status === 'completed') for (const f of c.writes ?? []) written.add(f);
        if (c.code === null) {
          expect(done.status, JSON.stringify(done.error)).toBe('completed');
          const files = (done.output_files as Array<{ files: string[] }>).flatMap((o) => o.files);
          expect(files).toEqual(c.writes);
          for (const f of c.writes ?? []) expect(listFiles(t.root)).toContain(f);
          return;
        }
        expect(done.status).toBe('failed');
        const error = done.error as { code: string; message: string; retryable: boolean };
        expect(error, error.message).toMatchObject({ code: c.code, retryable: false });
        expect(error.message.length).toBeGreaterThan(0);
        expect(error.message).not.toContain(t.root);
      });
    }
  });

  it('wrote nothing outside the media root and read nothing outside it', async () => {
    // Jobs answered 201 are all finished (each case waited); the data dir holds the database and
    // the media root, nothing else.
    const dataFiles = listFiles(t.dataDir);
    const rootRel = relative(t.dataDir, t.root);
    const escaped = dataFiles.filter((f) => !f.startsWith(`${rootRel}/`) && !f.startsWith('db/'));
    expect(escaped).toEqual([]);

    // Inside the root: the fixtures, the outputs of the completed cases and nothing else (no
    // partial or temporary file, no `escape.mp4`).
    expect(listFiles(t.root)).toEqual(
      [
        ...written,
        'empty.mp4',
        'in.mp4',
        'list.ffconcat',
        'notes.mp4',
        'outside.m3u8',
        'passwd-list.mp4',
        'relative.mp4',
      ].sort(),
    );

    expect(snapshot(env.canary)).toEqual([]);
    expect(snapshot(env.outside)).toEqual(outsideBefore);
    expect(atimeMs(secret), 'the clip outside the root was read').toBe(secretAtime);
  });
});
