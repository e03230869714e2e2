// Lists the longest functions (in lines) of the given .ts files, or of src/ without generated code:
// issue 10's goal is none over 100 lines outside generated code and declarative tables.
//   node scripts/longest-functions.ts [--top N] [files...]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '15' } },
  allowPositionals: true,
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === join('src', 'api', 'gen') ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const rows: { lines: number; where: string }[] = [];
for (const file of positionals.length > 0 ? positionals : sources('src')) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = src.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      let name = (node as ts.FunctionDeclaration).name?.getText() ?? '';
      if (name === '' && ts.isVariableDeclaration(node.parent)) name = node.parent.name.getText();
      rows.push({ lines: last - first + 1, where: `${file}:${first + 1} ${name || '(anonymous)'}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
}
rows.sort((a, b) => b.lines - a.lines);
for (const r of rows.slice(0, Number(values.top))) console.log(`${String(r.lines).padStart(5)}  ${r.where}`);
