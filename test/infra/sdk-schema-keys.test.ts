import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { literalSchemaKeys, SDK_SCHEMAS } from '../../infra/sdk-schema-keys';
import { ROOT } from '../support/process';

/** Every generated schema module of the SDK packages installed: the files the plugin rewrites in a bundle. */
const schemaModules = readdirSync(join(ROOT, 'node_modules', '@aws-sdk'), {
  recursive: true,
  encoding: 'utf8',
})
  .map((file) => join(ROOT, 'node_modules', '@aws-sdk', file))
  .filter((file) => SDK_SCHEMAS.test(file));

/** Runs a schema module as esbuild bundles it (its own models inside, packages required), with `source` as its text. */
function evaluate(file: string, source: string): Record<string, unknown> {
  const [output] = buildSync({
    stdin: { contents: source, resolveDir: dirname(file), sourcefile: file },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'error',
  }).outputFiles;
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', output?.text ?? '')(
    module,
    module.exports,
    createRequire(file),
  );
  return module.exports;
}

/**
 * What a module's exports say, comparable across two evaluations: exported schemas by name where another refers to
 * them, lazy references (`() => Foo$`) by what they return, classes by name, Maps by their entries.
 */
function shape(exports: Record<string, unknown>) {
  const names = new Map(Object.entries(exports).map(([name, value]) => [value, name]));
  const describe = (value: unknown, path: Set<unknown>): unknown => {
    if (typeof value === 'function') {
      const isClass = /^class\b/.test(Function.prototype.toString.call(value));
      return isClass || value.length > 0 ? { function: value.name } : { lazy: describe(value(), path) };
    }
    if (typeof value !== 'object' || value === null) return value;
    if (path.size > 0 && names.has(value)) return { ref: names.get(value) };
    if (path.has(value)) return { cycle: true };
    const inner = new Set(path).add(value);
    if (value instanceof Map) return { map: [...value].map((entry) => describe(entry, inner)) };
    if (Array.isArray(value)) return value.map((item) => describe(item, inner));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, describe(item, inner)]));
  };
  return Object.fromEntries(
    Object.entries(exports).map(([name, value]) => [name, describe(value, new Set())]),
  );
}

describe('literalSchemaKeys', () => {
  it('writes a computed key that names a string constant as that string, and leaves any other key alone', () => {
    const source = [
      'const _xN = "xmlName";',
      'const _q = "say \\"hi\\"";',
      'let other = "x";',
      'export var A$ = [3, n0, "A", 0, [_x], [[0, { [_xN]: "Return", [_q]: 1, [other]: 2, [_unknown]: 3 }]]];',
    ].join('\n');
    expect(literalSchemaKeys(source).split('\n').at(-1)).toBe(
      'export var A$ = [3, n0, "A", 0, [_x], [[0, { "xmlName": "Return", "say \\"hi\\"": 1, [other]: 2, [_unknown]: 3 }]]];',
    );
  });

  it('finds the schema modules of the clients the Lambda functions use', () => {
    for (const client of ['client-ec2', 'client-dynamodb', 'client-sns', 'client-lambda']) {
      expect(schemaModules).toContain(
        join(ROOT, 'node_modules', '@aws-sdk', client, 'dist-es', 'schemas', 'schemas_0.js'),
      );
    }
  });

  it.each(schemaModules.map((file) => [file.slice(ROOT.length + 1), file]))(
    '%s exports the same schemas once rewritten',
    (_name, file) => {
      const source = readFileSync(file, 'utf8');
      expect(shape(evaluate(file, literalSchemaKeys(source)))).toEqual(shape(evaluate(file, source)));
    },
  );
});
