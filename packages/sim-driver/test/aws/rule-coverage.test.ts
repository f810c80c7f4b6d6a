import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every AWS rule of docs/aws-behaviour.md is either checked by a test of the simulator (a test
// title in packages/sim-driver/test starting with its id) or says in its `Simulator:` line why
// it is not simulated.

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const DOC = join(REPO, 'docs/aws-behaviour.md');
const TESTS = join(REPO, 'packages/sim-driver/test');

interface Rule {
  readonly id: string;
  /** The rule's lines, from its `- **ID**` line to the next rule or heading. */
  readonly text: string;
}

function rules(): Rule[] {
  const out: Rule[] = [];
  let current: { id: string; lines: string[] } | null = null;
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const start = /^- \*\*([A-Z][A-Z0-9]*-\d+)\*\*/.exec(line);
    if (start || line.startsWith('#')) {
      if (current) out.push({ id: current.id, text: current.lines.join('\n') });
      current = start ? { id: start[1] as string, lines: [line] } : null;
    } else if (current) current.lines.push(line);
  }
  if (current) out.push({ id: current.id, text: current.lines.join('\n') });
  return out;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []));
}

/** Titles of the tests that check something (`it`, `test`, `it.fails`, `it.each`...; not `todo`/`skip`), by file. */
function titles(): { file: string; title: string }[] {
  const call = /\b(?:it|test)(?:\.(fails|todo|skip|only|concurrent|sequential))?(?:\.each\([^)]*\))?\(\s*(['"`])((?:\\.|(?!\2)[^\\])*)\2/g;
  return testFiles(TESTS).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(call)].filter((m) => m[1] !== 'todo' && m[1] !== 'skip').map((m) => ({ file: relative(REPO, file), title: (m[3] as string).replace(/\\(.)/g, '$1') })),
  );
}

/** The rule ids a title starts with: `EBS-4, EBS-5: …` → EBS-4, EBS-5. */
function leadingIds(title: string): string[] {
  const m = /^((?:[A-Z][A-Z0-9]*-\d+)(?:\s*,\s*[A-Z][A-Z0-9]*-\d+)*)\s*:/.exec(title);
  return m ? (m[1] as string).split(',').map((s) => s.trim()) : [];
}

const simulatorLines = (r: Rule) => r.text.split('\n').filter((l) => /^\s*Simulator:/.test(l));
const notSimulated = (r: Rule) => simulatorLines(r).some((l) => /^\s*Simulator:\s*not simulated\b/i.test(l));

describe('AWS rule coverage', () => {
  const all = rules();
  const checked = new Map<string, string[]>();
  for (const t of titles()) for (const id of leadingIds(t.title)) checked.set(id, [...(checked.get(id) ?? []), t.file]);

  it('reads the rules of docs/aws-behaviour.md and the test titles', () => {
    expect(all.length).toBeGreaterThan(90);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    expect(checked.size).toBeGreaterThan(50);
  });

  it('every rule is checked by a test whose title starts with its id, or its Simulator line says it is not simulated', () => {
    const neither = all.filter((r) => !checked.has(r.id) && !notSimulated(r)).map((r) => r.id);
    expect(neither, `rules neither checked by a test (title starting with the id) nor marked "Simulator: not simulated — <why>" in docs/aws-behaviour.md: ${neither.join(', ')}`).toEqual([]);
  });

  it('every rule has one Simulator line, and the test files it names exist', () => {
    const problems: string[] = [];
    for (const r of all) {
      const lines = simulatorLines(r);
      if (lines.length !== 1) problems.push(`${r.id}: ${lines.length} Simulator lines`);
      for (const f of lines.join(' ').match(/[\w./-]+\.test\.ts/g) ?? []) if (!existsSync(join(REPO, f))) problems.push(`${r.id}: ${f} does not exist`);
    }
    expect(problems).toEqual([]);
  });

  it('test titles cite only rules the document has', () => {
    const ids = new Set(all.map((r) => r.id));
    const unknown = [...checked].filter(([id]) => !ids.has(id)).map(([id, files]) => `${id} (${[...new Set(files)].join(', ')})`);
    expect(unknown).toEqual([]);
  });

  it('a rule marked not simulated is not also claimed by a test', () => {
    const both = all.filter((r) => notSimulated(r) && checked.has(r.id)).map((r) => r.id);
    expect(both).toEqual([]);
  });
});
