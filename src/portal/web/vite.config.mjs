import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

// The portal is served by the API process under /portal from dist/portal-web (src/portal/server/routes.ts).
export default defineConfig({
  root: here,
  base: '/portal/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.resolve(here, '..', '..', '..', 'dist', 'portal-web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2_000,
    // No inline module-preload polyfill: the content security policy allows no inline script.
    modulePreload: { polyfill: false },
    rollupOptions: {
      onwarn(warning, warn) {
        // Fluent UI, TanStack Query and React Router mark their modules "use client", which means nothing here.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
