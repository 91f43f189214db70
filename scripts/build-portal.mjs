// Builds the web portal (src/portal/web) into dist/portal-web, which the API serves under /portal.
// `npm install` runs it (postinstall) and `npm start` runs it when the sources are newer than the build.
// --if-stale: build only then; --quiet-fail: report a failure and exit 0 (the API then says the portal is not built).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'portal', 'web');
const out = path.join(root, 'dist', 'portal-web');
const args = new Set(process.argv.slice(2));

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const built = path.join(out, 'index.html');
if (args.has('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= newest(source)) process.exit(0);

try {
  const started = Date.now();
  const { build } = await import('vite');
  await build({ configFile: path.join(source, 'vite.config.mjs'), logLevel: 'warn' });
  console.log(
    `build-portal: built the portal into ${path.relative(root, out)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} catch (err) {
  console.error(
    `build-portal: the portal could not be built: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(args.has('--quiet-fail') ? 0 : 1);
}
