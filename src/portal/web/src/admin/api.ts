import { api, unwrap } from '../api/client';
import type { DecisionItem, Definition, Instance, Stage } from '../api/types';

export type { DecisionItem, Definition, Instance, Stage };

export const DEFINITIONS = '/v1.0/identityGovernance/accessReviews/definitions' as const;
const INSTANCES = `${DEFINITIONS}/{definitionId}/instances` as const;
const INSTANCE = `${INSTANCES}/{instanceId}` as const;

/** Decisions counted by outcome: what a progress bar shows. */
export interface Tally {
  Approve: number;
  Deny: number;
  DontKnow: number;
  NotReviewed: number;
}
export const OUTCOMES = ['Approve', 'Deny', 'DontKnow', 'NotReviewed'] as const;

export async function definitions(skip: number, top: number) {
  return unwrap(
    await api.GET(DEFINITIONS, {
      params: { query: { $top: top, $skip: skip, $count: 'true', $orderby: 'createdDateTime desc' } },
    }),
  );
}

export async function definition(definitionId: string): Promise<Definition> {
  return unwrap(
    await api.GET(`${DEFINITIONS}/{definitionId}`, { params: { path: { definitionId } } }),
  ) as Definition;
}

export async function instances(definitionId: string): Promise<Instance[]> {
  return unwrap(await api.GET(INSTANCES, { params: { path: { definitionId }, query: { $top: 100 } } }))
    .value as Instance[];
}

export async function instance(definitionId: string, instanceId: string): Promise<Instance> {
  return unwrap(await api.GET(INSTANCE, { params: { path: { definitionId, instanceId } } })) as Instance;
}

export async function stages(definitionId: string, instanceId: string): Promise<Stage[]> {
  return unwrap(await api.GET(`${INSTANCE}/stages`, { params: { path: { definitionId, instanceId } } }))
    .value as Stage[];
}

/** The decisions of an instance (or one stage of it) counted by outcome, one $count each. */
export async function tally(definitionId: string, instanceId: string, stageId?: string): Promise<Tally> {
  const counts = await Promise.all(
    OUTCOMES.map(async (d) => {
      const query = { $filter: `decision eq '${d}'` };
      const result = stageId
        ? await api.GET(`${INSTANCE}/stages/{stageId}/decisions/$count`, {
            params: { path: { definitionId, instanceId, stageId }, query },
            parseAs: 'text',
          })
        : await api.GET(`${INSTANCE}/decisions/$count`, {
            params: { path: { definitionId, instanceId }, query },
            parseAs: 'text',
          });
      return Number(unwrap(result));
    }),
  );
  return { Approve: counts[0]!, Deny: counts[1]!, DontKnow: counts[2]!, NotReviewed: counts[3]! };
}

export async function decisions(definitionId: string, instanceId: string, skip: number, top: number) {
  return unwrap(
    await api.GET(`${INSTANCE}/decisions`, {
      params: { path: { definitionId, instanceId }, query: { $top: top, $skip: skip, $count: 'true' } },
    }),
  );
}

export type InstanceAction = 'stop' | 'applyDecisions';
export async function instanceAction(
  definitionId: string,
  instanceId: string,
  action: InstanceAction,
): Promise<void> {
  const path = { definitionId, instanceId };
  unwrap(
    action === 'stop'
      ? await api.POST(`${INSTANCE}/stop`, { params: { path } })
      : await api.POST(`${INSTANCE}/applyDecisions`, { params: { path } }),
  );
}

export async function stopStage(definitionId: string, instanceId: string, stageId: string): Promise<void> {
  unwrap(
    await api.POST(`${INSTANCE}/stages/{stageId}/stop`, {
      params: { path: { definitionId, instanceId, stageId } },
    }),
  );
}
