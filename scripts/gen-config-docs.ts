// Writes docs/configuration.md from the config schema (src/cli/config-docs.ts). `--check` only compares.
import { renderConfigDocs } from '../src/cli/config-docs.ts';
import { writeOrCheck } from './lib/generated-file.ts';

writeOrCheck(
  new URL('../docs/configuration.md', import.meta.url),
  renderConfigDocs(),
  'npm run gen:config-docs',
);
