// Rebuilds the review records from the running workflows (after restoring an older backup, or for
// reviews started before records were kept): `npm run backfill-records`, with the Temporal settings of
// the worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS or API key; default: npm start's dev server).
// The workers write the records; this only asks each running series, instance and shard to.
import { parseConfig } from '../src/config';
import { createClient } from '../src/runtime';
import { backfillRecords } from '../src/services/records-backfill';

async function main(): Promise<void> {
  const config = parseConfig(process.env, 'all');
  const client = await createClient(config);
  try {
    const asked = await backfillRecords(client, (n) => process.stdout.write(`asked ${n} workflows…\n`));
    process.stdout.write(`asked ${asked} running workflows to write their records again\n`);
  } finally {
    await client.connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
