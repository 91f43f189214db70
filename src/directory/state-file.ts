import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open as openFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { DirectoryUnavailableError } from './port';
import { parseTenantFile, TenantFileError } from './tenant-file';
import type { TenantFile } from './tenant-file';

/**
 * One version of the state file. Every save renames a new file into place (a new inode) and gives it an
 * mtime later than the file it replaces, so an unchanged stamp means an unchanged file without reading it.
 */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** A lock whose mtime is older than this is taken to belong to a crashed process and is broken. */
export const LOCK_STALE_MS = 10_000;
/** The holder touches its lock this often, so a slow save of a huge tenant is never taken for a crash. */
const LOCK_HEARTBEAT_MS = 2_000;
/** How long a writer waits for a live lock before answering DirectoryUnavailableError (a transient failure). */
const LOCK_WAIT_MS = 30_000;
const LOCK_RETRY_MAX_MS = 50;

const stampOf = (s: fs.Stats): FileStamp => ({ dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs });

export const sameStamp = (a: FileStamp, b: FileStamp): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;
const isMissing = (error: unknown) => errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR';

/** The stamp of the file at `file` now; undefined when there is none. One stat, no read. */
export function statStateFile(file: string): FileStamp | undefined {
  try {
    return stampOf(fs.statSync(file));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Reads and validates the state file, with the stamp of the very version read (fstat on the open
 * descriptor, so a save by another process between stat and read cannot pair old stamp with new text).
 * Synchronous so a reload swaps the tenant in one go, never interleaved with a read or a write.
 */
export function readStateFile(file: string): { tenant: TenantFile; stamp: FileStamp } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const stamp = stampOf(fs.fstatSync(fd));
    const text = fs.readFileSync(fd, 'utf8');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new TenantFileError(`file ${file}`, [`not valid JSON: ${(error as Error).message}`]);
    }
    return { tenant: parseTenantFile(data, { source: `file ${file}` }), stamp };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One object per line: readable and diff-friendly for the demo tenant, and about as fast as compact JSON
 * for 100,000 users (indented JSON doubles the time and size of every save).
 */
export function formatTenantFile(tenant: TenantFile): string {
  const list = (items: readonly unknown[]) =>
    items.length === 0 ? '[]' : `[\n    ${items.map((item) => JSON.stringify(item)).join(',\n    ')}\n  ]`;
  return `{\n  "users": ${list(tenant.users)},\n  "groups": ${list(tenant.groups)},\n  "applications": ${list(tenant.applications)}\n}\n`;
}

/**
 * Writes a temp file beside the target, flushes it to disk, then renames it over the target; returns the
 * new file's stamp. Its mtime is set past `replacing`'s (the version on disk), so stamps never repeat even
 * when two saves land within one tick of a coarse filesystem clock and the inode number is reused.
 */
export async function writeStateFile(
  file: string,
  contents: string,
  replacing: FileStamp | undefined,
): Promise<FileStamp> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await openFile(temp, 'w');
    let stamp: FileStamp;
    try {
      await handle.writeFile(contents, 'utf8');
      const mtime = new Date(Math.max(Date.now(), Math.floor(replacing?.mtimeMs ?? 0) + 1));
      await handle.utimes(mtime, mtime);
      // Without the sync a crash right after the rename can leave an empty state file on some filesystems.
      await handle.sync();
      stamp = stampOf(await handle.stat());
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    return stamp;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `<stateFile>.lock`, created exclusively (`wx`), held by one writer across all processes sharing the
 * state file. Ownership is the lock file's inode, not its text: containers on one volume may share a pid.
 */
export class StateFileLock {
  private constructor(
    private readonly path: string,
    private readonly owned: fs.Stats,
    private readonly heartbeat: NodeJS.Timeout,
  ) {}

  /** Waits (short, growing, jittered retries) for the lock, breaking it when its holder has gone quiet. */
  static async acquire(stateFile: string): Promise<StateFileLock> {
    const path = `${stateFile}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 1; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS)) {
      const owned = tryCreateLock(path);
      if (owned !== undefined) {
        const heartbeat = setInterval(() => touchIfOwned(path, owned), LOCK_HEARTBEAT_MS);
        heartbeat.unref();
        return new StateFileLock(path, owned, heartbeat);
      }
      const held = statOrUndefined(path);
      if (held !== undefined && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
        breakStaleLock(path, held);
        continue;
      }
      if (Date.now() > deadline) {
        throw new DirectoryUnavailableError(`State file ${stateFile} is locked by another writer (${path})`);
      }
      await sleep(delay / 2 + Math.random() * delay);
    }
  }

  /** Removes the lock file, unless a breaker already replaced it with someone else's. */
  release(): void {
    clearInterval(this.heartbeat);
    const current = statOrUndefined(this.path);
    if (current !== undefined && sameFile(current, this.owned)) fs.rmSync(this.path, { force: true });
  }
}

function tryCreateLock(path: string): fs.Stats | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined;
    if (errorCode(error) !== 'ENOENT') throw error;
    fs.mkdirSync(dirname(path), { recursive: true });
    return tryCreateLock(path);
  }
  try {
    fs.writeSync(
      fd,
      `${JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() })}\n`,
    );
    return fs.fstatSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const sameFile = (a: fs.Stats, b: fs.Stats) => a.dev === b.dev && a.ino === b.ino;

function statOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.statSync(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function touchIfOwned(path: string, owned: fs.Stats): void {
  try {
    const current = statOrUndefined(path);
    if (current !== undefined && sameFile(current, owned)) fs.utimesSync(path, new Date(), new Date());
  } catch {
    // Best effort: a missed heartbeat only matters if the holder also stalls for LOCK_STALE_MS.
  }
}

/**
 * Moves the stale lock aside under a unique name and checks what was moved: when a live holder replaced
 * the stale lock between our stat and the rename, its lock is linked back (unless the slot was taken again).
 */
function breakStaleLock(path: string, stale: fs.Stats): void {
  const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
  try {
    fs.renameSync(path, aside);
  } catch (error) {
    if (isMissing(error)) return; // another waiter broke it first
    throw error;
  }
  try {
    const moved = fs.statSync(aside);
    if (!sameFile(moved, stale) || Date.now() - moved.mtimeMs <= LOCK_STALE_MS) {
      try {
        fs.linkSync(aside, path);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** A write applied to the tenant in memory; `changed` is false when it found nothing to change. */
export type Change<R> = () => { result: R; changed: boolean };

/** What SharedStateFile needs from the directory: swap in a tenant read from disk, and the tenant to save. */
export interface TenantHolder {
  replace(tenant: TenantFile): void;
  collect(): TenantFile;
}

interface QueuedWrite {
  change: Change<unknown>;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Keeps a tenant in memory in step with a state file that other processes also read and write: `fresh()`
 * before a read reloads the file if someone else saved it; `write()` is a read-modify-write under the lock.
 */
export class SharedStateFile {
  /** The version memory was loaded from or last saved as; reads reload when the file on disk differs. */
  private stamp: FileStamp | undefined;
  /** Changes applied in memory whose save failed: replayed after a reload, saved by the next write. */
  private unsaved: Change<unknown>[] = [];
  /** Writes waiting for the lock; whoever takes it applies and saves all of them at once. */
  private readonly queue: QueuedWrite[] = [];
  private flushing = false;
  /** True while this process holds the lock: nobody else can change the file, so reads skip the stat. */
  private locked = false;

  constructor(
    private readonly file: string,
    private readonly holder: TenantHolder,
  ) {}

  /** Loads the file; when there is none, saves `seed()` under the lock unless another process seeded first. */
  async open(seed: () => Promise<TenantFile>): Promise<void> {
    if (this.refresh() !== undefined) return;
    const tenant = await seed();
    const lock = await StateFileLock.acquire(this.file);
    try {
      if (this.refresh() === undefined) {
        this.holder.replace(tenant);
        this.stamp = await writeStateFile(this.file, formatTenantFile(this.holder.collect()), undefined);
      }
    } finally {
      lock.release();
    }
  }

  /** Before a read: reloads the file if another process saved it since; one stat when nobody did. */
  fresh(): void {
    if (!this.locked) this.refresh();
  }

  /**
   * Queues a write and resolves with its result once saved. A failed save rejects its writes but keeps
   * them in memory and in `unsaved`, so the next write saves them too, even an idempotent retry that now
   * answers 'notFound'.
   */
  write<R>(change: Change<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ change, resolve: resolve as (result: unknown) => void, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /**
   * Reloads the file when it is not the version memory holds, replaying `unsaved` on top. Returns the
   * stamp of the file on disk; undefined when there is none (memory is kept, the next save recreates it).
   */
  private refresh(): FileStamp | undefined {
    const onDisk = statStateFile(this.file);
    if (onDisk === undefined || (this.stamp !== undefined && sameStamp(onDisk, this.stamp))) return onDisk;
    const state = readStateFile(this.file);
    if (state === undefined) return undefined;
    this.holder.replace(state.tenant);
    this.stamp = state.stamp;
    this.unsaved = this.unsaved.filter((change) => {
      try {
        change();
        return true;
      } catch {
        return false; // e.g. a seedBulk whose ids another process has added since
      }
    });
    return state.stamp;
  }

  /**
   * One drain loop per process, so saves never overlap in-process. Each round takes the cross-process
   * lock, then every write queued by then (a burst shares one save), reloads the file if another process
   * changed it, applies the writes to that latest state, saves atomically and releases the lock.
   */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        let lock: StateFileLock;
        try {
          lock = await StateFileLock.acquire(this.file);
        } catch (error) {
          for (const waiting of this.queue.splice(0)) waiting.reject(error);
          continue;
        }
        const batch = this.queue.splice(0);
        const outcomes: ({ ok: true; result: unknown } | { ok: false; error: unknown })[] = [];
        let failure: { error: unknown } | undefined;
        this.locked = true;
        try {
          const onDisk = this.refresh();
          for (const { change } of batch) {
            try {
              const { result, changed } = change();
              if (changed) this.unsaved.push(change);
              outcomes.push({ ok: true, result });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
          if (this.unsaved.length > 0) {
            this.stamp = await writeStateFile(this.file, formatTenantFile(this.holder.collect()), onDisk);
            this.unsaved = [];
          }
        } catch (error) {
          failure = { error };
        } finally {
          this.locked = false;
          lock.release();
        }
        batch.forEach((waiting, i) => {
          const outcome = outcomes[i];
          if (outcome !== undefined && !outcome.ok) waiting.reject(outcome.error);
          else if (failure !== undefined) waiting.reject(failure.error);
          else waiting.resolve(outcome?.result);
        });
      }
    } finally {
      this.flushing = false;
    }
  }
}
