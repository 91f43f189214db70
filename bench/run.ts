/**
 * `npm run bench`: the review bench with the arguments given, then the records bench (review records in
 * PostgreSQL next to the query-based reads). `--records-only` runs the records bench alone, `--no-records`
 * the review bench alone. `--directory ldap|scim` runs the directory bench instead (the review activities'
 * directory work on a local OpenLDAP or SCIM server next to the embedded directory). `--portal` runs the
 * portal bench instead (the reviewer's items page in Chromium over 10,000 items). Each runs in a process of its own; the exit code is
 * the first failure's.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const benches = [
  { file: 'review-bench.ts', skip: '--records-only', passArgs: true },
  { file: 'records-bench.ts', skip: '--no-records', passArgs: false },
];

function runChild(file: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, file), ...args], {
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', () => resolve(1));
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--portal')) {
    process.on('SIGINT', () => undefined);
    return runChild(
      'portal-bench.ts',
      argv.filter((a) => a !== '--portal'),
    );
  }
  if (argv.some((a) => a === '--directory' || a.startsWith('--directory='))) {
    process.on('SIGINT', () => undefined);
    return runChild('directory-bench.ts', argv);
  }
  const own = new Set(benches.map((b) => b.skip));
  const args = argv.filter((a) => !own.has(a));
  // Ctrl-C reaches the children too (same process group): each stops and cleans up, this one waits for them.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  let exit = 0;
  for (const bench of benches) {
    if (argv.includes(bench.skip)) continue;
    const code = await runChild(bench.file, bench.passArgs ? args : []);
    if (code === 130) return code;
    exit ||= code;
  }
  return exit;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench runner crashed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
