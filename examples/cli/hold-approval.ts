/**
 * What the CLI answers when a roll holds without a hold time (after its canary, or at a
 * checkpoint) and polls the `approve` hook: yes at once with `--yes`, else the operator's answer
 * to a prompt on the terminal — false on every poll until it comes.
 */
import { createInterface } from 'node:readline';
import type { RollHold, RollHooks } from '@berth/core';

export interface PromptInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
}

export interface HoldApprovalOptions {
  /** `--yes`: approve every hold without asking. */
  readonly yes: boolean;
  readonly input?: PromptInput | undefined;
  readonly output: NodeJS.WritableStream;
  /** Shows a line with the roll's progress. */
  readonly note: (line: string) => void;
  /** A prompt opens (true) or closes (false): a live view stops redrawing over it meanwhile. */
  readonly onPrompt?: (open: boolean) => void;
  /** The operator said no (or pressed Ctrl-C at the prompt): stop the roll. */
  readonly onDecline: (hold: RollHold) => void;
}

export interface HoldApproval {
  readonly approve: NonNullable<RollHooks['approve']>;
  /** Pending while a prompt waits for its answer (a simulation keeps its time still meanwhile). */
  waiting(): Promise<void> | null;
  close(): void;
}

/** `canary hold (1 of 5 replaced)`, `checkpoint 50% (3 of 5 replaced)`. */
export function describeHold(hold: RollHold): string {
  const done = `${hold.replaced.length} of ${hold.total} replaced`;
  return hold.kind === 'canary' ? `canary hold (${done})` : `checkpoint ${hold.percent ?? '?'}% (${done})`;
}

export function holdApproval(options: HoldApprovalOptions): HoldApproval {
  const answers = new Map<string, boolean>();
  let open: { key: string; done: Promise<void>; close(): void } | null = null;
  const keyOf = (h: RollHold) => `${h.kind}:${h.percent ?? ''}:${h.replaced.length}`;

  const ask = (hold: RollHold, key: string) => {
    const input = options.input;
    if (!input) return;
    options.onPrompt?.(true);
    const rl = createInterface({ input, output: options.output });
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const answer = (yes: boolean, how: string) => {
      if (answers.has(key)) return;
      answers.set(key, yes);
      rl.close();
      open = null;
      options.onPrompt?.(false);
      options.note(`${describeHold(hold)}: ${yes ? 'approved' : 'declined'} ${how}`);
      if (!yes) options.onDecline(hold);
      finish();
    };
    open = {
      key,
      done,
      close: () => {
        rl.close();
        finish();
      },
    };
    // Ctrl-C at the prompt (the terminal in raw mode sends it to readline, not the process) declines.
    rl.on('SIGINT', () => answer(false, '(Ctrl-C)'));
    rl.question(`The roll holds at its ${describeHold(hold)}. Continue? [y/N] `, (text) => answer(/^y(es)?$/i.test(text.trim()), 'at the prompt'));
  };

  return {
    approve: (hold) => {
      const key = keyOf(hold);
      if (options.yes) {
        if (!answers.has(key)) options.note(`${describeHold(hold)}: approved (--yes)`);
        answers.set(key, true);
        return true;
      }
      const answer = answers.get(key);
      if (answer !== undefined) return answer;
      if (open?.key !== key) ask(hold, key);
      return false;
    },
    waiting: () => open?.done ?? null,
    close: () => {
      open?.close();
      open = null;
    },
  };
}
