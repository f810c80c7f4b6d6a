import { createHash } from 'node:crypto';
import type { SimAccountInfo } from '../../sim-context.js';
import type { SimInstanceProfile, SimRole } from '../../world/entities.js';
import type { AuthorizationCheck, Caller } from '../service.js';
import type { IamDecision, IamDenial, IamEvaluationRequest, IamEvaluator } from './iam-decision.js';

/** The role Berth's controller runs as in the simulated account (and `sim.aws` calls as). */
export const CONTROLLER_ROLE = 'berth-controller';

/**
 * The simulated account's IAM: roles with their inline policies, instance profiles, the
 * service-linked roles that exist, and the evaluator that decides each request. With no
 * evaluator (`iam: 'off'`) every request is allowed.
 */
export class SimIam {
  readonly roles = new Map<string, SimRole>();
  readonly instanceProfiles = new Map<string, SimInstanceProfile>();
  /** Service-linked roles that exist, by service principal (`autoscaling.amazonaws.com`). */
  readonly serviceLinkedRoles = new Set<string>();
  evaluator: IamEvaluator | null = null;
  readonly #account: SimAccountInfo;
  /** role → its policy set as the evaluator takes it, with its memo key (rebuilt when a policy changes). */
  readonly #policySets = new Map<string, IamEvaluationRequest['policies']>();
  /** Decisions asked for, allowed and denied (for inspection). */
  readonly stats = { checks: 0, denied: 0 };
  /** Every denied request, in order (the first denied check of each). */
  readonly denials: { readonly atMs: number; readonly principalArn: string; readonly action: string; readonly resource: string; readonly explicit: boolean }[] = [];
  /** Virtual time, for the denial log (set by createSimulation). */
  now: () => number = () => 0;

  constructor(account: SimAccountInfo) {
    this.#account = account;
    this.ensureRole(CONTROLLER_ROLE);
  }

  roleArn(name: string): string {
    return `arn:${this.#account.partition}:iam::${this.#account.accountId}:role/${name}`;
  }

  ensureRole(name: string): SimRole {
    let r = this.roles.get(name);
    if (!r) {
      r = { name, arn: this.roleArn(name), policies: new Map() };
      this.roles.set(name, r);
    }
    return r;
  }

  /** Sets (or with `null` removes) an inline policy of a role. */
  putRolePolicy(roleName: string, policyName: string, document: unknown | null): void {
    const role = this.ensureRole(roleName);
    if (document === null) role.policies.delete(policyName);
    else role.policies.set(policyName, structuredClone(document));
    this.#policySets.delete(roleName);
  }

  ensureInstanceProfile(name: string, roleName: string): SimInstanceProfile {
    this.ensureRole(roleName);
    let p = this.instanceProfiles.get(name);
    if (!p || p.roleName !== roleName) {
      p = { name, roleName, arn: `arn:${this.#account.partition}:iam::${this.#account.accountId}:instance-profile/${name}` };
      this.instanceProfiles.set(name, p);
    }
    return p;
  }

  /** The caller that `sim.aws` and the controller's driver are. */
  controllerCaller(): Caller {
    return this.roleCaller(CONTROLLER_ROLE);
  }

  /** A session of any role of the account (counted with the controller's calls). */
  roleCaller(roleName: string): Caller {
    return { kind: 'controller', principalArn: this.#sessionArn(roleName, roleName === CONTROLLER_ROLE ? 'berth' : 'session'), roleName };
  }

  /** The caller an instance's bootstrap is (its profile's role credentials), or null when it has no profile. */
  instanceCaller(instance: { readonly id: string; readonly iamInstanceProfile: string | null; readonly privateIp: string | null; readonly vpcId: string }): Caller | null {
    const profile = instance.iamInstanceProfile === null ? undefined : this.instanceProfiles.get(instance.iamInstanceProfile);
    if (!profile) return null;
    return {
      kind: 'instance',
      principalArn: this.#sessionArn(profile.roleName, instance.id),
      roleName: profile.roleName,
      instanceId: instance.id,
      ...(instance.privateIp !== null && { sourcePrivateIp: instance.privateIp }),
      sourceVpcId: instance.vpcId,
    };
  }

  #sessionArn(role: string, session: string): string {
    return `arn:${this.#account.partition}:sts::${this.#account.accountId}:assumed-role/${role}/${session}`;
  }

  /**
   * Decides a request's authorizations: null when every check is allowed, else the first one
   * denied. Synchronous when the evaluator already knows every answer.
   */
  authorize(caller: Caller, checks: readonly AuthorizationCheck[]): IamDenial | null | Promise<IamDenial | null> {
    const evaluator = this.evaluator;
    if (evaluator === null || checks.length === 0) return null;
    const policies = this.#policySet(caller.roleName);
    if (checks.length === 1) {
      // The usual request: one check, decided from the memo.
      const d = evaluator.evaluate(this.#request(caller, checks[0] as AuthorizationCheck, policies));
      this.stats.checks++;
      if (d instanceof Promise) return d.then((x) => this.#firstDenied(caller, checks, [x]));
      return d === 'Allowed' ? null : this.#firstDenied(caller, checks, [d]);
    }
    const decisions: (IamDecision | Promise<IamDecision>)[] = [];
    let pending = false;
    for (const c of checks) {
      const d = evaluator.evaluate(this.#request(caller, c, policies));
      if (d instanceof Promise) pending = true;
      decisions.push(d);
    }
    this.stats.checks += checks.length;
    if (!pending) return this.#firstDenied(caller, checks, decisions as IamDecision[]);
    return Promise.all(decisions).then((ds) => this.#firstDenied(caller, checks, ds));
  }

  #request(caller: Caller, c: AuthorizationCheck, policies: IamEvaluationRequest['policies']): IamEvaluationRequest {
    return {
      principalArn: caller.principalArn,
      accountId: this.#account.accountId,
      action: c.action,
      resource: c.resource,
      context: this.#withCaller(caller, c.context),
      policies,
      ...(c.resourcePolicy !== undefined && { resourcePolicy: c.resourcePolicy }),
    };
  }

  /** The first check denied (logged and counted), or null when every decision allows. */
  #firstDenied(caller: Caller, checks: readonly AuthorizationCheck[], ds: readonly IamDecision[]): IamDenial | null {
    const i = ds.findIndex((d) => d !== 'Allowed');
    if (i < 0) return null;
    this.stats.denied++;
    const c = checks[i] as AuthorizationCheck;
    this.denials.push({ atMs: this.now(), principalArn: caller.principalArn, action: c.action, resource: c.resource, explicit: ds[i] === 'ExplicitlyDenied' });
    return { action: c.action, resource: c.resource, explicit: ds[i] === 'ExplicitlyDenied', ...(c.onBehalfOf !== undefined && { onBehalfOf: c.onBehalfOf }) };
  }

  /**
   * Whether an AWS service principal (`events.amazonaws.com`) may act on a resource under that
   * resource's policy (EventBridge delivering to an SQS queue). Allowed when IAM is off.
   */
  authorizeServicePrincipal(servicePrincipal: string, action: string, resource: string, resourcePolicy: unknown, context: Readonly<Record<string, string | readonly string[]>>): IamDecision | Promise<IamDecision> {
    if (this.evaluator === null) return 'Allowed';
    if (resourcePolicy === undefined || resourcePolicy === null) return 'ImplicitlyDenied';
    return this.evaluator.evaluate({
      principalArn: servicePrincipal,
      accountId: this.#account.accountId,
      action,
      resource,
      context,
      policies: { key: 'service-principal', documents: [] },
      resourcePolicy,
    });
  }

  /** The global context keys AWS adds for this caller (principal, instance-role credential properties). */
  #withCaller(caller: Caller, context: Readonly<Record<string, string | readonly string[]>>): Readonly<Record<string, string | readonly string[]>> {
    const out: Record<string, string | readonly string[]> = {
      'aws:PrincipalArn': this.roleArn(caller.roleName),
      'aws:PrincipalAccount': this.#account.accountId,
      'aws:PrincipalType': 'AssumedRole',
      'aws:RequestedRegion': this.#account.region,
    };
    // Key by key: contexts are dictionaries (keys made at run time), which object spread copies slowly.
    for (const k in context) out[k] = context[k] as string | readonly string[];
    if (caller.kind === 'instance') {
      if (caller.instanceId !== undefined) out['ec2:SourceInstanceARN'] = `arn:${this.#account.partition}:ec2:${this.#account.region}:${this.#account.accountId}:instance/${caller.instanceId}`;
      if (caller.sourcePrivateIp !== undefined) out['aws:EC2InstanceSourcePrivateIPv4'] = caller.sourcePrivateIp;
      if (caller.sourceVpcId !== undefined) out['aws:EC2InstanceSourceVPC'] = caller.sourceVpcId;
    }
    return out;
  }

  /** A role's policy set (the same object while its policies stay: the memo reads it by key). */
  #policySet(roleName: string): IamEvaluationRequest['policies'] {
    let set = this.#policySets.get(roleName);
    if (set === undefined) {
      const role = this.roles.get(roleName);
      const documents = role ? [...role.policies].map(([name, document]) => ({ name, document })) : [];
      set = { key: policySetKey(documents), documents };
      this.#policySets.set(roleName, set);
    }
    return set;
  }
}

/** Policy-set keys by their documents' JSON, process-wide: every simulation gives its roles the same policies. */
const policySetKeys = new Map<string, string>();

function policySetKey(documents: readonly { name: string; document: unknown }[]): string {
  const json = JSON.stringify(documents);
  let k = policySetKeys.get(json);
  if (k === undefined) {
    k = createHash('sha256').update(json).digest('base64url');
    if (policySetKeys.size >= 1_000) policySetKeys.clear();
    policySetKeys.set(json, k);
  }
  return k;
}
