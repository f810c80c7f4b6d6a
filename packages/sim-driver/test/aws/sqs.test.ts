import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSServiceException } from '@aws-sdk/client-sqs';
import { BerthAbortError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../src/index.js';
import type { SimulationOptions } from '../../src/options.js';
import { failure } from './account-fixture.js';
import { faultOf, testSim } from './service-fixture.js';

interface Received {
  Messages?: { MessageId: string; ReceiptHandle: string; Body: string; MD5OfBody: string; Attributes?: Record<string, string> }[];
}

function withQueue(overrides: SimulationOptions = {}, attributes: Record<string, string> = {}) {
  const sim = testSim(overrides);
  const { QueueUrl } = sim.call('sqs', 'CreateQueue', { QueueName: 'q1', Attributes: attributes }) as { QueueUrl: string };
  const sqs = (operation: string, input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => sim.call('sqs', operation, { QueueUrl, ...input }, extra);
  const receive = (input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => Promise.resolve(sqs('ReceiveMessage', input, extra) as Received | Promise<Received>);
  const send = (body: string) => sqs('SendMessage', { MessageBody: body }) as { MessageId: string };
  const sleep = (ms: number) => sim.scheduler.run(() => sim.scheduler.sleep(ms));
  return { ...sim, QueueUrl, sqs, receive, send, sleep };
}

describe('SimSqs queues', () => {
  it('creates a queue at the URL AWS gives, idempotently for the same attributes, QueueNameExists for others', () => {
    const { call } = testSim();
    const created = call('sqs', 'CreateQueue', { QueueName: 'q1', Attributes: { MessageRetentionPeriod: '3600', SqsManagedSseEnabled: 'true' }, tags: { 'berth:cluster': 'c1' } }) as { QueueUrl: string };
    expect(created).toEqual({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q1' });
    expect(call('sqs', 'CreateQueue', { QueueName: 'q1', Attributes: { MessageRetentionPeriod: '3600' } })).toEqual(created);
    expect(call('sqs', 'CreateQueue', { QueueName: 'q1' })).toEqual(created);
    expect(faultOf(() => call('sqs', 'CreateQueue', { QueueName: 'q1', Attributes: { MessageRetentionPeriod: '60' } }))).toMatchObject({
      code: 'QueueNameExists',
      message: 'A queue already exists with the same name and a different value for attribute MessageRetentionPeriod',
    });
    expect(call('sqs', 'GetQueueUrl', { QueueName: 'q1' })).toEqual(created);
    expect(faultOf(() => call('sqs', 'GetQueueUrl', { QueueName: 'nope' }))).toMatchObject({ code: 'QueueDoesNotExist', message: 'The specified queue does not exist.' });
    expect(call('sqs', 'ListQueueTags', { QueueUrl: created.QueueUrl })).toEqual({ Tags: { 'berth:cluster': 'c1' } });
    expect(call('sqs', 'ListQueues', { QueueNamePrefix: 'q' })).toEqual({ QueueUrls: [created.QueueUrl] });
    expect(call('sqs', 'ListQueues', { QueueNamePrefix: 'x' })).toEqual({});
  });

  it('refuses to re-create a deleted queue name for 60 seconds', async () => {
    const { sqs, call, sleep } = withQueue();
    sqs('DeleteQueue');
    expect(faultOf(() => sqs('GetQueueAttributes', { AttributeNames: ['All'] })).code).toBe('QueueDoesNotExist');
    expect(faultOf(() => call('sqs', 'CreateQueue', { QueueName: 'q1' })).code).toBe('QueueDeletedRecently');
    await sleep(60_000);
    expect(call('sqs', 'CreateQueue', { QueueName: 'q1' })).toEqual({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q1' });
  });

  it('reports and sets attributes as AWS does', () => {
    const { sqs, send } = withQueue();
    send('one');
    const all = (sqs('GetQueueAttributes', { AttributeNames: ['All'] }) as { Attributes: Record<string, string> }).Attributes;
    expect(all).toMatchObject({
      QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:q1',
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '0',
      VisibilityTimeout: '30',
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '0',
      SqsManagedSseEnabled: 'true',
    });
    expect(all['Policy']).toBeUndefined();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    sqs('SetQueueAttributes', { Attributes: { Policy: policy, VisibilityTimeout: '10' } });
    expect(sqs('GetQueueAttributes', { AttributeNames: ['Policy', 'VisibilityTimeout'] })).toEqual({ Attributes: { Policy: policy, VisibilityTimeout: '10' } });
    expect(faultOf(() => sqs('SetQueueAttributes', { Attributes: { MessageRetentionPeriod: '10' } }))).toMatchObject({ code: 'InvalidAttributeValue', message: 'Invalid value for the parameter MessageRetentionPeriod.' });
    expect(faultOf(() => sqs('SetQueueAttributes', { Attributes: { Colour: 'blue' } }))).toMatchObject({ code: 'InvalidAttributeName', message: 'Unknown Attribute Colour.' });
    expect(faultOf(() => sqs('SetQueueAttributes', { Attributes: { RedrivePolicy: '{}' } })).message).toContain('does not support the queue attribute RedrivePolicy');
    expect(faultOf(() => sqs('GetQueueAttributes', { AttributeNames: ['Colour'] })).code).toBe('InvalidAttributeName');
  });
});

describe('SimSqs messages', () => {
  it('SQS-1: long-polls in virtual time: returns as soon as a message arrives', async () => {
    const { receive, send, scheduler } = withQueue();
    const out = await scheduler.run(async () => {
      const start = scheduler.nowMs;
      scheduler.after(5_000, 'send', () => send('hello'));
      const r = await receive({ WaitTimeSeconds: 20, MaxNumberOfMessages: 10 });
      return { r, waitedMs: scheduler.nowMs - start };
    });
    expect(out.waitedMs).toBe(5_000);
    expect(out.r.Messages?.map((m) => m.Body)).toEqual(['hello']);
    expect(out.r.Messages?.[0]?.MD5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
  });

  it('SQS-1: ends an empty long poll when its wait is over, with no messages', async () => {
    const { receive, scheduler } = withQueue({}, { ReceiveMessageWaitTimeSeconds: '3' });
    const out = await scheduler.run(async () => {
      const start = scheduler.nowMs;
      const r = await receive();
      return { r, waitedMs: scheduler.nowMs - start };
    });
    expect(out).toEqual({ r: {}, waitedMs: 3_000 });
  });

  it('SQS-5: a short poll (WaitTimeSeconds 0) answers at once, empty or with what is visible', async () => {
    const { receive, send, scheduler } = withQueue();
    const out = await scheduler.run(async () => {
      const start = scheduler.nowMs;
      const empty = await receive({ WaitTimeSeconds: 0 });
      send('now');
      const one = await receive({ WaitTimeSeconds: 0, MaxNumberOfMessages: 10 });
      return { empty, one, waitedMs: scheduler.nowMs - start };
    });
    expect(out.empty).toEqual({});
    expect(out.one.Messages?.map((m) => m.Body)).toEqual(['now']);
    expect(out.waitedMs).toBe(0);
  });

  it('stops an aborted long poll at once, and the poll takes nothing afterwards', async () => {
    const { receive, send, scheduler } = withQueue();
    const ac = new AbortController();
    const out = await scheduler.run(async () => {
      const p = receive({ WaitTimeSeconds: 20 }, { signal: ac.signal }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await scheduler.sleep(1_000);
      ac.abort();
      const err = await p;
      send('after');
      const next = await receive({ WaitTimeSeconds: 1 });
      return { err, next };
    });
    expect(out.err).toBeInstanceOf(BerthAbortError);
    expect(out.next.Messages?.map((m) => m.Body)).toEqual(['after']);
  });

  it('SQS-2: hides a received message for the visibility timeout, then serves it again with a new receipt handle', async () => {
    const { receive, send, sqs, sleep, ctx } = withQueue();
    const sent = send('m1');
    const first = await receive({ AttributeNames: ['All'] });
    expect(first.Messages?.[0]).toMatchObject({ MessageId: sent.MessageId, Body: 'm1', Attributes: { ApproximateReceiveCount: '1' } });
    await sleep(10_000);
    expect(await receive()).toEqual({});
    expect(sqs('GetQueueAttributes', { AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })).toEqual({
      Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    await sleep(20_001);
    const second = await receive({ MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
    expect(second.Messages?.[0]).toMatchObject({ MessageId: sent.MessageId, Attributes: { ApproximateReceiveCount: '2' } });
    const oldHandle = first.Messages?.[0]?.ReceiptHandle;
    const newHandle = second.Messages?.[0]?.ReceiptHandle;
    expect(newHandle).not.toBe(oldHandle);
    // The handle of an earlier receive "succeeds" but deletes nothing; the latest one deletes.
    expect(sqs('DeleteMessage', { ReceiptHandle: oldHandle })).toEqual({});
    expect(ctx.sqs.depth('q1')).toBe(1);
    expect(sqs('DeleteMessage', { ReceiptHandle: newHandle })).toEqual({});
    expect(ctx.sqs.depth('q1')).toBe(0);
    expect(faultOf(() => sqs('DeleteMessage', { ReceiptHandle: 'garbage' }))).toMatchObject({ code: 'ReceiptHandleIsInvalid', message: 'The input receipt handle "garbage" is not a valid receipt handle.' });
  });

  it('wakes a waiting long poll when an in-flight message becomes visible again', async () => {
    const { receive, send, scheduler } = withQueue();
    send('m1');
    const out = await scheduler.run(async () => {
      await receive({ VisibilityTimeout: 2 });
      const start = scheduler.nowMs;
      const r = await receive({ WaitTimeSeconds: 20 });
      return { body: r.Messages?.[0]?.Body, waitedMs: scheduler.nowMs - start };
    });
    expect(out).toEqual({ body: 'm1', waitedMs: 2_000 });
  });

  it('changes the visibility of an in-flight message only', async () => {
    const { receive, send, sqs } = withQueue();
    send('m1');
    const first = await receive();
    const handle = first.Messages?.[0]?.ReceiptHandle;
    expect(await receive()).toEqual({});
    expect(sqs('ChangeMessageVisibility', { ReceiptHandle: handle, VisibilityTimeout: 0 })).toEqual({});
    expect(faultOf(() => sqs('ChangeMessageVisibility', { ReceiptHandle: handle, VisibilityTimeout: 10 })).code).toBe('MessageNotInflight');
    expect((await receive()).Messages?.map((m) => m.Body)).toEqual(['m1']);
  });

  it('SQS-3: deletes in batches, entry by entry', async () => {
    const { receive, send, sqs, ctx } = withQueue();
    send('a');
    send('b');
    const got = await receive({ MaxNumberOfMessages: 10 });
    const [a, b] = got.Messages ?? [];
    const out = sqs('DeleteMessageBatch', {
      Entries: [
        { Id: 'm0', ReceiptHandle: a?.ReceiptHandle },
        { Id: 'm1', ReceiptHandle: 'not-a-handle' },
        { Id: 'm2', ReceiptHandle: b?.ReceiptHandle },
      ],
    });
    expect(out).toEqual({
      Successful: [{ Id: 'm0' }, { Id: 'm2' }],
      Failed: [{ Id: 'm1', Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle "not-a-handle" is not a valid receipt handle.', SenderFault: true }],
    });
    expect(ctx.sqs.depth('q1')).toBe(0);
    expect(faultOf(() => sqs('DeleteMessageBatch', { Entries: [] })).code).toBe('EmptyBatchRequest');
    expect(faultOf(() => sqs('DeleteMessageBatch', { Entries: [{ Id: 'x', ReceiptHandle: 'h' }, { Id: 'x', ReceiptHandle: 'h' }] })).code).toBe('BatchEntryIdsNotDistinct');
    expect(faultOf(() => sqs('DeleteMessageBatch', { Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, ReceiptHandle: 'h' })) })).code).toBe('TooManyEntriesInBatchRequest');
  });

  it('drops messages older than the retention period', async () => {
    const { receive, send, sleep, ctx } = withQueue({}, { MessageRetentionPeriod: '60' });
    send('old');
    await sleep(30_000);
    send('young');
    await sleep(30_001);
    expect(ctx.sqs.depth('q1')).toBe(1);
    expect((await receive({ MaxNumberOfMessages: 10 })).Messages?.map((m) => m.Body)).toEqual(['young']);
  });

  it('SQS-1, SQS-2: keeps arrival order and validates the receive parameters', async () => {
    const { receive, send, sqs } = withQueue();
    for (const b of ['1', '2', '3']) send(b);
    expect((await receive({ MaxNumberOfMessages: 10 })).Messages?.map((m) => m.Body)).toEqual(['1', '2', '3']);
    expect(faultOf(() => sqs('ReceiveMessage', { MaxNumberOfMessages: 11 }))).toMatchObject({ code: 'InvalidParameterValue', message: 'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.' });
    expect(faultOf(() => sqs('ReceiveMessage', { WaitTimeSeconds: 21 }))).toMatchObject({ code: 'InvalidParameterValue', message: 'Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.' });
    expect(faultOf(() => sqs('SendMessage', { MessageBody: 'bad \u0000 char' })).code).toBe('InvalidMessageContents');
  });

  it('SQS-1: WaitTimeSeconds, and the queue attribute ReceiveMessageWaitTimeSeconds, are 0 to 20 seconds', async () => {
    const { sqs, receive, call, scheduler } = withQueue();
    for (const w of [-1, 21]) {
      expect(faultOf(() => sqs('ReceiveMessage', { WaitTimeSeconds: w }))).toMatchObject({ code: 'InvalidParameterValue', message: `Value ${w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.` });
    }
    const poll = (waitTimeSeconds: number) =>
      scheduler.run(async () => {
        const start = scheduler.nowMs;
        const r = await receive({ WaitTimeSeconds: waitTimeSeconds });
        return { r, waitedMs: scheduler.nowMs - start };
      });
    expect(await poll(0)).toEqual({ r: {}, waitedMs: 0 });
    expect(await poll(20)).toEqual({ r: {}, waitedMs: 20_000 });
    for (const v of ['-1', '21']) {
      expect(faultOf(() => sqs('SetQueueAttributes', { Attributes: { ReceiveMessageWaitTimeSeconds: v } }))).toMatchObject({ code: 'InvalidAttributeValue', message: 'Invalid value for the parameter ReceiveMessageWaitTimeSeconds.' });
      expect(faultOf(() => call('sqs', 'CreateQueue', { QueueName: 'q2', Attributes: { ReceiveMessageWaitTimeSeconds: v } })).code).toBe('InvalidAttributeValue');
    }
    sqs('SetQueueAttributes', { Attributes: { ReceiveMessageWaitTimeSeconds: '20' } });
    expect(sqs('GetQueueAttributes', { AttributeNames: ['ReceiveMessageWaitTimeSeconds'] })).toEqual({ Attributes: { ReceiveMessageWaitTimeSeconds: '20' } });
  });

  it('SQS-2: MaxNumberOfMessages is 1 to 10 (default 1); messages not deleted reappear after the default 30 s visibility timeout', async () => {
    const { sqs, receive, send, sleep } = withQueue();
    for (let i = 0; i < 12; i++) send(`m${i}`);
    for (const m of [0, 11]) {
      expect(faultOf(() => sqs('ReceiveMessage', { MaxNumberOfMessages: m }))).toMatchObject({ code: 'InvalidParameterValue', message: `Value ${m} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.` });
    }
    expect((await receive()).Messages).toHaveLength(1);
    expect((await receive({ MaxNumberOfMessages: 10 })).Messages).toHaveLength(10);
    expect((await receive({ MaxNumberOfMessages: 10 })).Messages).toHaveLength(1);
    expect(await receive()).toEqual({});
    await sleep(29_999);
    expect(await receive({ MaxNumberOfMessages: 10 })).toEqual({});
    await sleep(1);
    const again = await receive({ MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
    expect(again.Messages).toHaveLength(10);
    for (const m of again.Messages ?? []) expect(m.Attributes).toEqual({ ApproximateReceiveCount: '2' });
  });

  it('SQS-3: a batch of 10 entries is the most DeleteMessageBatch takes; each entry is reported', async () => {
    const { receive, send, sqs, ctx } = withQueue();
    for (let i = 0; i < 10; i++) send(`m${i}`);
    const got = (await receive({ MaxNumberOfMessages: 10 })).Messages ?? [];
    expect(got).toHaveLength(10);
    const entries = got.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle }));
    expect(faultOf(() => sqs('DeleteMessageBatch', { Entries: [...entries, { Id: 'e10', ReceiptHandle: 'h' }] }))).toMatchObject({
      code: 'TooManyEntriesInBatchRequest',
      message: 'Maximum number of entries per request are 10. You have sent 11.',
    });
    expect(ctx.sqs.depth('q1')).toBe(10);
    expect(sqs('DeleteMessageBatch', { Entries: entries })).toEqual({ Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    expect(ctx.sqs.depth('q1')).toBe(0);
  });

  it('draws message ids from the seed: same seed, same ids', () => {
    const ids = (seed: number) => {
      const { send } = withQueue({ seed });
      return [send('a').MessageId, send('b').MessageId];
    };
    expect(ids(3)).toEqual(ids(3));
    expect(ids(3)).not.toEqual(ids(4));
    expect(ids(3)[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('fails a long poll whose queue is deleted', async () => {
    const { receive, sqs, scheduler } = withQueue();
    const err = await scheduler.run(async () => {
      scheduler.after(1_000, 'delete', () => sqs('DeleteQueue'));
      return receive({ WaitTimeSeconds: 20 }).catch((e: unknown) => e);
    });
    expect(err).toMatchObject({ code: 'QueueDoesNotExist' });
  });
});

describe('SimSqs with IAM evaluated', () => {
  const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:q1';

  /** A whole simulation (fast profile, IAM evaluated) whose controller may create q1, send to it and read its attributes, and nothing else. */
  function simulated(): Simulation {
    const sim = createSimulation({ seed: 1, profile: 'fast', iam: 'evaluate', account: 'manual', changeQueue: false });
    sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sqs:CreateQueue', 'sqs:SendMessage', 'sqs:GetQueueAttributes'], Resource: QUEUE_ARN }] });
    return sim;
  }

  /** A ReceiveMessage the policy does not allow: the error, and the queue's counts afterwards. */
  async function deniedReceive(sim: Simulation) {
    return sim.run(async () => {
      const { QueueUrl } = await sim.aws.sqs.send(new CreateQueueCommand({ QueueName: 'q1' }));
      await sim.aws.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
      const e = await failure(sim.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 })));
      const { Attributes } = await sim.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return { e, Attributes };
    });
  }

  it('SQS-4: a denied call fails with AccessDenied/AccessDeniedException and the IAM-12 message, and receives nothing', async () => {
    const { e, Attributes } = await deniedReceive(simulated());
    expect(['AccessDenied', 'AccessDeniedException']).toContain(e.name);
    expect(e).toBeInstanceOf(SQSServiceException);
    expect(e.$fault).toBe('client');
    expect(e.message).toBe(`User: arn:aws:sts::123456789012:assumed-role/berth-controller/berth is not authorized to perform: sqs:ReceiveMessage on resource: ${QUEUE_ARN} because no identity-based policy allows the sqs:ReceiveMessage action`);
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('SQS-4: a denied call is HTTP 400, as the SQS common-errors list gives it', async () => {
    const { e } = await deniedReceive(simulated());
    expect(['AccessDenied', 'AccessDeniedException']).toContain(e.name);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });
});
