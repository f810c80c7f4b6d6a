// The part of Python's argparse that the AWS CLI relies on, with its rules: options may come in any
// order and be abbreviated to an unambiguous prefix (`--volume-id` for `--volume-ids`), `--opt=value`
// works, a list option takes every following non-option word, an unknown option and the words
// after it are handed back as extras (parse_known_args), and errors carry argparse's text.
import { closeMatches } from './close-matches.js';
import { CliFailure } from './cli-failure.js';
import type { ErrorMessageStyle } from './cli-failure.js';

export type Nargs = 'one' | 'optional' | 'any' | 'none';

export interface OptionDef {
  /** With the dashes: `--region`. */
  readonly flag: string;
  readonly dest: string;
  readonly nargs: Nargs;
  /** For `nargs: 'none'`: the value stored when the flag is given. */
  readonly constValue?: boolean;
  readonly convert?: 'int' | 'float';
  readonly choices?: readonly string[];
  readonly required?: boolean;
  /** Like argparse's `version` action: parsing stops where it appears. */
  readonly exits?: boolean;
}

export interface PositionalDef {
  readonly dest: string;
  readonly optional: boolean;
  readonly choices?: readonly string[];
}

export interface ParsedArgs {
  /** Values by dest: string, string[] (list options), boolean (flags), number (int options), null (`?` given without value). */
  readonly values: Map<string, unknown>;
  readonly extras: string[];
}

interface Classified {
  readonly kind: 'A' | 'O';
  readonly option?: OptionDef;
  readonly explicit?: string;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/u;

export function parseKnownArgs(
  args: readonly string[],
  options: readonly OptionDef[],
  positionals: readonly PositionalDef[],
  style: ErrorMessageStyle,
): ParsedArgs {
  const byFlag = new Map(options.map((o) => [o.flag, o]));
  const classified: Classified[] = [];
  let afterDoubleDash = false;
  for (const arg of args) {
    if (afterDoubleDash) classified.push({ kind: 'A' });
    else if (arg === '--') {
      afterDoubleDash = true;
      classified.push({ kind: 'A' });
    } else classified.push(classifyOptional(arg, byFlag, options));
  }

  const values = new Map<string, unknown>();
  const extras: string[] = [];
  const seen = new Set<OptionDef | PositionalDef>();
  let nextPositional = 0;
  let i = 0;

  const consumePositionals = (): void => {
    while (nextPositional < positionals.length) {
      const p = positionals[nextPositional] as PositionalDef;
      const c = classified[i];
      if (c?.kind === 'A' && args[i] !== '--') {
        const value = args[i] as string;
        checkChoice(p.dest, value, p.choices, style);
        values.set(p.dest, value);
        seen.add(p);
        i++;
        nextPositional++;
      } else if (p.optional) {
        // argparse consumes an optional positional with nothing as soon as it reaches it.
        nextPositional++;
      } else {
        return;
      }
    }
  };

  while (i < args.length) {
    consumePositionals();
    if (i >= args.length) break;
    const c = classified[i] as Classified;
    if (c.kind === 'A') {
      if (args[i] !== '--') extras.push(args[i] as string);
      i++;
      continue;
    }
    if (c.option === undefined) {
      extras.push(args[i] as string);
      i++;
      continue;
    }
    const option = c.option;
    if (option.exits === true) {
      values.set(option.dest, true);
      return { values, extras };
    }
    i++;
    const following: string[] = [];
    while (i + following.length < args.length && classified[i + following.length]?.kind === 'A') following.push(args[i + following.length] as string);
    seen.add(option);
    switch (option.nargs) {
      case 'none':
        if (c.explicit !== undefined) throw usage(`argument ${option.flag}: ignored explicit argument ${pyQuote(c.explicit)}`);
        values.set(option.dest, option.constValue ?? true);
        break;
      case 'one': {
        let value: string;
        if (c.explicit !== undefined) value = c.explicit;
        else if (following.length > 0) {
          value = following[0] as string;
          i++;
        } else throw usage(`argument ${option.flag}: expected one argument`);
        values.set(option.dest, convert(option, value, style));
        break;
      }
      case 'optional': {
        if (c.explicit !== undefined) values.set(option.dest, convert(option, c.explicit, style));
        else if (following.length > 0) {
          values.set(option.dest, convert(option, following[0] as string, style));
          i++;
        } else values.set(option.dest, null);
        break;
      }
      case 'any': {
        const list = c.explicit !== undefined ? [c.explicit] : following;
        if (c.explicit === undefined) i += following.length;
        values.set(option.dest, list.map((v) => convert(option, v, style)));
        break;
      }
    }
  }
  consumePositionals();

  const missing = [
    ...options.filter((o) => o.required === true && !seen.has(o)).map((o) => o.flag),
    ...positionals.filter((p) => !p.optional && !seen.has(p)).map((p) => p.dest),
  ];
  if (missing.length > 0) throw usage(`the following arguments are required: ${missing.join(', ')}`);
  return { values, extras };
}

function classifyOptional(arg: string, byFlag: Map<string, OptionDef>, options: readonly OptionDef[]): Classified {
  if (arg === '' || arg[0] !== '-') return { kind: 'A' };
  const exact = byFlag.get(arg);
  if (exact !== undefined) return { kind: 'O', option: exact };
  if (arg.length === 1) return { kind: 'A' };
  const eq = arg.indexOf('=');
  if (eq !== -1) {
    const named = byFlag.get(arg.slice(0, eq));
    if (named !== undefined) return { kind: 'O', option: named, explicit: arg.slice(eq + 1) };
  }
  const prefix = eq === -1 ? arg : arg.slice(0, eq);
  const candidates = arg.startsWith('--') ? options.filter((o) => o.flag.startsWith(prefix)) : [];
  if (candidates.length > 1) {
    throw usage(`ambiguous option: ${prefix} could match ${candidates.map((o) => o.flag).join(', ')}`);
  }
  if (candidates.length === 1) {
    const only = candidates[0] as OptionDef;
    return eq === -1 ? { kind: 'O', option: only } : { kind: 'O', option: only, explicit: arg.slice(eq + 1) };
  }
  if (NEGATIVE_NUMBER.test(arg)) return { kind: 'A' };
  if (arg.includes(' ')) return { kind: 'A' };
  return { kind: 'O' };
}

function convert(option: OptionDef, value: string, style: ErrorMessageStyle): unknown {
  let converted: unknown = value;
  if (option.convert === 'int') {
    const m = /^\s*[+-]?\d(?:_?\d)*\s*$/u.exec(value);
    if (m === null) throw usage(`argument ${option.flag}: invalid int value: ${pyQuote(value)}`);
    converted = Number(value.trim().replaceAll('_', ''));
  } else if (option.convert === 'float') {
    const n = Number(value.trim());
    if (value.trim() === '' || Number.isNaN(n)) throw usage(`argument ${option.flag}: invalid float value: ${pyQuote(value)}`);
    converted = n;
  }
  checkChoice(option.flag, value, option.choices, style);
  return converted;
}

/** The AWS CLI's own invalid-choice text (awscli/argparser.py), in either version's wording. */
export function invalidChoiceMessage(name: string, value: string, choices: readonly string[], style: ErrorMessageStyle): string {
  const possible = closeMatches(value, choices, 3, 0.8);
  if (style === 'before-2.34') {
    const lines = ['Invalid choice, valid choices are:\n'];
    for (let k = 0; k < choices.length; k += 2) lines.push(choices.slice(k, k + 2).map((c) => c.padEnd(40)).join(' | '));
    if (possible.length > 0) lines.push(`\n\nInvalid choice: ${pyQuote(value)}, maybe you meant:\n`, ...possible.map((w) => `  * ${w}`));
    return `argument ${name}: ${lines.join('\n')}`;
  }
  const lines = [`Found invalid choice '${value}'\n`];
  if (possible.length > 0) lines.push('Maybe you meant:\n', ...possible.map((w) => `  * ${w}`));
  return `argument ${name}: ${lines.join('\n')}`;
}

function checkChoice(name: string, value: string, choices: readonly string[] | undefined, style: ErrorMessageStyle): void {
  if (choices !== undefined && !choices.includes(value)) throw usage(invalidChoiceMessage(name, value, choices, style));
}

function usage(message: string): CliFailure {
  return CliFailure.usage(message);
}

/** Python's repr of a string, as argparse messages show values. */
function pyQuote(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
