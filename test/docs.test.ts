import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../src/config/index.js';
import { ERROR_CODES, errorsDocument, ISSUE_CODES, OPERATORS, operatorTable } from '../src/core/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function section(name: string): string {
  const m = new RegExp(`<!-- ${name}:start[^>]*-->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`README has no ${name} section`);
  return m[1]!;
}

describe('generated docs stay in step with the code (npm run docs regenerates them)', () => {
  it('README operator table = the registry', () => {
    expect(section('operators')).toBe(operatorTable());
    for (const name of OPERATORS.keys()) expect(section('operators')).toContain(`| \`${name}\` |`);
  });

  it('README settings table = the config schemas', () => {
    expect(section('settings')).toBe(settingsTable());
  });

  it('docs/errors.md = the error registry, every code listed', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(errorsDocument());
    for (const code of [...Object.keys(ERROR_CODES), ...Object.keys(ISSUE_CODES)])
      expect(doc).toContain(`| \`${code}\` |`);
  });

  it('README shows the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
