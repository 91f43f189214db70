import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TypedSearchAttributes } from '@temporalio/common';
import { parse } from 'yaml';
import { configSchema, parseConfig } from '../src/config';
import { resolveSmtpSettings } from '../src/notifications/settings';
import { stagecoachSearchAttributes } from '../src/search-attributes';

// Static checks of the Docker deliverables: no Docker engine is needed, so a typo in an env name,
// a drifted search attribute or a literal secret fails here rather than on a user's machine.

const repoRoot = path.resolve(__dirname, '..');
const composeDir = path.join(repoRoot, 'temporal-docker');
const composeText = readFileSync(path.join(composeDir, 'docker-compose.yml'), 'utf8');
const dockerfileText = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const envExampleText = readFileSync(path.join(composeDir, '.env.example'), 'utf8');
const readmeText = readFileSync(path.join(composeDir, 'README.md'), 'utf8');

type Env = Record<string, string | number | boolean | null>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Env;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; start_period?: string };
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `merge: true` resolves the `<<: *anchor` keys that share the Stagecoach image and environment.
const compose = parse(composeText, { merge: true }) as Compose;

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`service ${name} is missing from docker-compose.yml`);
  return found;
}

function envOf(name: string): Env {
  const env = service(name).environment;
  if (!env || Array.isArray(env)) throw new Error(`service ${name} must set environment as a map`);
  return env;
}

function commandText(s: Service): string {
  return [s.entrypoint, s.command].flat().filter(Boolean).join(' ');
}

function parseDotenv(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as const;
    });
  return Object.fromEntries(entries);
}

/** Compose-style interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`. */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_m, name: string, colon, op, arg) => {
      const v = vars[name];
      const missing = v === undefined || (colon === ':' && v === '');
      if (!missing) return v;
      if (op === '?') throw new Error(`required variable ${name} is not set: ${arg}`);
      return op === '-' ? (arg as string) : '';
    },
  );
}

function resolvedEnv(name: string, vars: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(envOf(name)).map(([k, v]) => [k, interpolate(String(v ?? ''), vars)]),
  );
}

/** `KEY=value` pairs of the ENV instructions in Dockerfile lines (continuations joined). */
function dockerEnv(lines: string[]): Record<string, string> {
  const text = lines.join('\n').replace(/\\\n\s*/g, ' ');
  const pairs = [...text.matchAll(/^ENV\s+(.*)$/gim)].flatMap(([, rest]) => rest!.trim().split(/\s+/));
  return Object.fromEntries(pairs.map((pair) => pair.split('=', 2) as [string, string]));
}

/** Blocks of commented `# KEY=value` lines in .env.example that follow a `# --- <title> ---` line. */
function documentedBlocks(text: string): Record<string, Record<string, string>> {
  const blocks: Record<string, Record<string, string>> = {};
  let title: string | undefined;
  for (const line of text.split('\n')) {
    const heading = /^# --- (.+?) (\(|---)/.exec(line);
    if (heading) title = heading[1];
    const setting = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (title && setting) (blocks[title] ??= {})[setting[1]!] = setting[2]!;
  }
  return blocks;
}

/** Splits a Dockerfile into stages, each the lines from one FROM up to the next. */
function dockerStages(text: string): { from: string; lines: string[] }[] {
  const stages: { from: string; lines: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) stages.push({ from: line, lines: [] });
    else if (line && !line.startsWith('#')) stages.at(-1)?.lines.push(line);
  }
  return stages;
}

const stagecoachServices = ['stagecoach-api', 'stagecoach-worker'] as const;
const setupServiceName = Object.keys(compose.services).find((name) =>
  compose.services[name]?.image?.startsWith('temporalio/admin-tools:'),
);

describe('temporal-docker compose stack', () => {
  it('defines PostgreSQL, Temporal, its UI, a setup service, and the Stagecoach API and worker', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', ...stagecoachServices]) {
      expect(compose.services).toHaveProperty([name]);
    }
    expect(setupServiceName).toBeDefined();
  });

  it('pins every third-party image to a tag, never latest', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (!s.image || name.startsWith('stagecoach-')) continue;
      const tag = interpolate(s.image, {}).split(':')[1];
      expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/^\d/) });
    }
    expect(interpolate(service('temporal').image ?? '', {})).toMatch(/^temporalio\/auto-setup:1\.29\.\d+$/);
  });

  it('publishes the Temporal Web UI on port 8080 and points it at the Temporal frontend', () => {
    expect(service('temporal-ui').ports).toEqual(['127.0.0.1:8080:8080']);
    expect(envOf('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it("publishes Temporal's frontend and Web UI on the host's loopback only, and says why", () => {
    // Anyone who reaches the frontend or the UI can signal, reset or terminate any review workflow.
    expect(service('temporal').ports).toEqual(['127.0.0.1:7233:7233']);
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'stagecoach-api') continue;
      for (const port of s.ports ?? [])
        expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^127\.0\.0\.1:/) });
    }
    expect(composeText).toMatch(/anyone who reaches it can signal/i);
  });

  it('starts Temporal only once PostgreSQL is healthy, with the postgres12 SQL plugin', () => {
    expect(service('temporal').depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(service('postgresql')).toHaveProperty('healthcheck');
    const env = envOf('temporal');
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(String(env.DB_PORT)).toBe('5432');
  });

  it('mounts the dynamic config file that DYNAMIC_CONFIG_FILE_PATH names, and that file exists', () => {
    const configPath = String(envOf('temporal').DYNAMIC_CONFIG_FILE_PATH);
    const mount = (service('temporal').volumes ?? [])
      .map((v) => v.split(':'))
      .find(([, target]) => target && path.posix.join('/etc/temporal', configPath).startsWith(`${target}/`));
    expect(mount).toBeDefined();
    const [hostDir, target] = mount as [string, string];
    const hostFile = path.join(
      composeDir,
      hostDir,
      path.posix.relative(target, path.posix.join('/etc/temporal', configPath)),
    );
    expect(existsSync(hostFile)).toBe(true);
    expect(parse(readFileSync(hostFile, 'utf8'))).toHaveProperty(['limit.maxIDLength']);
  });

  it('creates exactly the search attributes the app uses, in the namespace the app uses', () => {
    const setup = service(setupServiceName ?? 'temporal-admin-tools');
    const script = commandText(setup);
    const created = [
      ...script.matchAll(/search-attribute create\b[^\n]*?--name\s+(\S+)\s+--type\s+(\S+)/g),
    ].map(([, name, type]) => ({ name, type }));
    const expected = stagecoachSearchAttributes.map(({ name, type }) => ({
      name,
      type: TypedSearchAttributes.toMetadataType(type),
    }));
    expect(created).toEqual(expected);
    expect(envOf(setupServiceName ?? '').TEMPORAL_NAMESPACE).toBe(
      envOf('stagecoach-worker').TEMPORAL_NAMESPACE,
    );
  });

  it('starts the API and the worker only after both setup services have completed', () => {
    for (const name of stagecoachServices) {
      expect(service(name).depends_on).toEqual({
        'postgresql-setup': { condition: 'service_completed_successfully' },
        [setupServiceName ?? '']: { condition: 'service_completed_successfully' },
      });
    }
  });

  it('gives the API and the worker one DATABASE_URL: the stagecoach database, password from .env', () => {
    const vars = { ...parseDotenv(envExampleText), STAGECOACH_DB_PASSWORD: 'c0ffee' };
    const urls = stagecoachServices.map((name) => resolvedEnv(name, vars).DATABASE_URL);
    expect(urls).toEqual([
      'postgres://stagecoach:c0ffee@postgresql:5432/stagecoach',
      'postgres://stagecoach:c0ffee@postgresql:5432/stagecoach',
    ]);
    for (const name of stagecoachServices) {
      expect(parseConfig(resolvedEnv(name, vars), 'worker').DATABASE_URL).toBe(urls[0]);
    }
    // No default: compose refuses to start without the password rather than use a known one.
    const { STAGECOACH_DB_PASSWORD: _unset, ...withoutPassword } = vars;
    expect(() => resolvedEnv('stagecoach-worker', withoutPassword)).toThrow(/STAGECOACH_DB_PASSWORD/);
    expect(parseDotenv(envExampleText)).toHaveProperty(['STAGECOACH_DB_PASSWORD']);
  });

  it('creates the role and the database of DATABASE_URL on the PostgreSQL it names, once it is healthy', () => {
    const url = new URL(resolvedEnv('stagecoach-api', { STAGECOACH_DB_PASSWORD: 'c0ffee' }).DATABASE_URL!);
    const setup = service('postgresql-setup');
    expect(url.hostname).toBe('postgresql');
    expect(setup.image).toBe(service('postgresql').image);
    expect(setup.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    const env = resolvedEnv('postgresql-setup', { POSTGRES_PASSWORD: 'p', STAGECOACH_DB_PASSWORD: 'c0ffee' });
    expect(env).toMatchObject({ PGHOST: url.hostname, PGPASSWORD: 'p', STAGECOACH_DB_PASSWORD: 'c0ffee' });
    const script = commandText(setup);
    const [user, database] = [url.username, url.pathname.slice(1)];
    expect(script).toContain(`CREATE ROLE ${user} LOGIN`);
    expect(script).toContain(`ALTER ROLE ${user} WITH LOGIN PASSWORD :'pw'`);
    expect(script).toContain(`CREATE DATABASE ${database} OWNER ${user}`);
    // The password reaches psql as a variable (from the service's env), never as SQL in the file.
    expect(script).toContain('-v pw="$$STAGECOACH_DB_PASSWORD"');
    expect(setup.restart).toBe('no');
  });

  it('sets only environment variables that the app config schema knows', () => {
    const known = Object.keys(configSchema.shape);
    for (const name of stagecoachServices) {
      const unknown = Object.keys(envOf(name)).filter((key) => !known.includes(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('gives the API and the worker the same Temporal address, namespace, task queue and directory file', () => {
    const api = envOf('stagecoach-api');
    const worker = envOf('stagecoach-worker');
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE', 'DIRECTORY_FILE']) {
      expect({ key, value: worker[key] }).toEqual({ key, value: api[key] });
      expect(api[key]).toBeTruthy();
    }
    expect(api.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('shares one named volume, mounted where DIRECTORY_FILE lives, between the API and the worker', () => {
    const directoryDir = path.posix.dirname(String(envOf('stagecoach-api').DIRECTORY_FILE));
    const mounts = stagecoachServices.map((name) =>
      (service(name).volumes ?? []).find((v) => v.split(':')[1] === directoryDir),
    );
    expect(mounts[0]).toBeDefined();
    expect(mounts[1]).toBe(mounts[0]);
    const volumeName = String(mounts[0]).split(':')[0] ?? '';
    expect(compose.volumes).toHaveProperty([volumeName]);
  });

  it('runs the API on PORT 3000 and the worker with dist/worker.js from the same image', () => {
    const api = service('stagecoach-api');
    const worker = service('stagecoach-worker');
    expect(String(envOf('stagecoach-api').PORT)).toBe('3000');
    expect((api.ports ?? []).map((p: unknown) => interpolate(String(p), {}))).toContain('3000:3000');
    expect(envOf('stagecoach-worker')).not.toHaveProperty('PORT');
    expect(worker.image).toBe(api.image);
    expect(api.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(commandText(worker)).toBe('node dist/worker.js');
  });

  it('defaults to AUTH_MODE=jwt: the API refuses to start until the identity provider is set', () => {
    for (const vars of [
      parseDotenv(envExampleText),
      { POSTGRES_PASSWORD: 'x', STAGECOACH_DB_PASSWORD: 'y' },
    ]) {
      const worker = parseConfig(resolvedEnv('stagecoach-worker', vars), 'worker');
      expect(worker.AUTH_MODE).toBe('jwt');
      expect(worker.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(() => parseConfig(resolvedEnv('stagecoach-api', vars), 'api')).toThrow(
        /AUTH_MODE=jwt needs AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL/,
      );
    }
    // The demo issuer on the container's network only with the explicit opt-in.
    const demo = { ...parseDotenv(envExampleText), AUTH_MODE: 'local' };
    expect(() => parseConfig(resolvedEnv('stagecoach-api', demo))).toThrow(
      /HOST=0\.0\.0\.0 is not a loopback address.*AUTH_MODE=local/,
    );
    const local = parseConfig(resolvedEnv('stagecoach-api', { ...demo, AUTH_LOCAL_ALLOW_REMOTE: 'true' }));
    expect(local).toMatchObject({ AUTH_MODE: 'local', HOST: '0.0.0.0', AUTH_LOCAL_ALLOW_REMOTE: true });
  });

  it.each([
    ['Microsoft Entra ID', 'oid'],
    ['Keycloak', 'sub'],
  ])('documents settings for %s in .env.example that the API accepts', (provider, userClaim) => {
    const block = documentedBlocks(envExampleText)[provider];
    expect(Object.keys(block ?? {}).sort()).toEqual([
      'AUTH_ADMIN_ROLE',
      'AUTH_AUDIENCE',
      'AUTH_ISSUER',
      'AUTH_JWKS_URL',
      'AUTH_ROLES_CLAIM',
      'AUTH_USER_CLAIM',
    ]);
    // Placeholders filled in as a user would.
    const filled = Object.fromEntries(
      Object.entries(block ?? {}).map(([k, v]) => [k, v.replace(/<[^>]+>/g, 'example')]),
    );
    const config = parseConfig(resolvedEnv('stagecoach-api', { ...parseDotenv(envExampleText), ...filled }));
    expect(config).toMatchObject({ AUTH_MODE: 'jwt', AUTH_USER_CLAIM: userClaim, AUTH_ROLES_CLAIM: 'roles' });
    expect(readmeText).toContain(`**${provider}**`);
  });

  it('checks the health of the API (/health on PORT) and the worker (/health on WORKER_HEALTH_PORT)', () => {
    const checks = { 'stagecoach-api': 'PORT', 'stagecoach-worker': 'WORKER_HEALTH_PORT' } as const;
    for (const [name, portSetting] of Object.entries(checks)) {
      const check = service(name).healthcheck;
      expect(check?.test?.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(check?.test?.[3]).toContain(`'http://127.0.0.1:'+process.env.${portSetting}+'/health'`);
      expect(envOf(name)[portSetting]).toMatch(/^\d+$/);
      // The command gives up (4 s) before compose's timeout kills it.
      expect(check?.timeout).toBe('5s');
      expect(check?.test?.[3]).toContain('AbortSignal.timeout(4000)');
    }
    // The worker's port is for the check inside its container only.
    expect(service('stagecoach-worker').ports).toBeUndefined();
  });

  it('keeps every state file under the data volume: each relative *_FILE default is set under /data', () => {
    const defaults = configSchema.parse({}) as Record<string, unknown>;
    const stateFiles = Object.keys(configSchema.shape).filter(
      (key) =>
        key.endsWith('_FILE') && typeof defaults[key] === 'string' && !path.isAbsolute(String(defaults[key])),
    );
    expect(stateFiles).toEqual(expect.arrayContaining(['DIRECTORY_FILE', 'AUTH_LOCAL_KEY_FILE']));
    const image = dockerEnv(dockerStages(dockerfileText).at(-1)?.lines ?? []);
    const vars = parseDotenv(envExampleText);
    for (const name of stagecoachServices) {
      const env = { ...image, ...resolvedEnv(name, vars) };
      for (const key of stateFiles) {
        expect({ name, key, value: env[key] }).toEqual({
          name,
          key,
          value: expect.stringMatching(/^\/data\//),
        });
      }
      expect(service(name).volumes).toContain('stagecoach-data:/data');
    }
    for (const key of stateFiles)
      expect({ key, value: image[key] }).toEqual({ key, value: expect.stringMatching(/^\/data\//) });
  });

  it('documents every required variable in .env.example', () => {
    const required = [...composeText.matchAll(/\$\{([A-Z0-9_]+):?\?/g)].map(([, name]) => name);
    expect(required.length).toBeGreaterThan(0);
    const documented = parseDotenv(envExampleText);
    for (const name of required) expect(documented).toHaveProperty([name as string]);
  });

  it('contains no literal password: secrets come only from ${...} interpolation without a default', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!/PASSWORD|PWD|SECRET|TOKEN/i.test(key)) continue;
        expect({ service: name, key, value }).toEqual({
          service: name,
          key,
          value: expect.stringMatching(/^\$\{[A-Z0-9_]+(:?\?[^}]*)?\}$/),
        });
      }
    }
    // Also catches list-form `- POSTGRES_PASSWORD=...` entries and keys outside `environment`.
    const literal = composeText
      .split('\n')
      .map((line) => /^\s*-?\s*['"]?\w*(PASSWORD|PWD|SECRET)\w*['"]?\s*[:=]\s*(.*)$/i.exec(line)?.[2]?.trim())
      .filter((value) => value !== undefined && !/^['"]?\$\{[A-Z0-9_]+(:?\?[^}]*)?\}['"]?$/.test(value));
    expect(literal).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const stages = dockerStages(dockerfileText);
  const runtime = stages.at(-1);
  const build = stages[0];

  it('builds on node:20-bookworm-slim in more than one stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfileText).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    for (const stage of stages) expect(stage.from).toMatch(/^FROM \$\{NODE_IMAGE\}/);
  });

  it('installs without lifecycle scripts, builds, and prunes dev dependencies in the build stage', () => {
    const steps = build?.lines.join('\n') ?? '';
    expect(steps).toMatch(/npm ci --ignore-scripts/);
    expect(steps).toMatch(/npm run build/);
    expect(steps).toMatch(/npm prune --omit=dev/);
  });

  it('runs the final stage as the non-root node user and starts dist/server.js by default', () => {
    const users = runtime?.lines.filter((l) => /^USER\s/i.test(l)) ?? [];
    expect(users.at(-1)).toBe('USER node');
    const cmd = runtime?.lines.filter((l) => /^CMD\s/i.test(l)).at(-1);
    expect(JSON.parse(cmd?.replace(/^CMD\s+/i, '') ?? '[]')).toEqual(['node', 'dist/server.js']);
  });

  it('ships dist, node_modules, package.json and the seed data in the runtime image', () => {
    const copies = runtime?.lines.filter((l) => /^COPY\s/i.test(l)).join('\n') ?? '';
    for (const what of ['dist', 'node_modules', 'package.json', 'data']) expect(copies).toContain(what);
  });

  it('creates the shared /data directory owned by node, so the named volume is writable', () => {
    expect(runtime?.lines.join('\n')).toMatch(/mkdir -p \/data && chown node:node \/data/);
  });

  it('declares /data a volume after making it, so even a plain `docker run` keeps state off the image', () => {
    const lines = runtime?.lines ?? [];
    const volume = lines.findIndex((l) => /^VOLUME\s/i.test(l));
    expect(JSON.parse(lines[volume]?.replace(/^VOLUME\s+/i, '') ?? '[]')).toEqual(['/data']);
    expect(volume).toBeGreaterThan(lines.findIndex((l) => /chown node:node \/data/.test(l)));
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.temporal-bin', '.stagecoach', 'dist', '.git', '.env']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe.each([
  {
    heading: 'Your LDAP or Active Directory',
    directory: 'ldap',
    secret: 'LDAP_BIND_PASSWORD',
    secrets: ['ldap-bind-password', 'ldap-ca.pem'],
  },
  {
    heading: 'Your SCIM 2.0 provider',
    directory: 'scim',
    secret: 'SCIM_TOKEN',
    secrets: ['scim-applications.json', 'scim-token'],
  },
  {
    heading: 'Your Microsoft Entra ID tenant',
    directory: 'graph',
    secret: 'GRAPH_CLIENT_SECRET',
    secrets: ['graph-client-secret'],
  },
])('temporal-docker README: the $directory override', ({ heading, directory, secret, secrets }) => {
  const block = new RegExp(`## ${heading}[\\s\\S]*?\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(readmeText)?.[1];
  const override = parse(block ?? '', { merge: true }) as Compose & {
    secrets?: Record<string, { file: string }>;
  };

  it('names the compose services, settings Stagecoach knows, and a secret file instead of the secret', () => {
    expect(block).toBeDefined();
    const known = Object.keys(configSchema.shape);
    for (const name of ['stagecoach-api', 'stagecoach-worker']) {
      expect(compose.services[name]).toBeDefined();
      const env = override.services[name]?.environment ?? {};
      expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
      expect(env).toMatchObject({ DIRECTORY: directory });
      expect(env).not.toHaveProperty(secret);
      expect(String(env[`${secret}_FILE`])).toMatch(/^\/run\/secrets\//);
    }
    expect(Object.keys(override.secrets ?? {}).sort()).toEqual(secrets);
  });
});

describe('temporal-docker: mail for the worker', () => {
  const block = /## Your mail server[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readmeText)?.[1];
  const override = parse(block ?? '', { merge: true }) as Compose & {
    secrets?: Record<string, { file: string }>;
  };
  const smtpKeys = (env: Env) => Object.keys(env).filter((k) => /^(SMTP_|MAIL_)/.test(k));

  it('gives only the worker SMTP settings, every one of them in .env.example and empty there', () => {
    expect(smtpKeys(envOf('stagecoach-api'))).toEqual([]);
    const keys = smtpKeys(envOf('stagecoach-worker'));
    expect(keys).toEqual(expect.arrayContaining(['SMTP_HOST', 'MAIL_FROM']));
    const documented = parseDotenv(envExampleText);
    for (const key of keys) expect({ key, value: documented[key] }).toEqual({ key, value: '' });
    const config = parseConfig(resolvedEnv('stagecoach-worker', documented), 'worker');
    expect(config.SMTP_HOST).toBeUndefined();
  });

  it('takes the SMTP server and sender from .env, and names MAIL_FROM when only the server is set', () => {
    const vars = { ...parseDotenv(envExampleText), SMTP_HOST: 'smtp.example.com' };
    expect(() => parseConfig(resolvedEnv('stagecoach-worker', vars), 'worker')).toThrow(
      /^Invalid configuration:\n {2}MAIL_FROM is required with SMTP_HOST/,
    );
    const config = parseConfig(
      resolvedEnv('stagecoach-worker', { ...vars, SMTP_PORT: '465', MAIL_FROM: 'Reviews <r@example.com>' }),
      'worker',
    );
    expect(config).toMatchObject({ SMTP_HOST: 'smtp.example.com', SMTP_PORT: 465 });
  });

  it('documents an override for the worker with settings Stagecoach knows and the password as a secret file', async () => {
    expect(block).toBeDefined();
    expect(Object.keys(override.services)).toEqual(['stagecoach-worker']);
    const env = override.services['stagecoach-worker']?.environment ?? {};
    const known = Object.keys(configSchema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    expect(env).not.toHaveProperty('SMTP_PASSWORD');
    expect(String(env.SMTP_PASSWORD_FILE)).toMatch(/^\/run\/secrets\//);
    expect(Object.keys(override.secrets ?? {}).sort()).toEqual(['smtp-ca.pem', 'smtp-password']);
    // Merged onto the worker's environment, as compose does, with the secret files in place.
    const merged = { ...resolvedEnv('stagecoach-worker', parseDotenv(envExampleText)) };
    for (const [k, v] of Object.entries(env)) merged[k] = String(v);
    const config = parseConfig(merged, 'worker');
    const files = { read: async (p: string) => (p.endsWith('.pem') ? 'PEM' : 'secret\n') };
    expect(await resolveSmtpSettings(config, files)).toMatchObject({
      host: 'smtp.example.com',
      port: 587,
      requireTls: true,
      auth: { user: 'stagecoach@example.com', pass: 'secret' },
      ca: 'PEM',
    });
  });
});
