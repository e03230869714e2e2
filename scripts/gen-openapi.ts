// Writes docs/openapi.yaml from the proto descriptors (src/api/openapi.ts). `--check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/api/openapi.ts';

const target = new URL('../docs/openapi.yaml', import.meta.url);
const text = renderOpenApi();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    process.stderr.write('docs/openapi.yaml is out of date: run `npm run gen:openapi`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
