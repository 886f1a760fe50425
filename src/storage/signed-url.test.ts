import { describe, expect, it } from 'vitest';
import { checkTransfer, signTransfer } from './signed-url.js';

const SECRET = 'a'.repeat(64);
const query = (url: string) => Object.fromEntries(new URL(url, 'http://x').searchParams);

describe('signed transfer URLs', () => {
  const url = signTransfer({ path: '/media/in put.mp4', method: 'GET', expires: 1000 }, SECRET);

  it('grant what they say until they expire', () => {
    expect(url.startsWith('/api/v1/transfer?')).toBe(true);
    expect(checkTransfer(query(url), 'GET', SECRET, 1000)).toEqual({
      ok: true,
      grant: { path: '/media/in put.mp4', method: 'GET', expires: 1000 },
    });
    expect(checkTransfer(query(url), 'GET', SECRET, 1001)).toEqual({ ok: false, why: 'the URL has expired' });
  });

  it.each<[string, (q: Record<string, string>) => Record<string, unknown>, 'GET' | 'PUT', string]>([
    ['another path', (q) => ({ ...q, path: '/media/other.mp4' }), 'GET', 'the signature does not match'],
    ['a later expiry', (q) => ({ ...q, expires: '2000' }), 'GET', 'the signature does not match'],
    ['another method', (q) => ({ ...q, method: 'PUT' }), 'PUT', 'the signature does not match'],
    ['used for PUT', (q) => q, 'PUT', 'the URL does not grant PUT'],
    ['no signature', ({ sig: _sig, ...q }) => q, 'GET', 'the URL lacks its path, expiry or signature'],
    ['a short signature', (q) => ({ ...q, sig: 'abcd' }), 'GET', 'the signature does not match'],
    ['a signature not hex', (q) => ({ ...q, sig: 'z'.repeat(64) }), 'GET', 'the signature does not match'],
    ['an expiry not a number', (q) => ({ ...q, expires: '1e3' }), 'GET', 'bad expiry'],
    [
      'a path given twice',
      (q) => ({ ...q, path: ['/a', '/b'] }),
      'GET',
      'the URL lacks its path, expiry or signature',
    ],
  ])('refuse %s', (_name, change, method, why) => {
    expect(checkTransfer(change(query(url)), method, SECRET, 0)).toEqual({ ok: false, why });
  });

  it('bind an upload to a task attempt: the attempt is signed too', () => {
    const put = signTransfer(
      { path: '/media/out.mp4', method: 'PUT', expires: 1000, task: 'j:1:t0#2' },
      SECRET,
    );
    expect(checkTransfer(query(put), 'PUT', SECRET, 0)).toEqual({
      ok: true,
      grant: { path: '/media/out.mp4', method: 'PUT', expires: 1000, task: 'j:1:t0#2' },
    });
    const other = { ...query(put), task: 'j:1:t0#3' };
    expect(checkTransfer(other, 'PUT', SECRET, 0)).toEqual({
      ok: false,
      why: 'the signature does not match',
    });
    const { task: _task, ...without } = query(put);
    expect(checkTransfer(without, 'PUT', SECRET, 0)).toEqual({
      ok: false,
      why: 'the signature does not match',
    });
  });

  it('are refused under another secret', () => {
    expect(checkTransfer(query(url), 'GET', 'b'.repeat(64), 0)).toEqual({
      ok: false,
      why: 'the signature does not match',
    });
  });
});
