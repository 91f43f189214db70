import type { BenchTenant } from './tenant';
import { BENCH_GROUP, BENCH_OWNER, benchTenant } from './tenant';

/** The reviewer whose inbox the records bench reads: the first manager, with 100 reports in the big group. */
export const INBOX_REVIEWER = 'mgr0001';

/** The records bench tenant: the review bench's N members, plus small groups reviewed by the same managers. */
export interface RecordsTenant extends BenchTenant {
  /** Group ids, the big group first. */
  groups: string[];
  /** How many small groups hold a report of INBOX_REVIEWER (so their reviews are in its inbox). */
  smallGroupsInInbox: number;
  /** Members of each small group. */
  smallGroupSize: number;
}

/**
 * `reviewees` members in one group (each of the reviewees/100 managers has 100 reports), and `small`
 * groups of `size` members taken from them, 300 members apart (at 10,000). The first `inInbox` small groups start at
 * a report of INBOX_REVIEWER; the others start one member later, so none of their members reports to it.
 */
export function recordsTenant(
  reviewees: number,
  small: number,
  size: number,
  inInbox: number,
): RecordsTenant {
  const bt = benchTenant(reviewees);
  const groups = [BENCH_GROUP];
  // Member j reports to manager j % managerCount, so a start at a multiple of managerCount is a report of
  // the first manager; the span keeps every start (plus one) and its group inside the big group.
  const m = bt.managerCount;
  const span = Math.max(m, m * Math.floor((reviewees - size - 1) / m));
  for (let k = 0; k < small; k++) {
    const start = ((k * 3 * m) % span) + (k < inInbox ? 0 : 1);
    const id = `bench-small-${String(k + 1).padStart(2, '0')}`;
    groups.push(id);
    bt.tenant.groups!.push({
      id,
      displayName: `Bench small group ${k + 1}`,
      description: 'A small group under review by the records bench',
      memberIds: bt.memberIds.slice(start, start + size),
      ownerIds: [BENCH_OWNER],
    });
  }
  return { ...bt, groups, smallGroupsInInbox: Math.min(inInbox, small), smallGroupSize: size };
}
