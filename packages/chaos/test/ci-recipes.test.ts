// The scale-out recipes (examples/ci): the GitHub Actions matrix and the Kubernetes Indexed Job.
// Each file is parsed, and the exact berth-chaos command lines it contains are run in-process
// (main(argv), no child process) for every shard, with small runs: the only changes are the
// size of the range (RUNS) and where the results directory lives (a temp dir stands for the
// runner's checkout and for the Job's shared volume). Their merges equal the unsharded run.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { main } from '../bin/cli.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RUNS = '3';

/** A shell-like split: quoted words, `$VAR` / `${VAR}` from env, `dir/shard-*` globs expanded under cwd. */
function words(line: string, env: Record<string, string>, cwd: string): string[] {
  const out: string[] = [];
  for (const m of line.match(/"[^"]*"|\S+/g) ?? []) {
    const w = m.replace(/^"(.*)"$/, '$1').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
      const v = env[(a ?? b)!];
      if (v === undefined) throw new Error(`${a ?? b} is not set for: ${line}`);
      return v;
    });
    if (!w.includes('*')) {
      out.push(w);
      continue;
    }
    const [head, rest] = w.split(/\/(?=[^/]*\*)/) as [string, string];
    const [pattern, ...tail] = rest.split('/');
    const re = new RegExp(`^${pattern!.replace(/\*/g, '.*')}$`);
    const dir = head.startsWith('/') ? head : join(cwd, head);
    for (const name of readdirSync(dir).filter((n) => re.test(n)).sort()) out.push([head, name, ...tail].join('/'));
  }
  return out;
}

/** Runs one `npx berth-chaos ...` line in-process; returns its exit code. */
async function berthChaos(argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  expect(argv.slice(0, 2)).toEqual(['npx', 'berth-chaos']);
  const log: string[] = [];
  const code = await main(argv.slice(2), { out: (l) => log.push(l), err: (l) => log.push(l), env, cwd, progress: false });
  if (code !== 0) throw new Error(`berth-chaos ${argv.slice(2).join(' ')} exited ${code}:\n${log.join('\n')}`);
  return code;
}

/** A directory standing for the checkout: the repository's examples/ (the strategy module) linked in. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-chaos-ci-'));
  symlinkSync(join(REPO, 'examples'), join(dir, 'examples'));
  return dir;
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
/** An unsharded summary, less its wall-clock throughput. */
const unsharded = async (env: Record<string, string>, cwd: string) => {
  await berthChaos(['npx', 'berth-chaos', 'run', env['STRATEGY']!, '--runs', RUNS, '--seed', env['SEED']!, '--report', 'all'], env, cwd);
  const { scenariosPerSecond, ...rest } = json(join(cwd, 'all', 'summary.json'));
  expect(scenariosPerSecond).toEqual(expect.any(Number));
  return rest;
};

describe('scale-out recipes', () => {
  it('GitHub Actions: every matrix shard runs its line, the merge job joins the summaries into the unsharded run', async () => {
    const wf = parse(readFileSync(join(REPO, 'examples/ci/github-actions-chaos.yml'), 'utf8')) as {
      env: Record<string, string>;
      jobs: { shard: { strategy: { matrix: { shard: number[] } }; steps: { name?: string; run?: string }[] }; merge: { needs: string; steps: { name?: string; run?: string }[] } };
    };
    const cwd = checkout();
    const shards = wf.jobs.shard.strategy.matrix.shard;
    expect(shards).toEqual(Array.from({ length: Number(wf.env['SHARDS']) }, (_, i) => i + 1));
    expect(wf.env['RUNS']).toMatch(/inputs\.runs/);
    const env = { ...wf.env, RUNS, SEED: '1' };
    const line = wf.jobs.shard.steps.find((s) => s.run?.includes('berth-chaos run'))!.run!;
    // Exit 1 (failures found) must not stop the upload: the line says so.
    const [command, orElse] = line.split(' || ');
    expect(orElse).toBe('test $? -eq 1');
    for (const shard of shards) await berthChaos(words(command!.replaceAll('${{ matrix.shard }}', String(shard)), env, cwd), env, cwd);
    // upload-artifact takes chaos/ (shard-N/ inside); download-artifact with merge-multiple puts them back side by side.
    expect(wf.jobs.merge.needs).toBe('shard');
    const merge = wf.jobs.merge.steps.find((s) => s.run?.includes('berth-chaos merge'))!.run!;
    await berthChaos(words(merge, env, cwd), env, cwd);
    expect(json(join(cwd, 'chaos', 'summary.json'))).toEqual(await unsharded(env, cwd));
  }, 30_000);

  it('Kubernetes: every index of the Indexed Job runs its args with JOB_COMPLETION_INDEX, the merge Job joins them into the unsharded run', async () => {
    interface Container { command: string[]; args: string[]; env?: { name: string; value: string }[]; volumeMounts: { mountPath: string }[] }
    interface JobDoc { kind: string; metadata: { name: string }; spec: { completionMode?: string; completions?: number; parallelism?: number; template: { spec: { restartPolicy: string; containers: Container[] } } } }
    const docs = parseAllDocuments(readFileSync(join(REPO, 'examples/ci/k8s-chaos-indexed-job.yaml'), 'utf8')).map((d) => d.toJS() as JobDoc);
    const [job, mergeJob] = docs.filter((d) => d.kind === 'Job');
    expect(job!.spec).toMatchObject({ completionMode: 'Indexed', completions: expect.any(Number), parallelism: expect.any(Number) });
    expect(job!.spec.template.spec.restartPolicy).toBe('Never');
    const cwd = checkout();
    const c = job!.spec.template.spec.containers[0]!;
    const mount = c.volumeMounts[0]!.mountPath;
    // The shared volume: a directory of the temp checkout.
    const results = join(cwd, 'results');
    mkdirSync(results);
    const onVolume = (arg: string) => (arg.startsWith(`${mount}/`) ? `${results}${arg.slice(mount.length)}` : arg);
    const env: Record<string, string> = { ...Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value])), RUNS };
    // Kubernetes expands $(VAR) in args from the container's environment.
    const args = c.args.map((a) => onVolume(a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v]!)));
    expect(args).toContain('JOB_COMPLETION_INDEX');
    for (let index = 0; index < job!.spec.completions!; index++) {
      const podEnv = { ...env, JOB_COMPLETION_INDEX: String(index) };
      await berthChaos([...c.command, ...args], podEnv, cwd);
    }
    const m = mergeJob!.spec.template.spec.containers[0]!;
    expect(m.command).toEqual(['sh', '-c']);
    const line = m.args[0]!.replaceAll(`${mount}/`, `${results}/`);
    await berthChaos(words(line, env, cwd), env, cwd);
    expect(json(join(results, 'summary.json'))).toEqual(await unsharded({ ...env, SEED: env['SEED']! }, cwd));
    // A pod without its index is refused before any run.
    const err: string[] = [];
    expect(await main(c.args.slice(0).map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v]!)), { out: () => {}, err: (l) => err.push(l), env, cwd })).toBe(2);
    expect(err.join('\n')).toMatch(/--shard-index-env JOB_COMPLETION_INDEX: the environment variable is not set/);
  }, 30_000);
});
