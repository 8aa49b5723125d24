import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

const LAMBDA = join(__dirname, '..', '..', 'lambda');

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourcesUnder(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );

/**
 * The metric names the functions' code emits: the first argument of every `addMetric(...)` call under lambda/, read
 * with the TypeScript checker, which gives a string literal, or for a name chosen at run time (`const metric = a ?
 * 'X' : 'Y'`) the union of the literals it can hold. A name the checker cannot pin down to literals is an error
 * (`unresolved`), so that nothing is emitted that this list does not know of.
 */
export function emittedMetricNames(): { names: Set<string>; unresolved: string[] } {
  const files = sourcesUnder(LAMBDA).filter((file) => readFileSync(file, 'utf8').includes('addMetric('));
  // Each name is a literal in the file that emits it: nothing imported needs resolving.
  const program = ts.createProgram(files, { noResolve: true, noLib: true, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  const unresolved: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'addMetric'
      ) {
        const [first] = node.arguments;
        const type = first && checker.getTypeAtLocation(first);
        const literals = type?.isUnion() ? type.types : type ? [type] : [];
        if (literals.length > 0 && literals.every((t) => t.isStringLiteral()))
          for (const t of literals) names.add((t as ts.StringLiteralType).value);
        else unresolved.push(`${file}: ${node.getText(source)}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { names, unresolved };
}
