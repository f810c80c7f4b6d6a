// Writing a response as `--output json|text|off`, after `--query`, in the order the CLI's
// formatters (awscli/formatter.py) do it:
// - json: the whole result (all pages merged) is queried once and printed with 4-space indents,
//   keys in response order; a result that is exactly {} prints nothing;
// - text: each page is queried and printed on its own (the CLI documents that --query must then
//   select from the paginator's result keys), then the resume token as {"NextToken": {...}};
// - off: nothing (every page is still fetched).
import jmespath from 'jmespath';
import { CliFailure } from './cli-failure.js';
import { setByPath } from './paginate.js';
import type { Page, PageIterator } from './paginate.js';
import { pyJsonDumps } from './py-values.js';
import { TextFormatError, formatText } from './text-format.js';

export type OutputFormat = 'json' | 'text' | 'off';

export function applyQuery(query: string | undefined, data: unknown): unknown {
  if (query === undefined) return data;
  try {
    const v: unknown = jmespath.search(data, query);
    return v === undefined ? null : v;
  } catch (e) {
    throw CliFailure.general(pythonQueryError(e instanceof Error ? e.message : String(e)), e);
  }
}

// jmespath.py's wording for errors both libraries detect the same way (wrong argument count).
function pythonQueryError(message: string): string {
  const arity = /^ArgumentError: (\w+)\(\) takes (at least ?)?(\d+) arguments? but received (\d+)$/u.exec(message);
  if (arity === null) return message;
  const [, fn, atLeast, expected, actual] = arity;
  return `Expected ${atLeast === undefined ? '' : 'at least '}${expected} ${expected === '1' ? 'argument' : 'arguments'} for function ${fn}(), received ${actual}`;
}

function isEmptyDict(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function json(value: unknown): string {
  return isEmptyDict(value) ? '' : `${pyJsonDumps(value, 4)}\n`;
}

function text(value: unknown, sink: { stdout: string }): void {
  try {
    sink.stdout += formatText(value);
  } catch (e) {
    if (e instanceof TextFormatError) {
      sink.stdout += e.partial;
      throw CliFailure.general(e.message, e);
    }
    throw e;
  }
}

/** Formats a single (non-paginated) response into `sink.stdout`. */
export function writeResponse(response: Page, format: OutputFormat, query: string | undefined, sink: { stdout: string }): void {
  if (format === 'off') return;
  const result = applyQuery(query, response);
  if (format === 'json') sink.stdout += json(result);
  else text(result, sink);
}

/** Fetches and formats a paginated response into `sink.stdout` (text output grows page by page). */
export async function writePaginated(
  pages: PageIterator,
  params: Record<string, unknown>,
  format: OutputFormat,
  query: string | undefined,
  sink: { stdout: string },
): Promise<void> {
  if (format === 'json') {
    const full = await pages.fullResult(params);
    sink.stdout += json(applyQuery(query, full));
    return;
  }
  let index = 0;
  for await (const page of pages.pages(params)) {
    if (format === 'off') continue;
    const current: Page = index === 0 ? pages.nonAggregatePart : {};
    for (const key of pages.resultKeys) {
      const v: unknown = jmespath.search(page, key);
      setByPath(current, key, v === undefined ? null : v);
    }
    text(applyQuery(query, current), sink);
    index++;
  }
  if (format === 'text' && pages.resumeToken !== null) {
    text(applyQuery(query, { NextToken: { NextToken: pages.resumeToken } }), sink);
  }
}
