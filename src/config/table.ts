/** The README's settings table, generated from the role schemas. */
import { z } from 'zod';
import { ROLES } from './schema.js';

export function settingsTable(): string {
  const rows = [
    '| setting (YAML) | environment | default | roles | meaning |',
    '| --- | --- | --- | --- | --- |',
  ];
  const seen = new Map<string, { roles: string[]; schema: { description?: string; default?: unknown } }>();
  for (const [role, schema] of Object.entries(ROLES)) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, { description?: string; default?: unknown }>;
    };
    for (const [key, s] of Object.entries(json.properties)) {
      const entry = seen.get(key) ?? { roles: [], schema: s };
      entry.roles.push(role);
      seen.set(key, entry);
    }
  }
  for (const [key, { roles, schema }] of seen) {
    const def = schema.default === undefined ? '—' : `\`${JSON.stringify(schema.default)}\``;
    rows.push(
      `| \`${key}\` | \`MEDIAFORGE_${key.toUpperCase()}\` | ${def} | ${roles.join(', ')} | ${(schema.description ?? '').replace(/\|/g, '\\|')} |`,
    );
  }
  return rows.join('\n');
}
