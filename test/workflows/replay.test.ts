import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/review-harness';

// Recorded histories of sharded reviews (an instance and its first shard), run by the code as it was
// when they were recorded: today's workflow code must replay them without a nondeterminism error, so
// reviews that are running when a new version is deployed carry on. Each file maps workflow ids to a
// base64-encoded temporal.api.history.v1.History, fetched after a review like those of sharding.test.ts
// ran on the time-skipping server (12 members in 3 shards): three stages ended by stop-stage signals and
// a stage timer with automatic apply, and two stages stopped by stop-review with a manual apply.
// `.one-command-per-step`: recorded before the instance sent a stage transition as one command (the
// `combined-shard-steps` patch); `.one-command-per-transition`: after. `unsharded-three-stages.signals`:
// an instance holding its items that got its decisions and admin actions as signals (before Updates);
// `*.updates`: unsharded and sharded instances driven by the Updates the API sends now (decisions naming
// their stage, reset, reminder, accept recommendations, reviewer change, stop stage, stop, apply).
// `*-records.updates`: reviews keeping their records (the `review-records` patch), written by local
// activities (recordReview markers in the history, not activity tasks), with Updates that answer once
// their decisions are recorded; recorded by test/fixtures/record-review-histories.ts with the Updates of
// `*.updates`: 12 members held by the instance, and 12 members in 3 shards (the instance, its first shard).
// `review-series.*`: definitions' series workflows on a dev server with search attributes (recorded by
// test/fixtures/record-series-histories.ts): two past weekly occurrences run to their end, then the
// definition deleted; a definition deleted while its instance runs. `.status-set-at-start`: recorded
// before the series' status followed its instances (the `series-status-follows-instances` patch);
// `.status-follows-instances`: after. `.definition-records`: series keeping their definition record
// (the `definition-records` patch: recordDefinition local activities). `backfill.pre-records`: runs started
// before records were kept (no `review-records` or `definition-records` marker at their start: a series of
// one occurrence, its instance, and a standalone instance, started with decisions in stage 1 by the code of
// the release before records), then asked to write their records by a backfill (the republishRecords
// signal, by today's code): they start keeping them (the `review-records-backfill` and
// `definition-records-backfill` patches), get another decision, stop and apply, and the series is ended;
// recorded on a dev server by test/fixtures/record-backfill-histories.ts.
// `guest-deletion.records`: denied guests' deletion workflows (test/fixtures/record-guest-histories.ts)
// recording what became of the guest in the review records (the `guest-deletion-records` patch): one
// deleted on day 30, one whose account was re-enabled in the directory meanwhile.
// `*.notifications`: the review of `*.updates` telling its reviewers by e-mail (the `review-notifications`
// patch): sendNotifications activities at stage starts, the reminder Update and the stage's scheduled
// reminders, stage 2's escalation (resolveEscalation) crossed by its timer, and a reassignment Update in
// stage 3; recorded by test/fixtures/record-review-histories.ts against an in-process SMTP server.
const dir = path.join(__dirname, '..', 'fixtures', 'histories');
const recorded = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((file) =>
    Object.entries(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, string>).map(
      ([workflowId, encoded]) => ({ file, workflowId, encoded }),
    ),
  );

describe('replaying recorded review histories', () => {
  it('has recordings of instances, shards and series', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(10);
    expect(recorded.some((r) => r.workflowId.includes('/shard-'))).toBe(true);
    expect(recorded.filter((r) => r.file.startsWith('review-series.')).length).toBeGreaterThanOrEqual(2);
  });

  it.each(recorded)('replays $workflowId of $file', async ({ workflowId, encoded }) => {
    const history = temporal.api.history.v1.History.decode(Buffer.from(encoded, 'base64'));
    // A guest's deletion is short: a timer, its check and the records of what became of the guest.
    expect(history.events.length).toBeGreaterThan(workflowId.startsWith('guest-deletion/') ? 10 : 20);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  });
});
