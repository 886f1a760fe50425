/**
 * Regenerates the generated parts of the docs from the code: the README's operator and settings
 * tables and docs/errors.md. `node scripts/docs.ts` writes them; with --check it only compares
 * (test/docs.test.ts does the same check in the suite).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../dist/config/index.js';
import { errorsDocument, operatorTable } from '../dist/core/index.js';

export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start (generated: npm run docs) -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README has no ${name} section markers`);
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

const readme = readFileSync('README.md', 'utf8');
const next = replaceSection(
  replaceSection(readme, 'operators', operatorTable()),
  'settings',
  settingsTable(),
);
const errors = errorsDocument();
if (process.argv.includes('--check')) {
  const stale = [
    next !== readme && 'README.md',
    readFileSync('docs/errors.md', 'utf8') !== errors && 'docs/errors.md',
  ].filter(Boolean);
  if (stale.length) {
    console.error(`out of date: ${stale.join(', ')} (run npm run docs)`);
    process.exit(1);
  }
} else {
  writeFileSync('README.md', next);
  writeFileSync('docs/errors.md', errors);
}
