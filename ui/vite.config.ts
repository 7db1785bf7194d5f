import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI is built into dist/ui, which the Jarvis server serves at `/`
// (src/server/operations/ui.ts). `npx vite --config ui/vite.config.ts` runs a dev
// server that forwards the API to a Jarvis on :8000.
const uiRoot = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.JARVIS_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  root: uiRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the shipped UI: they would publish the sources and cost bytes for nothing.
    sourcemap: false,
  },
  server: {
    proxy: { '/v1': api, '/health': api },
  },
});
