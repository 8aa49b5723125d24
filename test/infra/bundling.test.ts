import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleEntry } from '../../infra/bundling';

describe('bundleEntry', () => {
  it('fails naming the entry and the reason esbuild gives, and writes nothing', () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-test-')), 'index.js');
    expect(() => bundleEntry('lambda/no-such-handler.ts', { outfile })).toThrow(
      /^bundling lambda\/no-such-handler\.ts failed:\n[\s\S]*Could not resolve/,
    );
    expect(existsSync(outfile)).toBe(false);
  });
});
