import { BerthError } from '@berth/core';

const codeOf = (err: unknown): string | null => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
};

/**
 * One message for stderr: `error CODE: message` (a config error's message lists each issue with
 * its path), then the cause when it adds something the message does not say. No stack trace,
 * unless `debug` (BERTH_DEBUG=1).
 */
export function formatError(err: unknown, debug: boolean): string {
  if (!(err instanceof Error)) return `error: ${String(err)}\n`;
  const code = err instanceof BerthError ? err.code : codeOf(err);
  const lines = [`error${code ? ` ${code}` : ''}: ${err.message}`];
  const seen = new Set([err.message]);
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++, cause = cause.cause) {
    if ([...seen].some((m) => m.includes(cause instanceof Error ? cause.message : ''))) continue;
    seen.add(cause.message);
    const c = codeOf(cause);
    lines.push(`  cause${c ? ` ${c}` : ''}: ${cause.message}`);
  }
  if (debug) {
    let e: unknown = err;
    for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) lines.push(`${depth === 0 ? '' : 'caused by: '}${e.stack ?? e.message}`);
  }
  return `${lines.join('\n')}\n`;
}
