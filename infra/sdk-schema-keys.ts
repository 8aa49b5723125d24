import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * The AWS SDK's clients describe every operation of their service in one generated module,
 * `dist-es/schemas/schemas_0.js`, and esbuild keeps all of it (aws-sdk-js-v3#7607): member traits are written
 * with computed keys, `{ [_xN]: "Return" }`, where `_xN` is a string constant of the module, and esbuild treats a
 * computed key as a possible side effect (evanw/esbuild#4373). For EC2 that is 550 KB, the schemas of 820-odd
 * operations where the evictor calls two, and every cold start compiles them.
 */
export const SDK_SCHEMAS =
  /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/](?:.+[\\/])?schemas[\\/]schemas_\d+\.js$/;

/** `const _xN = "xmlName";`: the generated module's string constants, one a line. */
const STRING_CONSTANT = /^const ([\w$]+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed key naming one of them: `[_xN]:`. */
const COMPUTED_KEY = /\[([\w$]+)\]:/g;

/**
 * The same module with each computed key that names a string constant written as that string: `{ "xmlName":
 * "Return" }`, the very object the computed key builds, which esbuild can then drop when nothing uses it.
 */
export function literalSchemaKeys(source: string): string {
  const constants = new Map([...source.matchAll(STRING_CONSTANT)].map((m) => [m[1], m[2]]));
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `${literal}:`;
  });
}

/** Lets esbuild tree-shake the SDK clients' schemas (see SDK_SCHEMAS); every other file loads as it is. */
export const sdkSchemaKeys: Plugin = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SDK_SCHEMAS }, async ({ path }) => ({
      contents: literalSchemaKeys(await readFile(path, 'utf8')),
      loader: 'js',
    }));
  },
};
