import type { DirectoryUser } from '../port';
import type { ReadCache } from '../read-cache';
import type { BatchRequest, GraphApi } from './client';
import { batchItemFailure } from './client';
import type { GraphUser } from './objects';
import { isId, toUser } from './objects';
import type { GraphSettings } from './settings';

/**
 * Users by id: `GET /users/{id}` with the properties Stagecoach maps (sign-in activity and the manager are
 * only returned there), many at once in JSON batches. Each user is reused from the adapter's read cache,
 * so the shards of a review, and the managers of many reviewees, are read once.
 */
export class GraphUsers {
  private readonly select: string;

  constructor(
    private readonly api: GraphApi,
    private readonly settings: GraphSettings,
    private readonly cache: ReadCache,
  ) {
    const props = [
      'id',
      'displayName',
      'userPrincipalName',
      'mail',
      'userType',
      'accountEnabled',
      'createdDateTime',
    ];
    if (settings.signInActivity) props.push('signInActivity');
    this.select = props.join(',');
  }

  private url(id: string): string {
    return `/users/${id}?$select=${this.select}&$expand=manager($select=id)`;
  }

  private map(u: GraphUser): DirectoryUser {
    return toUser(this.settings.signInActivity, u);
  }

  /** One user; undefined for an unknown or malformed id (not asked: Graph would answer 400). */
  get(id: string): Promise<DirectoryUser | undefined> {
    if (!isId(id)) return Promise.resolve(undefined);
    return this.cache.get(`user:${id}`, async () => {
      const u = await this.api.get<GraphUser>(this.url(id));
      return u && this.map(u);
    });
  }

  /** Users for the ids, in their order; unknown ones left out. Those not in the cache go in batches. */
  async many(ids: readonly string[]): Promise<DirectoryUser[]> {
    const wanted = ids.filter(isId);
    const missing = [...new Set(wanted.filter((id) => !this.cache.has(`user:${id}`)))];
    const requests = missing.map((id): BatchRequest => ({ method: 'GET', url: this.url(id) }));
    const responses = await this.api.batchAll(requests);
    const fetched = new Map<string, DirectoryUser | undefined>();
    responses.forEach((r, i) => {
      if (r.status === 200) fetched.set(missing[i]!, this.map(r.body as unknown as GraphUser));
      else if (r.status === 404) fetched.set(missing[i]!, undefined);
      else throw batchItemFailure(requests[i]!, r);
    });
    const users = await Promise.all(
      wanted.map((id) =>
        fetched.has(id) ? this.cache.get(`user:${id}`, () => Promise.resolve(fetched.get(id))) : this.get(id),
      ),
    );
    return users.filter((u): u is DirectoryUser => u !== undefined);
  }
}
