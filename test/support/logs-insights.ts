/**
 * A small evaluator of the part of CloudWatch Logs Insights' query language the saved queries use (infra/queries.ts),
 * so that the docs' samples come from running the queries over the lines an emulator run printed: `fields a, b`;
 * `filter` with `=`, `!=`, `like /regex/` (with a leading `(?i)`), `and`, `or`; `stats count(*) as n by a, b`;
 * `sort f asc|desc`; `limit n`. Anything else is an error, so a query cannot use more than this checks.
 * `@timestamp` is the line's `timestamp`, as Logs Insights takes it from a JSON line.
 */
export type LogLine = Record<string, unknown>;
export type Row = Record<string, string>;

const fieldOf = (line: LogLine, field: string): unknown =>
  field === '@timestamp' ? line.timestamp : line[field];
const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));

function condition(source: string): (line: LogLine) => boolean {
  const alternatives = source.split(/\s+or\s+/);
  const tests = alternatives.map((alternative) =>
    alternative.split(/\s+and\s+/).map((term) => {
      const compare = /^([@\w]+)\s*(=|!=)\s*"([^"]*)"$/.exec(term.trim());
      if (compare) {
        const [, field = '', op, value] = compare;
        return (line: LogLine) => (text(fieldOf(line, field)) === value) === (op === '=');
      }
      const like = /^([@\w]+)\s+like\s+\/(\(\?i\))?(.*)\/$/.exec(term.trim());
      if (like) {
        const [, field = '', caseless, pattern = ''] = like;
        const regex = new RegExp(pattern, caseless ? 'i' : '');
        return (line: LogLine) =>
          fieldOf(line, field) !== undefined && regex.test(text(fieldOf(line, field)));
      }
      throw new Error(`the evaluator does not read the filter term: ${term}`);
    }),
  );
  return (line) => tests.some((all) => all.every((test) => test(line)));
}

/** Runs a query, as Logs Insights renders it (`cmd ...\n| cmd ...`), over the lines of its log groups. */
export function runQuery(query: string, lines: readonly LogLine[]): Row[] {
  let rows: LogLine[] = [...lines];
  let fields: string[] | undefined;
  for (const command of query.split(/\n\|\s*/)) {
    const [, verb, rest = ''] = /^(\w+)\s+([\s\S]*)$/.exec(command.trim()) ?? [];
    if (verb === 'fields') fields = rest.split(/\s*,\s*/);
    else if (verb === 'filter') rows = rows.filter(condition(rest));
    else if (verb === 'stats') {
      const [, as, by = ''] = /^count\(\*\) as (\w+) by (.+)$/.exec(rest) ?? [];
      if (!as) throw new Error(`the evaluator does not read the stats: ${rest}`);
      const keys = by.split(/\s*,\s*/);
      const groups = new Map<string, LogLine>();
      for (const row of rows) {
        const group = keys.map((key) => text(fieldOf(row, key))).join('\u0000');
        const counted =
          groups.get(group) ?? Object.fromEntries(keys.map((key) => [key, text(fieldOf(row, key))]));
        counted[as] = Number(counted[as] ?? 0) + 1;
        groups.set(group, counted);
      }
      rows = [...groups.values()];
      fields = [...keys, as];
    } else if (verb === 'sort') {
      const [field = '', order] = rest.split(/\s+/);
      const sign = order === 'desc' ? -1 : 1;
      const key = (row: LogLine) => fieldOf(row, field);
      rows = [...rows].sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        return (
          sign * (typeof x === 'number' && typeof y === 'number' ? x - y : text(x).localeCompare(text(y)))
        );
      });
    } else if (verb === 'limit') rows = rows.slice(0, Number(rest));
    else throw new Error(`the evaluator does not read the command: ${command}`);
  }
  const shown = fields ?? Object.keys(rows[0] ?? {});
  return rows.map((row) => Object.fromEntries(shown.map((field) => [field, text(fieldOf(row, field))])));
}

/** Rows as a text table, `@timestamp` left out (it differs from run to run). */
export function tableOf(rows: readonly Row[]): string {
  const columns = Object.keys(rows[0] ?? {}).filter((column) => column !== '@timestamp');
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(columns.map((c) => row[c] ?? ''))),
  ].join('\n');
}
