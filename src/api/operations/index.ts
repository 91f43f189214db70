import type { AnyOperation } from '../operation';
import { decisionItemOperations } from './decisions';
import { definitionOperations } from './definitions';
import { delegationOperations } from './delegations';
import { directoryOperations } from './directory';
import { historyOperations } from './history';
import { evidenceOperations } from './evidence';
import { instanceOperations } from './instances';
import { serviceOperations } from './service';

export { MINE } from './paths';

/** Every operation the API serves: the router and /openapi.json are both built from this table. */
export const operations: readonly AnyOperation[] = [
  ...serviceOperations,
  ...definitionOperations,
  ...instanceOperations,
  ...decisionItemOperations,
  ...delegationOperations,
  ...evidenceOperations,
  ...directoryOperations,
  ...historyOperations,
];
