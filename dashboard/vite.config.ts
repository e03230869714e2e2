// Builds the dashboard (Preact + uPlot) into dist/dashboard/, which the daemon serves at `/`.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact()],
  // No public/ folder: the daemon serves only index.html and assets/.
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Data URIs would need a looser Content-Security-Policy for fonts and images.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
});
