import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The modules a file loads at run time: relative imports and re-exports that are not type-only. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)(?! type )[^;]*?from '(\.[^']*)';/gms)].map(
    (m) => m[1]!,
  );
  return specs.flatMap((spec) => {
    const target = path.resolve(path.dirname(file), spec);
    const found = [`${target}.ts`, path.join(target, 'index.ts')].find((p) => existsSync(p));
    return found ? [found] : [];
  });
}

describe('the module graph', () => {
  it('has no import cycles among the modules loaded at run time', () => {
    const graph = new Map(sources(SRC).map((f) => [f, runtimeImports(f)]));
    expect(graph.size).toBeGreaterThan(80);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          const cycle = [...trail.slice(trail.indexOf(next)), next];
          cycles.push(cycle.map((f) => path.relative(SRC, f)).join(' → '));
        } else if (!state.has(next)) visit(next, [...trail, next]);
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('reads the run-time imports of a module, so the graph it walks is the real one', () => {
    const a = runtimeImports(path.join(SRC, 'api/app.ts')).map((f) => path.relative(SRC, f));
    expect(a).toEqual(expect.arrayContaining(['api/router.ts', 'api/operations/index.ts']));
  });
});
