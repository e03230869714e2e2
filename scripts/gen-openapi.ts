// Writes docs/openapi.yaml from the proto descriptors (src/api/openapi.ts). `--check` only compares.
import { renderOpenApi } from '../src/api/openapi.ts';
import { writeOrCheck } from './lib/generated-file.ts';

writeOrCheck(new URL('../docs/openapi.yaml', import.meta.url), renderOpenApi(), 'npm run gen:openapi');
