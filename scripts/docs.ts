import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../infra/bundling';
import { SETTINGS, type SettingDeclaration, type SettingReader } from '../lambda/core/settings';

/** The page that holds the configuration table. */
export const CONFIGURATION_DOC = join(ROOT, 'docs', 'configuration.md');

const BEGIN = '<!-- settings-table:begin (npm run docs writes it from lambda/core/settings.ts) -->';
const END = '<!-- settings-table:end -->';

const READER_NAMES: Record<SettingReader, string> = { evictor: 'evictor', connect: 'connect handler' };

const code = (text: string) => `\`${text}\``;

function defaultOf(setting: SettingDeclaration<unknown>): string {
  if (setting.docs.default !== undefined) return setting.docs.default;
  const value = setting.default;
  if (Array.isArray(value) && value.length === 0) return 'none';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function variableOf(setting: SettingDeclaration<unknown>): string {
  if (!setting.variable) return '(the stack only)';
  return `${code(setting.variable)} (${(setting.readers ?? []).map((reader) => READER_NAMES[reader]).join(', ')})`;
}

/** Cells padded to their column's width, as a markdown formatter leaves a table. */
function markdownTable(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(3, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [header = [], ...body] = rows;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

/** The configuration table, one row per declaration, in their order. */
export function settingsTable(): string {
  const rows = (Object.values(SETTINGS) as SettingDeclaration<unknown>[]).map((setting) => [
    code(setting.key),
    defaultOf(setting),
    code(setting.docs.example),
    setting.docs.meaning,
    variableOf(setting),
  ]);
  return markdownTable([['Key', 'Default', 'Example', 'Meaning', 'Environment variable (read by)'], ...rows]);
}

/** The page with the table between its markers written anew. */
export function withSettingsTable(page: string): string {
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${CONFIGURATION_DOC} has no ${BEGIN} ... ${END} markers`);
  return `${page.slice(0, begin)}${BEGIN}\n${settingsTable()}\n${page.slice(end)}`;
}

if (require.main === module) {
  const page = readFileSync(CONFIGURATION_DOC, 'utf8');
  const written = withSettingsTable(page);
  if (written === page) process.stdout.write(`${CONFIGURATION_DOC}: the settings table is up to date\n`);
  else {
    writeFileSync(CONFIGURATION_DOC, written);
    process.stdout.write(`${CONFIGURATION_DOC}: the settings table was written\n`);
  }
}
