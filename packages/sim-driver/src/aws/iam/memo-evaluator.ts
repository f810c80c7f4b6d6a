import type { IamDecision, IamEvaluationRequest, IamEvaluator } from './iam-decision.js';
import { LITERAL_STAR } from './iam-simulate-evaluator.js';
import { lowercaseContext, matchVector, policyReads, type PolicyReads } from './policy-reads.js';

/** Decisions kept, process-wide (a few hundred bytes each). */
const MAX_DECISIONS = 50_000;
/** Policy sets (and resource policies) analysed, process-wide. */
const MAX_POLICY_SETS = 1_000;

export interface MemoizeEvaluatorOptions {
  /**
   * Also evaluate every request afresh and throw when the memo's answer differs (for tests and
   * debugging; every evaluation then costs what a fresh one does). Default false.
   */
  readonly verify?: boolean;
}

/** Counters of the process-wide memo (for benchmarks and tests). */
export interface MemoStats {
  hits: number;
  misses: number;
  /** Requests whose policies could not be analysed: evaluated afresh every time. */
  uncacheable: number;
}

const ABSENT = '\u0000absent';
const SEP = '\u0001';

/**
 * The memo shared by every simulation of the process. A key holds exactly what the policies can
 * see of a request, so a hit cannot differ from a fresh evaluation: the policy set, the action,
 * the principal's and the resource's accounts, the resource's type (its ARN with the final name
 * or id — and a group's id — left out), whether the resource matches each `Resource` and
 * `NotResource` pattern of the set (policy variables resolved from the request), the values of
 * the context keys the conditions read (their keys and the variables in their values,
 * case-insensitively; "absent" is a value), and, with a
 * resource policy, that policy, the principal and the whole resource.
 */
class SharedMemo {
  readonly decisions = new Map<string, IamDecision>();
  readonly pending = new Map<string, Promise<IamDecision>>();
  readonly reads = new Map<string, PolicyReads | null>();
  readonly resourcePolicyReads = new Map<string, PolicyReads | null>();
  readonly stats: MemoStats = { hits: 0, misses: 0, uncacheable: 0 };

  readsOf(cache: Map<string, PolicyReads | null>, cacheKey: string, documents: () => readonly unknown[]): PolicyReads | null {
    let r = cache.get(cacheKey);
    if (r === undefined) {
      try {
        r = policyReads(documents());
      } catch {
        r = null; // a pattern the analysis cannot compile: never memoised
      }
      if (cache.size >= MAX_POLICY_SETS) cache.delete(cache.keys().next().value as string);
      cache.set(cacheKey, r);
    }
    return r;
  }

  remember(key: string, decision: IamDecision): void {
    if (this.decisions.size >= MAX_DECISIONS) this.decisions.delete(this.decisions.keys().next().value as string);
    this.decisions.set(key, decision);
  }
}

const shared = new SharedMemo();

/** The process-wide memo's counters (read-only view; reset with {@link resetEvaluatorMemo}). */
export function evaluatorMemoStats(): Readonly<MemoStats> {
  return { ...shared.stats };
}

/** Empties the process-wide memo (tests and benchmarks that measure fresh evaluations). */
export function resetEvaluatorMemo(): void {
  shared.decisions.clear();
  shared.pending.clear();
  shared.reads.clear();
  shared.resourcePolicyReads.clear();
  shared.stats.hits = 0;
  shared.stats.misses = 0;
  shared.stats.uncacheable = 0;
}

/**
 * Wraps an evaluator with the process-wide memo: a request the policies cannot tell from one
 * already decided gets the same decision, synchronously. Identical requests in flight share
 * one evaluation. Errors are not remembered.
 *
 * @example
 * ```ts
 * const evaluator = memoizeEvaluator(await loadIamSimulateEvaluator());
 * sim.iam.evaluator = evaluator; // every simulation of the process shares the memo
 * ```
 */
export function memoizeEvaluator(inner: IamEvaluator, options: MemoizeEvaluatorOptions = {}): IamEvaluator {
  const verify = options.verify ?? false;
  return {
    evaluate(request: IamEvaluationRequest): IamDecision | Promise<IamDecision> {
      const key = memoKey(request);
      if (key === null) {
        shared.stats.uncacheable++;
        return inner.evaluate(request);
      }
      const known = shared.decisions.get(key);
      if (known !== undefined) {
        shared.stats.hits++;
        return verify ? checkAgainstFresh(inner, request, known) : known;
      }
      const inFlight = shared.pending.get(key);
      if (inFlight !== undefined) {
        shared.stats.hits++;
        return verify ? inFlight.then((d) => checkAgainstFresh(inner, request, d)) : inFlight;
      }
      shared.stats.misses++;
      const fresh = inner.evaluate(request);
      if (!(fresh instanceof Promise)) {
        shared.remember(key, fresh);
        return fresh;
      }
      const p = fresh.then(
        (d) => {
          shared.pending.delete(key);
          shared.remember(key, d);
          return d;
        },
        (e: unknown) => {
          shared.pending.delete(key);
          throw e;
        },
      );
      shared.pending.set(key, p);
      return p;
    },
  };
}

async function checkAgainstFresh(inner: IamEvaluator, request: IamEvaluationRequest, memoised: IamDecision): Promise<IamDecision> {
  const fresh = await inner.evaluate(request);
  if (fresh !== memoised) {
    throw new Error(
      `IAM memo disagrees with a fresh evaluation of ${request.action} on ${request.resource}: memo ${memoised}, fresh ${fresh} ` +
        `(policy set ${request.policies.key}; context ${JSON.stringify(request.context)}). The memo key misses something the policies read: fix memoKey.`,
    );
  }
  return fresh;
}

/** The memo key of a request, or null when its policies cannot be analysed. Exported for tests. */
export function memoKey(request: IamEvaluationRequest): string | null {
  const identity = shared.readsOf(shared.reads, request.policies.key, () => request.policies.documents.map((d) => d.document));
  if (identity === null) return null;
  let resourcePolicyJson: string | null = null;
  let resourceReads: PolicyReads | null = null;
  if (request.resourcePolicy !== undefined) {
    resourcePolicyJson = policyJson(request.resourcePolicy);
    resourceReads = shared.readsOf(shared.resourcePolicyReads, resourcePolicyJson, () => [request.resourcePolicy]);
    if (resourceReads === null) return null;
  }
  const context = lowercaseContext(request.context);
  const parts: string[] = [request.policies.key, request.action.toLowerCase(), request.accountId, accountOf(request.principalArn), resourceShape(request.resource)];
  try {
    parts.push(matchVector(identity, request.resource, context));
  } catch {
    return null;
  }
  if (identity.readsWholeContext || resourceReads?.readsWholeContext) parts.push(wholeContext(context));
  else {
    parts.push(values(identity.keys, context));
    if (resourceReads) parts.push(values(resourceReads.keys, context));
  }
  if (resourcePolicyJson !== null) parts.push(resourcePolicyJson, request.principalArn, request.resource);
  return parts.join(SEP);
}

function values(keys: readonly string[], context: ReadonlyMap<string, string | readonly string[]>): string {
  let out = '';
  for (const k of keys) {
    const v = context.get(k);
    out += v === undefined ? ABSENT : typeof v === 'string' ? `s${v}` : `a${JSON.stringify(v)}`;
    out += SEP;
  }
  return out;
}

function wholeContext(context: ReadonlyMap<string, string | readonly string[]>): string {
  return JSON.stringify([...context].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A resource policy's JSON, once per policy object (services hand out the same parsed object). */
const policyJsons = new WeakMap<object, string>();

function policyJson(policy: unknown): string {
  if (typeof policy !== 'object' || policy === null) return JSON.stringify(policy);
  let j = policyJsons.get(policy);
  if (j === undefined) {
    j = JSON.stringify(policy);
    policyJsons.set(policy, j);
  }
  return j;
}

const accounts = new Map<string, string>();

function accountOf(principalArn: string): string {
  let a = accounts.get(principalArn);
  if (a === undefined) {
    a = principalArn.startsWith('arn:') ? (principalArn.split(':')[4] ?? '') : `(${principalArn})`;
    if (accounts.size >= MAX_DECISIONS) accounts.clear();
    accounts.set(principalArn, a);
  }
  return a;
}

/**
 * What of a resource ARN decides its resource type and the services' own rules (KMS aliases
 * under `alias/aws/`, IAM roles under `role/aws-reserved/`): the ARN with its final name or id
 * (after the last `/` or `:`) and an Auto Scaling group's id replaced. Resource types end with
 * a variable (`volume/${VolumeId}`) and variables match any non-empty text, so two ARNs of the
 * same shape are of the same type.
 */
export function resourceShape(resource: string): string {
  let shape = shapes.get(resource);
  if (shape === undefined) {
    shape = computeShape(resource);
    if (shapes.size >= MAX_DECISIONS) shapes.clear();
    shapes.set(resource, shape);
  }
  return shape;
}

const shapes = new Map<string, string>();

function computeShape(resource: string): string {
  if (resource === '*') return '*';
  const parts = resource.replaceAll('*', LITERAL_STAR).split(':');
  if (parts.length < 6) return resource;
  let rest = parts.slice(5).join(':');
  if (parts[2] === 'autoscaling') rest = rest.replace(/^(autoScalingGroup|launchConfiguration):[^:]+:/, '$1:#:');
  const cut = Math.max(rest.lastIndexOf('/'), rest.lastIndexOf(':'));
  if (cut < rest.length - 1) rest = `${rest.slice(0, cut + 1)}#`;
  return [...parts.slice(0, 5), rest].join(':');
}
