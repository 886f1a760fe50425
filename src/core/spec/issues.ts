/**
 * zod's problems → our `{path, code, message}` issues: a JSON path such as
 * `operations[1].params.width`, a code from ISSUE_CODES, and a sentence for people.
 */
import type { z } from 'zod';
import type { Issue, IssueCode } from '../errors.js';

export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function codeOf(i: z.core.$ZodIssue): IssueCode {
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined ? 'required' : 'invalid_type';
    case 'too_big':
    case 'too_small':
    case 'not_multiple_of':
      return 'out_of_range';
    case 'invalid_format':
      return 'invalid_format';
    case 'unrecognized_keys':
      return 'unknown_key';
    case 'invalid_union': {
      // A union of forms (number | timecode string): the deepest reason says what is wrong.
      const inner = i.errors.flat()[0];
      return inner ? codeOf(inner) : 'invalid_value';
    }
    case 'invalid_value':
    case 'invalid_key':
    case 'invalid_element':
      return 'invalid_value';
    case 'custom': {
      const tagged = (i.params as { issue?: IssueCode } | undefined)?.issue;
      return tagged ?? 'invalid_value';
    }
  }
}

function messageOf(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_type' && i.input === undefined) return 'is required';
  if (i.code === 'invalid_type') return `expected ${i.expected}`;
  if (i.code === 'unrecognized_keys')
    return `unknown key${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}`;
  if (i.code === 'invalid_union') {
    // A union of forms (number | timecode string): the deepest reason is the useful one.
    const inner = i.errors.flat()[0];
    if (inner) return messageOf(inner);
  }
  return i.message;
}

/** Parse options that make zod keep the input in each issue: `required` vs `invalid_type` needs it. */
export const PARSE_OPTIONS = { reportInput: true } as const;

/** One issue per problem; unknown keys become one issue per key, at the key's own path. */
export function toIssues(error: z.ZodError, prefix = ''): Issue[] {
  const out: Issue[] = [];
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys)
        out.push({
          path: formatPath([...i.path, k], prefix),
          code: 'unknown_key',
          message: `unknown key "${k}"`,
        });
      continue;
    }
    out.push({ path: formatPath(i.path, prefix), code: codeOf(i), message: messageOf(i) });
  }
  return out;
}
