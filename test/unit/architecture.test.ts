import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CORE = join(__dirname, '..', '..', 'lambda', 'core');

describe('lambda/core', () => {
  it.each(readdirSync(CORE).filter((f) => f.endsWith('.ts')))(
    '%s imports no AWS SDK, Powertools or adapter',
    (file) => {
      const imports = [...readFileSync(join(CORE, file), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1],
      );
      expect(
        imports.filter((i) =>
          /^@aws-sdk\/|^@aws-lambda-powertools\/|\/adapters\/|^aws-cdk-lib/.test(i ?? ''),
        ),
      ).toEqual([]);
    },
  );
});

/** The shared nouns and constants sit at the bottom: any module may import them without making a cycle. */
describe.each(['types.ts', 'constants.ts'])('lambda/core/%s', (file) => {
  it('imports nothing', () => {
    expect(readFileSync(join(CORE, file), 'utf8')).not.toMatch(/^\s*(import|export)\b[^;]*\bfrom\s/m);
  });
});
