/**
 * Deterministic UUID-shaped ids derived from a name (FNV-1a over four lanes), so that the same
 * definition, occurrence or reviewee always yields the same id: a retried start cannot create a second
 * instance, and workflow code can derive ids without randomness.
 */
export function deterministicUuid(name: string): string {
  const lanes = [0x811c9dc5, 0x01000193 ^ 0x5bd1e995, 0x9e3779b9, 0x85ebca6b];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    for (let l = 0; l < 4; l++) {
      lanes[l] = Math.imul((lanes[l] ?? 0) ^ (c + l * 0x9e), 0x01000193 + l * 0x2a) >>> 0;
    }
  }
  // Final avalanche so that names differing in the last character still differ everywhere.
  for (let l = 0; l < 4; l++) {
    let h = (lanes[l] ?? 0) ^ (lanes[(l + 1) % 4] ?? 0);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    lanes[l] = (h ^ (h >>> 16)) >>> 0;
  }
  const hex = lanes.map((v) => v.toString(16).padStart(8, '0')).join('');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Workflow id of the series (recurrence) workflow of a definition. */
export const seriesWorkflowId = (definitionId: string) => `access-review/${definitionId}`;
/** Workflow id of one review instance; reads like the Graph path in the Web UI. */
export const instanceWorkflowId = (definitionId: string, instanceId: string) =>
  `access-review/${definitionId}/${instanceId}`;
/** Workflow id of the block → 30 days → delete workflow of a denied guest. */
export const guestDeletionWorkflowId = (userId: string) => `guest-deletion/${userId}`;
/** Id of the instance for the n-th occurrence (1-based) of a definition. */
export const instanceIdFor = (definitionId: string, occurrence: number) =>
  deterministicUuid(`instance:${definitionId}:${occurrence}`);
/** Id of a reviewee's decision item within an instance. */
export const decisionItemIdFor = (instanceId: string, principalId: string) =>
  deterministicUuid(`decision:${instanceId}:${principalId}`);
/** Workflow id of one shard of a large review instance (its reviewees, decisions and apply). */
export const shardWorkflowId = (instanceWorkflowId: string, shard: number) =>
  `${instanceWorkflowId}/shard-${shard + 1}`;
/**
 * The shard (0-based, of `count`) that holds a decision item: decided by the item id alone, so the API
 * routes a decision to its shard without asking anyone, and each shard selects its own reviewees.
 */
export function shardOf(itemId: string, count: number): number {
  if (count <= 1) return 0;
  const tail = parseInt(itemId.replace(/-/g, '').slice(-8), 16);
  return (Number.isNaN(tail) ? 0 : tail) % count;
}
