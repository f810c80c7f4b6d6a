import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

// The README's quick start, run as written: the first ```ts block of README.md.
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];

describe('README quick start', () => {
  it('runs as written: provisions, rolls, and IAM denies nothing', async () => {
    expect(snippet, 'README.md has no ```ts block').toBeTruthy();
    const dir = fileURLToPath(new URL('./.generated/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = `${dir}readme-quick-start.ts`;
    writeFileSync(file, snippet!);
    const logs: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    // Three replacements logged, then the report's duration, its calls, and no IAM denial.
    expect(logs.filter((l) => typeof l[0] === 'string' && /^kafka-\d: i-[0-9a-f]+ → i-[0-9a-f]+$/.test(l[0]))).toHaveLength(3);
    // The canary held once, with a bake time.
    expect(logs.filter((l) => typeof l[0] === 'string' && /^canary kafka-\d bakes until \d{4}-/.test(l[0]))).toHaveLength(1);
    // The plan printed the canary and its hold.
    expect(logs.some((l) => typeof l[0] === 'string' && /canary\n {6}then hold \(canary\): bake 15m/.test(l[0]))).toBe(true);
    const last = logs.at(-1)!;
    expect(last[0]).toBeGreaterThan(0);
    expect((last[1] as Record<string, number>).TerminateInstanceInAutoScalingGroup).toBe(3);
    expect(last[2]).toEqual([]);
  }, 60_000);
});
