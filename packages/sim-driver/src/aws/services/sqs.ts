import { createHash } from 'node:crypto';
import type { Waiter } from '../../scheduler.js';
import type { SimContext } from '../../sim-context.js';
import { fault } from '../aws-error.js';
import type { OperationHandler, ServiceContext, SimService } from '../service.js';
import { uuidV4 } from './random-ids.js';

/*
 * The simulated SQS: standard queues of the account's region.
 * API reference: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
 * - CreateQueue returns the existing queue's URL when the attributes given match it, and
 *   QueueNameExists when they differ; a name deleted less than 60 s ago is QueueDeletedRecently.
 * - ReceiveMessage: 1–10 messages, long poll 0–20 s (returns as soon as one message is visible),
 *   visibility timeout (queue default 30 s), ReceiveMessageWaitTimeSeconds as the default wait.
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 * - Deleting with the receipt handle of an earlier receive succeeds without deleting (only the
 *   latest handle deletes); a malformed handle is ReceiptHandleIsInvalid.
 * Ordering: standard queues are "best-effort ordering" and "at-least-once"; the simulator keeps
 * arrival order and never duplicates, so that one seed gives one run.
 */

/** Queue attributes SetQueueAttributes/CreateQueue accept, with AWS's defaults and limits. */
const SETTABLE: Readonly<Record<string, { readonly default?: string; readonly min?: number; readonly max?: number }>> = {
  DelaySeconds: { default: '0', min: 0, max: 900 },
  MaximumMessageSize: { default: '262144', min: 1024, max: 262144 },
  MessageRetentionPeriod: { default: '345600', min: 60, max: 1_209_600 },
  ReceiveMessageWaitTimeSeconds: { default: '0', min: 0, max: 20 },
  VisibilityTimeout: { default: '30', min: 0, max: 43_200 },
  Policy: {},
  SqsManagedSseEnabled: { default: 'true' },
};

/** Attributes AWS has that change behaviour the simulator does not model: refused, never ignored. */
const UNSUPPORTED = ['RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'];

const READ_ONLY = ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'CreatedTimestamp', 'LastModifiedTimestamp'];

const MESSAGE_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'];

/** Recreating a queue name this soon after DeleteQueue fails with QueueDeletedRecently. */
const DELETED_RECENTLY_MS = 60_000;

/** The SenderId SQS reports for messages an AWS service sent (a fixed stand-in for AWS's own id). */
const SERVICE_SENDER_ID = 'AIDAIT2UOQQY3AUEKVGXU';

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly senderId: string;
  readonly sentAtMs: number;
  readonly attributes: Readonly<Record<string, unknown>> | null;
  /** When it can next be received: after its delay, or when its visibility timeout ends. */
  visibleAtMs: number;
  receiveCount: number;
  firstReceiveAtMs: number | null;
  /** The handle of the latest receive (only it deletes the message). */
  receipt: string | null;
}

interface Queue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly createdAtMs: number;
  lastModifiedAtMs: number;
  readonly attributes: Map<string, string>;
  readonly tags: Map<string, string>;
  /** Arrival order. */
  messages: Message[];
  readonly waiters: Set<Waiter<void>>;
  deleted: boolean;
}

/** The result of a service delivery (EventBridge → SQS); `pending` while the queue policy is being evaluated. */
export interface DeliveryResult {
  readonly delivered: boolean;
  readonly reason?: string;
  readonly pending?: boolean;
}

function sqsError(code: string, message: string): Error {
  return fault(code, message);
}

function invalidParameter(name: string, value: unknown, reason: string): Error {
  return sqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`);
}

function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** The characters a message may contain (https://www.w3.org/TR/REC-xml/#charsets, as SendMessage documents). */
const VALID_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** The simulated SQS of the account (standard queues, long polls, queue policies). */
export class SimSqs {
  readonly service: SimService;
  readonly #ctx: SimContext;
  readonly #queues = new Map<string, Queue>();
  readonly #parsedPolicies = new Map<string, unknown>();
  /** name → when it was deleted. */
  readonly #deletedAtMs = new Map<string, number>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    const ops: Record<string, OperationHandler> = {
      CreateQueue: (i) => this.#createQueue(i),
      GetQueueUrl: (i) => this.#getQueueUrl(i),
      GetQueueAttributes: (i) => this.#getQueueAttributes(i),
      SetQueueAttributes: (i) => this.#setQueueAttributes(i),
      ListQueues: (i) => this.#listQueues(i),
      DeleteQueue: (i) => this.#deleteQueue(i),
      TagQueue: (i) => this.#tagQueue(i),
      UntagQueue: (i) => this.#untagQueue(i),
      ListQueueTags: (i) => this.#listQueueTags(i),
      SendMessage: (i, c) => this.#sendMessage(i, c),
      ReceiveMessage: (i, c) => this.#receiveMessage(i, c),
      DeleteMessage: (i) => this.#deleteMessage(i),
      DeleteMessageBatch: (i) => this.#deleteMessageBatch(i),
      ChangeMessageVisibility: (i) => this.#changeMessageVisibility(i),
    };
    this.service = { name: 'sqs', operations: ops };
  }

  /**
   * A message sent by an AWS service on behalf of a resource (EventBridge delivering a rule's
   * event): delivered only when the queue exists and its policy lets `fromService` send with
   * `aws:SourceArn` = `sourceArn`. Returns whether it was delivered (and why not). When IAM
   * answers asynchronously, virtual time stands still until it has, and the result says
   * `pending`: the message is then enqueued (or the failure traced) before any other event.
   */
  deliver(queueArn: string, body: string, from: { readonly service: string; readonly sourceArn: string }): DeliveryResult {
    const q = this.#byArn(queueArn);
    if (!q) return this.#deliveryFailed(queueArn, from, `queue ${queueArn} does not exist`);
    const policyText = q.attributes.get('Policy');
    const policy = policyText === undefined || policyText === '' ? undefined : (JSON.parse(policyText) as unknown);
    const context = { 'aws:SourceArn': from.sourceArn, 'aws:SourceAccount': this.#ctx.account.accountId };
    const decided = this.#ctx.iam.authorizeServicePrincipal(from.service, 'sqs:SendMessage', q.arn, policy, context);
    const settle = (decision: string): DeliveryResult => {
      if (decision !== 'Allowed') {
        const why = policy === undefined ? `the queue has no policy that allows ${from.service} to sqs:SendMessage` : `the queue policy does not allow ${from.service} to sqs:SendMessage from ${from.sourceArn} (${decision})`;
        return this.#deliveryFailed(queueArn, from, why);
      }
      if (q.deleted) return this.#deliveryFailed(queueArn, from, `queue ${queueArn} was deleted`);
      const size = Buffer.byteLength(body, 'utf8');
      if (size > Number(q.attributes.get('MaximumMessageSize'))) return this.#deliveryFailed(queueArn, from, `the event (${size} bytes) is larger than the queue's MaximumMessageSize`);
      this.#enqueue(q, body, SERVICE_SENDER_ID, null, 0);
      return { delivered: true };
    };
    if (!(decided instanceof Promise)) return settle(decided);
    this.#ctx.scheduler.hold(
      decided.then(settle, (e: unknown) => this.#deliveryFailed(queueArn, from, `the queue policy could not be evaluated: ${e instanceof Error ? e.message : String(e)}`)),
    );
    return { delivered: false, pending: true, reason: 'the queue policy is being evaluated' };
  }

  /** Messages in the queue now (visible, in flight and delayed), or 0 when it does not exist. */
  depth(queueName: string): number {
    const q = this.#queues.get(queueName);
    if (!q) return 0;
    this.#expire(q);
    return q.messages.length;
  }

  /** The queue's policy document (parsed), or null when the queue does not exist or has none: IAM evaluates it with the caller's policies. */
  queuePolicy(queueName: string): unknown {
    const text = this.#queues.get(queueName)?.attributes.get('Policy');
    if (text === undefined || text === '') return null;
    // Parsed once per policy text (the same object each time: the IAM memo keys on it).
    let parsed = this.#parsedPolicies.get(text);
    if (parsed === undefined) {
      parsed = deepFreeze(JSON.parse(text) as unknown);
      this.#parsedPolicies.set(text, parsed);
    }
    return parsed;
  }

  queueUrl(queueName: string): string {
    const a = this.#ctx.account;
    const suffix = a.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    return `https://sqs.${a.region}.${suffix}/${a.accountId}/${queueName}`;
  }

  queueArn(queueName: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:sqs:${a.region}:${a.accountId}:${queueName}`;
  }

  #deliveryFailed(queueArn: string, from: { readonly service: string; readonly sourceArn: string }, reason: string): DeliveryResult {
    this.#ctx.trace.record('events.delivery-failed', { queueArn, sourceArn: from.sourceArn, service: from.service, reason });
    return { delivered: false, reason };
  }

  #byArn(arn: string): Queue | undefined {
    const a = this.#ctx.account;
    const m = /^arn:([^:]+):sqs:([^:]+):(\d{12}):([^:]+)$/.exec(arn);
    if (!m || m[1] !== a.partition || m[2] !== a.region || m[3] !== a.accountId) return undefined;
    return this.#queues.get(m[4] as string);
  }

  // --- queues -------------------------------------------------------------------------------

  /** The queue a QueueUrl names (the current `sqs.<region>` form and the legacy `queue.amazonaws.com` forms). */
  #queue(input: Record<string, unknown>): Queue {
    const url = input['QueueUrl'];
    if (typeof url !== 'string' || url.length === 0) throw sqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    const m = /^https?:\/\/([^/]+)\/(\d{12})\/([^/?#]+)\/?$/.exec(url);
    if (!m) throw sqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
    const a = this.#ctx.account;
    const host = (m[1] as string).toLowerCase();
    const hostOk = host.startsWith(`sqs.${a.region}.`) || host.startsWith(`${a.region}.queue.`) || host === 'queue.amazonaws.com' || host === 'localhost' || host.startsWith('localhost:');
    if (!hostOk) throw sqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
    const q = m[2] === a.accountId ? this.#queues.get(m[3] as string) : undefined;
    if (!q) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return q;
  }

  #readAttributes(raw: unknown): Map<string, string> {
    const out = new Map<string, string>();
    if (raw === undefined || raw === null) return out;
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      if (v === undefined) continue;
      const value = String(v);
      if (name === 'FifoQueue') {
        if (value === 'true') throw sqsError('InvalidAttributeValue', 'The simulated SQS supports standard queues only (FifoQueue=true).');
        continue;
      }
      if (UNSUPPORTED.includes(name)) throw sqsError('InvalidAttributeValue', `The simulated SQS does not support the queue attribute ${name}.`);
      if (READ_ONLY.includes(name) || !Object.hasOwn(SETTABLE, name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      const spec = SETTABLE[name] as { min?: number; max?: number };
      if (spec.min !== undefined) {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < spec.min || n > (spec.max as number)) throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
      }
      if (name === 'Policy' && value !== '') {
        try {
          const p = JSON.parse(value) as unknown;
          if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('not an object');
        } catch {
          throw sqsError('InvalidAttributeValue', 'Invalid value for the parameter Policy.');
        }
      }
      if (name === 'SqsManagedSseEnabled' && value !== 'true' && value !== 'false') throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
      out.set(name, value);
    }
    return out;
  }

  #createQueue(input: Record<string, unknown>): unknown {
    const name = input['QueueName'];
    if (typeof name !== 'string') throw sqsError('MissingParameter', 'The request must contain the parameter QueueName.');
    if (name.endsWith('.fifo')) throw sqsError('InvalidParameterValue', 'The simulated SQS supports standard queues only; FIFO queue names (.fifo) are not supported.');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw sqsError('InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    const attrs = this.#readAttributes(input['Attributes']);
    const existing = this.#queues.get(name);
    if (existing) {
      for (const [k, v] of attrs) {
        const cur = existing.attributes.get(k) ?? SETTABLE[k]?.default ?? '';
        if (cur !== v) throw sqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${k}`);
      }
      return { QueueUrl: existing.url };
    }
    const now = this.#ctx.scheduler.nowMs;
    const deletedAt = this.#deletedAtMs.get(name);
    if (deletedAt !== undefined && now - deletedAt < DELETED_RECENTLY_MS) throw sqsError('QueueDeletedRecently', 'You must wait 60 seconds after deleting a queue before you can create another with the same name.');
    const attributes = new Map<string, string>();
    for (const [k, spec] of Object.entries(SETTABLE)) if (spec.default !== undefined) attributes.set(k, spec.default);
    for (const [k, v] of attrs) attributes.set(k, v);
    const tags = new Map<string, string>(Object.entries((input['tags'] ?? {}) as Record<string, string>));
    const q: Queue = { name, url: this.queueUrl(name), arn: this.queueArn(name), createdAtMs: now, lastModifiedAtMs: now, attributes, tags, messages: [], waiters: new Set(), deleted: false };
    this.#queues.set(name, q);
    this.#ctx.trace.record('sqs.queue', { queueName: name, action: 'created' });
    return { QueueUrl: q.url };
  }

  #getQueueUrl(input: Record<string, unknown>): unknown {
    const name = input['QueueName'];
    if (typeof name !== 'string') throw sqsError('MissingParameter', 'The request must contain the parameter QueueName.');
    const owner = input['QueueOwnerAWSAccountId'];
    const q = owner === undefined || owner === this.#ctx.account.accountId ? this.#queues.get(name) : undefined;
    if (!q) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return { QueueUrl: q.url };
  }

  #getQueueAttributes(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    const names = (input['AttributeNames'] ?? []) as string[];
    const known = [...READ_ONLY, ...Object.keys(SETTABLE)];
    for (const n of names) if (n !== 'All' && !known.includes(n)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
    const wanted = names.includes('All') ? known : names;
    if (wanted.length === 0) return {};
    this.#expire(q);
    const now = this.#ctx.scheduler.nowMs;
    const all: Record<string, string> = {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(q.messages.filter((m) => m.visibleAtMs <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.visibleAtMs > now && m.receiveCount > 0).length),
      ApproximateNumberOfMessagesDelayed: String(q.messages.filter((m) => m.visibleAtMs > now && m.receiveCount === 0).length),
      CreatedTimestamp: String(Math.floor(q.createdAtMs / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModifiedAtMs / 1000)),
      ...Object.fromEntries(q.attributes),
    };
    const out: Record<string, string> = {};
    for (const n of wanted) if (all[n] !== undefined) out[n] = all[n];
    return { Attributes: out };
  }

  #setQueueAttributes(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    const attrs = this.#readAttributes(input['Attributes']);
    for (const [k, v] of attrs) {
      if (k === 'Policy' && v === '') q.attributes.delete(k);
      else q.attributes.set(k, v);
    }
    q.lastModifiedAtMs = this.#ctx.scheduler.nowMs;
    // A shorter delay or visibility does not change messages already in the queue; a shorter retention does.
    this.#expire(q);
    return {};
  }

  #listQueues(input: Record<string, unknown>): unknown {
    const prefix = typeof input['QueueNamePrefix'] === 'string' ? input['QueueNamePrefix'] : '';
    const max = input['MaxResults'];
    if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 1000)) throw invalidParameter('MaxResults', max, 'Must be between 1 and 1000, if provided.');
    const names = [...this.#queues.keys()].filter((n) => n.startsWith(prefix)).sort();
    const start = typeof input['NextToken'] === 'string' ? Number(Buffer.from(input['NextToken'], 'base64').toString('utf8')) || 0 : 0;
    const end = max === undefined ? names.length : Math.min(names.length, start + max);
    // Without MaxResults AWS returns up to 1000 and no token.
    const page = names.slice(start, max === undefined ? Math.min(names.length, 1000) : end);
    return {
      ...(page.length > 0 && { QueueUrls: page.map((n) => (this.#queues.get(n) as Queue).url) }),
      ...(max !== undefined && end < names.length && { NextToken: Buffer.from(String(end)).toString('base64') }),
    };
  }

  #deleteQueue(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    q.deleted = true;
    this.#queues.delete(q.name);
    this.#deletedAtMs.set(q.name, this.#ctx.scheduler.nowMs);
    this.#ctx.trace.record('sqs.queue', { queueName: q.name, action: 'deleted' });
    this.#wake(q);
    return {};
  }

  #tagQueue(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    for (const [k, v] of Object.entries((input['Tags'] ?? {}) as Record<string, string>)) q.tags.set(k, v);
    return {};
  }

  #untagQueue(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    for (const k of (input['TagKeys'] ?? []) as string[]) q.tags.delete(k);
    return {};
  }

  #listQueueTags(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    return q.tags.size > 0 ? { Tags: Object.fromEntries(q.tags) } : {};
  }

  // --- messages -----------------------------------------------------------------------------

  #messageId(): string {
    return uuidV4(this.#ctx.rng.sqs);
  }

  #enqueue(q: Queue, body: string, senderId: string, attributes: Readonly<Record<string, unknown>> | null, delaySeconds: number): Message {
    const now = this.#ctx.scheduler.nowMs;
    const m: Message = { id: this.#messageId(), body, md5: md5(body), senderId, sentAtMs: now, attributes, visibleAtMs: now + delaySeconds * 1000, receiveCount: 0, firstReceiveAtMs: null, receipt: null };
    q.messages.push(m);
    // Waiting polls look again (a delayed message moves their next wake-up earlier).
    this.#wake(q);
    return m;
  }

  /** Wakes every long poll of the queue; each looks again and waits on if nothing is visible. */
  #wake(q: Queue): void {
    const ws = [...q.waiters];
    q.waiters.clear();
    for (const w of ws) w.resolve();
  }

  /** Drops messages older than the retention period. */
  #expire(q: Queue): void {
    const cutoff = this.#ctx.scheduler.nowMs - Number(q.attributes.get('MessageRetentionPeriod')) * 1000;
    if (q.messages.length > 0 && (q.messages[0] as Message).sentAtMs <= cutoff) q.messages = q.messages.filter((m) => m.sentAtMs > cutoff);
  }

  #sendMessage(input: Record<string, unknown>, c: ServiceContext): unknown {
    const q = this.#queue(input);
    const body = input['MessageBody'];
    if (typeof body !== 'string') throw sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (body.length === 0) throw invalidParameter('MessageBody', 'empty string', 'Message must be at least one character.');
    if (!VALID_BODY.test(body)) throw sqsError('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
    const max = Number(q.attributes.get('MaximumMessageSize'));
    const size = Buffer.byteLength(body, 'utf8');
    if (size > max) throw invalidParameter('MessageBody', '(message body)', `Message must be shorter than ${max} bytes.`);
    const delay = input['DelaySeconds'] ?? Number(q.attributes.get('DelaySeconds'));
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > 900) throw invalidParameter('DelaySeconds', delay, 'Must be >= 0 and <= 900, if provided.');
    const attributes = (input['MessageAttributes'] as Record<string, unknown> | undefined) ?? null;
    const m = this.#enqueue(q, body, senderIdOf(c), attributes && structuredClone(attributes), delay);
    return { MessageId: m.id, MD5OfMessageBody: m.md5 };
  }

  #receiveMessage(input: Record<string, unknown>, c: ServiceContext): unknown {
    const q = this.#queue(input);
    const maxRaw = input['MaxNumberOfMessages'];
    const max = maxRaw === undefined ? 1 : maxRaw;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) throw invalidParameter('MaxNumberOfMessages', maxRaw, 'Must be between 1 and 10, if provided.');
    const waitRaw = input['WaitTimeSeconds'];
    const wait = waitRaw === undefined ? Number(q.attributes.get('ReceiveMessageWaitTimeSeconds')) : waitRaw;
    if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 20) throw invalidParameter('WaitTimeSeconds', waitRaw, 'Must be >= 0 and <= 20, if provided.');
    const vtRaw = input['VisibilityTimeout'];
    const vt = vtRaw === undefined ? Number(q.attributes.get('VisibilityTimeout')) : vtRaw;
    if (typeof vt !== 'number' || !Number.isInteger(vt) || vt < 0 || vt > 43_200) throw invalidParameter('VisibilityTimeout', vtRaw, 'Must be >= 0 and <= 43200, if provided.');
    const wanted = messageAttributeNames(input);
    const wantedMessageAttributes = (input['MessageAttributeNames'] ?? []) as string[];
    const take = () => this.#take(q, max, vt, wanted, wantedMessageAttributes);
    const first = take();
    if (first.length > 0 || wait === 0) return first.length > 0 ? { Messages: first } : {};
    return this.#longPoll(q, this.#ctx.scheduler.nowMs + wait * 1000, take, signalOf(c));
  }

  /**
   * Waits in virtual time until a message is visible or the wait ends (then answers with no
   * messages). Each wait ends at the poll's deadline or when the first in-flight or delayed
   * message becomes visible, whichever is first; new messages and visibility changes wake it
   * earlier. An aborted request stops waiting at once and takes nothing.
   */
  async #longPoll(q: Queue, deadlineMs: number, take: () => Record<string, unknown>[], signal: AbortSignal | undefined): Promise<unknown> {
    const { scheduler } = this.#ctx;
    for (;;) {
      const nextVisible = Math.min(deadlineMs, ...q.messages.filter((m) => m.visibleAtMs > scheduler.nowMs).map((m) => m.visibleAtMs));
      const w = scheduler.waiter<void>(`SQS ReceiveMessage long poll (${q.name})`, signal);
      if (w.settled) await w.promise; // aborted already: rejects
      q.waiters.add(w);
      const ev = scheduler.at(nextVisible, `SQS long poll wakes (${q.name})`, () => w.resolve());
      try {
        await w.promise;
      } finally {
        scheduler.cancel(ev);
        q.waiters.delete(w);
      }
      if (q.deleted) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
      const got = take();
      if (got.length > 0) return { Messages: got };
      if (scheduler.nowMs >= deadlineMs) return {};
    }
  }

  #take(q: Queue, max: number, visibilityTimeoutS: number, wanted: readonly string[], wantedMessageAttributes: readonly string[]): Record<string, unknown>[] {
    this.#expire(q);
    const now = this.#ctx.scheduler.nowMs;
    const out: Record<string, unknown>[] = [];
    for (const m of q.messages) {
      if (out.length >= max) break;
      if (m.visibleAtMs > now) continue;
      m.receiveCount++;
      m.firstReceiveAtMs ??= now;
      m.visibleAtMs = now + visibilityTimeoutS * 1000;
      m.receipt = receiptHandle(q.arn, m.id, m.receiveCount);
      const attrs: Record<string, string> = {};
      const all: Record<string, string> = {
        SenderId: m.senderId,
        SentTimestamp: String(m.sentAtMs),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAtMs),
      };
      for (const n of wanted) if (all[n] !== undefined) attrs[n] = all[n];
      const messageAttributes = pickMessageAttributes(m.attributes, wantedMessageAttributes);
      out.push({
        MessageId: m.id,
        ReceiptHandle: m.receipt,
        MD5OfBody: m.md5,
        Body: m.body,
        ...(Object.keys(attrs).length > 0 && { Attributes: attrs }),
        ...(messageAttributes && { MessageAttributes: messageAttributes }),
      });
    }
    return out;
  }

  /** The message a receipt handle names, null when it names one no longer there or an earlier receive; throws when malformed. */
  #byReceipt(q: Queue, handle: unknown): { message: Message | null } {
    const parsed = typeof handle === 'string' ? parseReceiptHandle(handle) : null;
    if (!parsed || parsed.queueArn !== q.arn) throw sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle)}" is not a valid receipt handle.`);
    const m = q.messages.find((x) => x.id === parsed.messageId);
    return { message: m && m.receipt === handle ? m : null };
  }

  #deleteMessage(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    if (input['ReceiptHandle'] === undefined) throw sqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
    const { message } = this.#byReceipt(q, input['ReceiptHandle']);
    if (message) q.messages = q.messages.filter((m) => m !== message);
    return {};
  }

  #deleteMessageBatch(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    const entries = input['Entries'];
    if (!Array.isArray(entries) || entries.length === 0) throw sqsError('EmptyBatchRequest', 'There should be at least one DeleteMessageBatchRequestEntry in the request.');
    if (entries.length > 10) throw sqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    const ids = new Set<string>();
    for (const e of entries as { Id?: unknown }[]) {
      if (typeof e.Id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(e.Id)) throw sqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      if (ids.has(e.Id)) throw sqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
      ids.add(e.Id);
    }
    const successful: { Id: string }[] = [];
    const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
    for (const e of entries as { Id: string; ReceiptHandle?: unknown }[]) {
      try {
        const { message } = this.#byReceipt(q, e.ReceiptHandle);
        if (message) q.messages = q.messages.filter((m) => m !== message);
        successful.push({ Id: e.Id });
      } catch (err) {
        const f = err as { code?: string; message: string };
        failed.push({ Id: e.Id, Code: f.code ?? 'InternalError', Message: f.message, SenderFault: true });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  #changeMessageVisibility(input: Record<string, unknown>): unknown {
    const q = this.#queue(input);
    const vt = input['VisibilityTimeout'];
    if (typeof vt !== 'number' || !Number.isInteger(vt) || vt < 0 || vt > 43_200) throw invalidParameter('VisibilityTimeout', vt, 'Must be >= 0 and <= 43200.');
    const { message } = this.#byReceipt(q, input['ReceiptHandle']);
    const now = this.#ctx.scheduler.nowMs;
    if (!message || message.visibleAtMs <= now) throw sqsError('MessageNotInflight', `Value ${String(input['ReceiptHandle'])} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`);
    message.visibleAtMs = now + vt * 1000;
    this.#wake(q);
    return {};
  }
}

/** The request's abort signal, once the framework passes it in the service context. */
function signalOf(c: ServiceContext): AbortSignal | undefined {
  return (c as ServiceContext & { readonly signal?: AbortSignal }).signal;
}

function senderIdOf(c: ServiceContext): string {
  // AWS reports the caller's unique id; for an assumed role `AROA…:<session>`.
  const session = c.caller.principalArn.split('/').pop() ?? c.caller.roleName;
  return `AROA${createHash('sha256').update(c.caller.roleName).digest('hex').slice(0, 17).toUpperCase()}:${session}`;
}

function messageAttributeNames(input: Record<string, unknown>): string[] {
  const names = [...((input['MessageSystemAttributeNames'] ?? []) as string[]), ...((input['AttributeNames'] ?? []) as string[])];
  return names.includes('All') ? MESSAGE_ATTRIBUTES : names;
}

function pickMessageAttributes(attributes: Readonly<Record<string, unknown>> | null, wanted: readonly string[]): Record<string, unknown> | null {
  if (!attributes || wanted.length === 0) return null;
  const all = wanted.includes('All') || wanted.includes('.*');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (all || wanted.includes(k) || wanted.some((w) => w.endsWith('.*') && k.startsWith(w.slice(0, -1)))) out[k] = structuredClone(v);
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** An opaque handle, as AWS's are; it names the queue, the message and which receive it came from. */
function receiptHandle(queueArn: string, messageId: string, receive: number): string {
  return `AQEB${Buffer.from(`sim1|${queueArn}|${messageId}|${receive}`, 'utf8').toString('base64')}`;
}

function parseReceiptHandle(handle: string): { queueArn: string; messageId: string } | null {
  if (!handle.startsWith('AQEB')) return null;
  const parts = Buffer.from(handle.slice(4), 'base64').toString('utf8').split('|');
  if (parts.length !== 4 || parts[0] !== 'sim1') return null;
  return { queueArn: parts[1] as string, messageId: parts[2] as string };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
