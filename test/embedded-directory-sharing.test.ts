import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedDirectory } from '../src/directory/embedded';
import type { DirectoryUser, DirectoryWriteResult } from '../src/directory/port';
import type { TenantFileInput } from '../src/directory/tenant-file';

// The API and the worker open one state file on a shared volume; these tests open it twice (and from two
// child processes) and check that neither serves stale data nor saves over the other's changes.

const REPO = path.join(__dirname, '..');
const MEMBERS = 50;
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-sharing-'));
let tempCount = 0;

afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

const user = (id: string, extra: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id,
  displayName: `User ${id}`,
  userPrincipalName: `${id}@contoso.com`,
  userType: 'Member',
  accountEnabled: true,
  createdDateTime: '2024-01-01T00:00:00Z',
  ...extra,
});

const memberIds = Array.from({ length: MEMBERS }, (_, i) => `m${i}`);

/** g-big has 50 members; g1 has u1,u2; app a1 is assigned u1,u2; u2 reports to u1. */
const tenant = (): TenantFileInput => ({
  users: [user('u1'), user('u2', { managerId: 'u1' }), user('u3'), ...memberIds.map((id) => user(id))],
  groups: [
    { id: 'g1', displayName: 'Group 1', memberIds: ['u1', 'u2'], ownerIds: ['u1'] },
    { id: 'g-big', displayName: 'Big group', memberIds, ownerIds: [] },
  ],
  applications: [{ id: 'a1', displayName: 'App 1', assignedUserIds: ['u1', 'u2'], ownerIds: [] }],
});

/** A fresh folder with a seed file; the state file does not exist yet. */
function freshCase() {
  const folder = path.join(tempRoot, `case-${++tempCount}`);
  fs.mkdirSync(folder);
  const seedFile = path.join(folder, 'seed.json');
  fs.writeFileSync(seedFile, JSON.stringify(tenant()));
  return { folder, seedFile, stateFile: path.join(folder, 'state', 'directory.json') };
}

/** Two directories on one state file, as the API and the worker have in docker compose. */
async function openTwice() {
  const files = freshCase();
  const api = await EmbeddedDirectory.open(files);
  const worker = await EmbeddedDirectory.open(files);
  return { ...files, api, worker };
}

const members = async (directory: EmbeddedDirectory, groupId: string) =>
  (await directory.getGroup(groupId))?.memberIds;

/** Whether `promise` settles within `ms` (the timer is cleared, so no handle outlives the test). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('EmbeddedDirectory shared by several processes', () => {
  test('a member removed by one instance is gone from the other instance’s next read', async () => {
    const { api, worker } = await openTwice();
    expect(await members(api, 'g1')).toEqual(['u1', 'u2']);

    expect(await worker.removeGroupMember('g1', 'u2')).toBe('done');

    expect(await members(api, 'g1')).toEqual(['u1']);
    expect((await api.listGroupTransitiveMembers('g1'))?.map((u) => u.id)).toEqual(['u1']);
    // The other instance's write sees the removal too: it answers notFound instead of re-saving stale data.
    expect(await api.removeGroupMember('g1', 'u2')).toBe('notFound');
  });

  test('a write by an instance with a stale copy does not undo the other instance’s removals', async () => {
    const { api, worker, stateFile, seedFile } = await openTwice();
    expect(await members(api, 'g1')).toEqual(['u1', 'u2']); // the API has read (and cached) the group

    expect(await worker.removeGroupMember('g1', 'u2')).toBe('done');
    expect(await worker.removeApplicationAssignment('a1', 'u2')).toBe('done');
    expect(await api.setAccountEnabled('u3', false)).toBe('done');
    expect(await worker.deleteUser('u1')).toBe('done');
    expect(await api.removeApplicationAssignment('a1', 'u1')).toBe('notFound');

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile });
    for (const directory of [reopened, api, worker]) {
      expect(await members(directory, 'g1')).toEqual([]);
      expect((await directory.getApplication('a1'))?.assignedUserIds).toEqual([]);
      expect((await directory.getUser('u3'))?.accountEnabled).toBe(false);
      expect(await directory.getUser('u1')).toBeUndefined();
      expect((await directory.getUser('u2'))?.managerId).toBeNull();
    }
  });

  test('50 concurrent removals split across both instances are all persisted, none lost', async () => {
    const { api, worker, stateFile, seedFile, folder } = await openTwice();
    const results = await Promise.all(
      memberIds.map((id, i) => (i % 2 === 0 ? api : worker).removeGroupMember('g-big', id)),
    );
    expect(results).toEqual(memberIds.map(() => 'done'));

    // Interleaved with the burst's tail: writes by both while the other's saves are still landing.
    const tail: Promise<DirectoryWriteResult>[] = [];
    for (const [directory, userId] of [
      [api, 'u1'],
      [worker, 'u2'],
      [api, 'u3'],
    ] as const) {
      tail.push(directory.setAccountEnabled(userId, false));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(tail)).toEqual(['done', 'done', 'done']);

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile });
    for (const directory of [reopened, api, worker]) {
      expect(await members(directory, 'g-big')).toEqual([]);
      expect((await directory.snapshot()).disabledUsers).toBe(3);
    }
    expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['directory.json']);
    expect(fs.readdirSync(folder).sort()).toEqual(['seed.json', 'state']);
  });

  test('removals by two separate processes at once are all persisted, none lost', async () => {
    const { stateFile, seedFile } = freshCase();
    await EmbeddedDirectory.open({ stateFile, seedFile });
    const script = path.join(path.dirname(stateFile), '..', 'remove.ts');
    fs.writeFileSync(
      script,
      `import { EmbeddedDirectory } from ${JSON.stringify(path.join(REPO, 'src', 'directory', 'embedded'))};
      const [stateFile, seedFile, ...ids] = process.argv.slice(2);
      (async () => {
        const directory = await EmbeddedDirectory.open({ stateFile, seedFile });
        const results = [];
        // One at a time: each removal takes the lock on its own, interleaving with the other process.
        for (const id of ids) results.push(await directory.removeGroupMember('g-big', id));
        process.stdout.write(JSON.stringify(results));
      })();`,
    );
    const run = (ids: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', script, stateFile, seedFile, ...ids], {
        cwd: REPO,
      });
    const halves = [memberIds.filter((_, i) => i % 2 === 0), memberIds.filter((_, i) => i % 2 === 1)];
    const outputs = await Promise.all(halves.map(run));
    for (const { stdout } of outputs) expect(JSON.parse(stdout)).toEqual(halves[0]!.map(() => 'done'));

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile });
    expect(await members(reopened, 'g-big')).toEqual([]);
    expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['directory.json']);
  });

  test('a stale lock file left by a crashed process does not block writes', async () => {
    const { api, worker, stateFile, seedFile } = await openTwice();
    const lockFile = `${stateFile}.lock`;
    fs.writeFileSync(lockFile, '{"pid":99999}\n');
    const longAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(lockFile, longAgo, longAgo);

    const write = worker.removeGroupMember('g1', 'u1');
    expect(await settledWithin(write, 5_000)).toBe(true);
    expect(await write).toBe('done');
    expect(fs.existsSync(lockFile)).toBe(false);

    expect(await members(api, 'g1')).toEqual(['u2']);
    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile });
    expect(await members(reopened, 'g1')).toEqual(['u2']);
  });

  test('a live lock held by another writer delays writes until it is released, and reads still work', async () => {
    const { api, stateFile } = await openTwice();
    const lockFile = `${stateFile}.lock`;
    fs.writeFileSync(lockFile, '{"pid":99999}\n');
    const before = fs.readFileSync(stateFile, 'utf8');

    const write = api.removeGroupMember('g1', 'u1');
    expect(await settledWithin(write, 300)).toBe(false);
    expect(fs.readFileSync(stateFile, 'utf8')).toBe(before);
    expect(await members(api, 'g1')).toEqual(['u1', 'u2']);

    fs.rmSync(lockFile);
    expect(await write).toBe('done');
    expect(await members(api, 'g1')).toEqual(['u2']);
  });

  test('reads re-read the state file only after another instance changed it', async () => {
    const { api, worker } = await openTwice();
    const reads = jest.spyOn(fs, 'readFileSync');
    try {
      for (let i = 0; i < 20; i++) await api.getGroup('g1');
      await api.setAccountEnabled('u3', false); // its own save does not make it reload either
      await api.getUser('u3');
      expect(reads).not.toHaveBeenCalled();

      await worker.removeGroupMember('g1', 'u2');
      expect(await members(api, 'g1')).toEqual(['u1']);
      expect(await members(api, 'g1')).toEqual(['u1']);
      expect(reads).toHaveBeenCalledTimes(2); // the worker reloading before its write, the API once after
    } finally {
      reads.mockRestore();
    }
  });

  test('two processes starting on an empty volume seed the state file once and agree on it', async () => {
    const files = freshCase();
    const [api, worker] = await Promise.all([EmbeddedDirectory.open(files), EmbeddedDirectory.open(files)]);
    expect(await worker.removeGroupMember('g1', 'u1')).toBe('done');
    expect(await members(api, 'g1')).toEqual(['u2']);
    expect(await members(await EmbeddedDirectory.open(files), 'g1')).toEqual(['u2']);
  });
});
