// Verifies an access review evidence file (JSON or CSV) from the file alone:
//   npm run verify-evidence -- <file>
// Prints `verified <n> records, digest <hash>` and exits 0, or names the first bad line and exits 1.
import { createReadStream } from 'node:fs';
import { verifyEvidence } from '../src/evidence/verify';

async function main(): Promise<number> {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) {
    process.stderr.write('usage: npm run verify-evidence -- <evidence file (.json or .csv)>\n');
    return 2;
  }
  const result = await verifyEvidence(createReadStream(file));
  if (result.ok) {
    process.stdout.write(`verified ${result.records} records, digest ${result.digest}\n`);
    return 0;
  }
  const record = result.record === undefined ? '' : ` (record ${result.record})`;
  process.stdout.write(`NOT verified: ${file} line ${result.line}${record}: ${result.reason}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
