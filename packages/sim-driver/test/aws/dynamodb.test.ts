import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { createAwsDriver } from '@berth/aws-driver';
import { BerthLockError, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { awsServiceError, SimFault } from '../../src/aws/aws-error.js';
import { createSimulation, type Simulation } from '../../src/index.js';
import type { SimulationOptions } from '../../src/options.js';
import { expectAwsError, failure } from './account-fixture.js';
import { faultOf, testSim } from './service-fixture.js';

const TABLE = 'berth-locks';
const KEY = { lockKey: { S: 'berth#c1' } };

function withTable(overrides: SimulationOptions = {}) {
  const sim = testSim(overrides);
  sim.ctx.dynamodb.ensureTable({ TableName: TABLE, KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }] });
  const ddb = (operation: string, input: Record<string, unknown>) => sim.call('dynamodb', operation, { TableName: TABLE, ...input }) as Record<string, unknown>;
  return { ...sim, ddb };
}

// The lease's expressions, as packages/aws-driver/src/dynamodb-lock.ts sends them.
const ACQUIRE = {
  UpdateExpression: 'SET holder = :h, #s = :s, expiresAtMs = :exp, #t = if_not_exists(#t, :zero) + :one',
  ConditionExpression: 'attribute_not_exists(holder) OR expiresAtMs <= :now OR (holder = :h AND #s = :s)',
  ExpressionAttributeNames: { '#t': 'token', '#s': 'session' },
  ReturnValues: 'ALL_NEW',
};
const acquire = (holder: string, nowMs: number, ttlMs: number, session = `${holder}-1`) => ({
  ...ACQUIRE,
  Key: KEY,
  ExpressionAttributeValues: { ':h': { S: holder }, ':s': { S: session }, ':exp': { N: String(nowMs + ttlMs) }, ':now': { N: String(nowMs) }, ':zero': { N: '0' }, ':one': { N: '1' } },
});
const renew = (holder: string, token: number, expMs: number, session = `${holder}-1`) => ({
  Key: KEY,
  UpdateExpression: 'SET expiresAtMs = :exp',
  ConditionExpression: 'holder = :h AND #s = :s AND #t = :token',
  ExpressionAttributeNames: { '#t': 'token', '#s': 'session' },
  ExpressionAttributeValues: { ':h': { S: holder }, ':s': { S: session }, ':token': { N: String(token) }, ':exp': { N: String(expMs) } },
  ReturnValues: 'ALL_NEW',
});

/** A whole simulation (fast profile), for calls through the SDK-shaped clients: latency, IAM, SDK errors. */
function simulated(iam: 'off' | 'evaluate' = 'off'): Simulation {
  return createSimulation({ seed: 1, profile: 'fast', iam, account: 'manual', changeQueue: false });
}

const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:123456789012:table/${TABLE}`;

/** Creates the lock table with the simulated client and waits until it is ACTIVE (inside sim.run). */
async function createLockTable(sim: Simulation): Promise<void> {
  await sim.aws.dynamodb.send(new CreateTableCommand({ TableName: TABLE, KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  while ((await sim.aws.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableStatus !== 'ACTIVE') await sim.clock.sleep(100);
}

describe('SimDynamoDb tables', () => {
  it('creates a table CREATING, then ACTIVE after a short while; a second CreateTable is ResourceInUseException', async () => {
    const { call, scheduler } = testSim({ profile: 'fast' });
    const input = { TableName: 'tbl1', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST', Tags: [{ Key: 'a', Value: 'b' }] };
    const created = call('dynamodb', 'CreateTable', input) as { TableDescription: Record<string, unknown> };
    expect(created.TableDescription).toMatchObject({ TableName: 'tbl1', TableStatus: 'CREATING', TableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/tbl1', BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } });
    expect(faultOf(() => call('dynamodb', 'CreateTable', input))).toMatchObject({ code: 'ResourceInUseException', message: 'Table already exists: tbl1' });
    expect(faultOf(() => call('dynamodb', 'GetItem', { TableName: 'tbl1', Key: { k: { S: 'x' } } }))).toMatchObject({ code: 'ResourceNotFoundException', message: 'Requested resource not found' });
    await scheduler.run(() => scheduler.sleep(1_000));
    expect((call('dynamodb', 'DescribeTable', { TableName: 'tbl1' }) as { Table: { TableStatus: string } }).Table.TableStatus).toBe('ACTIVE');
    expect(call('dynamodb', 'GetItem', { TableName: 'tbl1', Key: { k: { S: 'x' } } })).toEqual({});
  });

  it('answers ResourceNotFoundException for a missing table', () => {
    const { call } = testSim();
    expect(faultOf(() => call('dynamodb', 'DescribeTable', { TableName: 'nope' }))).toMatchObject({ code: 'ResourceNotFoundException', message: 'Requested resource not found: Table: nope not found' });
    expect(faultOf(() => call('dynamodb', 'PutItem', { TableName: 'nope', Item: { k: { S: 'x' } } }))).toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('validates the key schema and the billing mode at CreateTable', () => {
    const { call } = testSim();
    const base = { TableName: 'tbl2', BillingMode: 'PAY_PER_REQUEST' };
    expect(faultOf(() => call('dynamodb', 'CreateTable', { ...base, KeySchema: [{ AttributeName: 'k', KeyType: 'RANGE' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }] })).message).toBe(
      'Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
    );
    expect(faultOf(() => call('dynamodb', 'CreateTable', { ...base, KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'x', AttributeType: 'S' }] })).message).toContain(
      'Some index key attributes are not defined in AttributeDefinitions',
    );
    expect(faultOf(() => call('dynamodb', 'CreateTable', { TableName: 'tbl2', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }] })).message).toBe(
      'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
    );
    expect(faultOf(() => call('dynamodb', 'CreateTable', { ...base, KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], GlobalSecondaryIndexes: [] })).message).toContain('does not support GlobalSecondaryIndexes');
  });
});

describe('SimDynamoDb: the cluster lease (dynamodb-lock.ts expressions)', () => {
  it('DDB-1, DDB-3, DDB-4, DDB-8: acquires on an empty table, refuses a second holder and the same holder in another session, lets the first re-acquire, counts tokens, and needs `session` aliased', () => {
    const { ddb } = withTable();
    const first = ddb('UpdateItem', acquire('a', 1_000, 60_000));
    expect(first).toEqual({ Attributes: { lockKey: { S: 'berth#c1' }, holder: { S: 'a' }, session: { S: 'a-1' }, expiresAtMs: { N: '61000' }, token: { N: '1' } } });
    const refused = faultOf(() => ddb('UpdateItem', acquire('b', 2_000, 60_000)));
    expect(refused).toMatchObject({ code: 'ConditionalCheckFailedException', message: 'The conditional request failed' });
    // The same holder id in another session (another controller instance) is refused too: the parenthesised AND.
    expect(faultOf(() => ddb('UpdateItem', acquire('a', 2_500, 60_000, 'a-2'))).code).toBe('ConditionalCheckFailedException');
    const again = ddb('UpdateItem', acquire('a', 3_000, 60_000)) as { Attributes: Record<string, unknown> };
    expect(again.Attributes['token']).toEqual({ N: '2' });
    expect(faultOf(() => ddb('UpdateItem', renew('a', 2, 90_000, 'a-2'))).code).toBe('ConditionalCheckFailedException');
    // `session` is a reserved word: written bare, the expression is refused.
    const bare = { ...acquire('a', 4_000, 60_000), UpdateExpression: 'SET holder = :h, session = :s, expiresAtMs = :exp, #t = if_not_exists(#t, :zero) + :one', ConditionExpression: 'attribute_not_exists(holder) OR expiresAtMs <= :now', ExpressionAttributeNames: { '#t': 'token' } };
    expect(faultOf(() => ddb('UpdateItem', bare))).toMatchObject({ code: 'ValidationException', message: expect.stringContaining('reserved keyword: session') });
  });

  it('DDB-1: lets another holder take over once the lease expired, and refuses a renew with the old token', () => {
    const { ddb } = withTable();
    ddb('UpdateItem', acquire('a', 0, 10_000));
    const taken = ddb('UpdateItem', acquire('b', 10_000, 10_000)) as { Attributes: Record<string, unknown> };
    expect(taken.Attributes).toMatchObject({ holder: { S: 'b' }, token: { N: '2' } });
    expect(faultOf(() => ddb('UpdateItem', renew('a', 1, 30_000))).code).toBe('ConditionalCheckFailedException');
    expect(faultOf(() => ddb('UpdateItem', renew('b', 1, 30_000))).code).toBe('ConditionalCheckFailedException');
    const renewed = ddb('UpdateItem', renew('b', 2, 30_000)) as { Attributes: Record<string, unknown> };
    expect(renewed.Attributes).toMatchObject({ holder: { S: 'b' }, token: { N: '2' }, expiresAtMs: { N: '30000' } });
    expect(ddb('GetItem', { Key: KEY, ConsistentRead: true })).toEqual({ Item: renewed.Attributes });
  });

  it('DDB-1: UpdateItem writes only when its condition holds on the current item; a missing item has no attributes', () => {
    const { ddb } = withTable();
    const get = () => ddb('GetItem', { Key: KEY, ConsistentRead: true });
    // The usual lease acquire.
    const lease = (holder: string, nowMs: number) => ({
      Key: KEY,
      UpdateExpression: 'SET holder = :h, expiresAtMs = :exp',
      ConditionExpression: 'attribute_not_exists(lockKey) OR expiresAtMs < :now',
      ExpressionAttributeValues: { ':h': { S: holder }, ':exp': { N: String(nowMs + 10_000) }, ':now': { N: String(nowMs) } },
    });
    // A condition on an attribute of a missing item fails, and nothing is written.
    expect(faultOf(() => ddb('UpdateItem', { Key: KEY, UpdateExpression: 'SET holder = :h', ConditionExpression: 'attribute_exists(lockKey)', ExpressionAttributeValues: { ':h': { S: 'a' } } })).code).toBe(
      'ConditionalCheckFailedException',
    );
    expect(get()).toEqual({});
    // On the missing item attribute_not_exists(lockKey) holds: the lease is taken.
    ddb('UpdateItem', lease('a', 0));
    expect(get()).toEqual({ Item: { ...KEY, holder: { S: 'a' }, expiresAtMs: { N: '10000' } } });
    // Not expired yet (10000 < 10000 is false): refused, and the item is as it was.
    expect(faultOf(() => ddb('UpdateItem', lease('b', 10_000))).code).toBe('ConditionalCheckFailedException');
    expect(get()).toEqual({ Item: { ...KEY, holder: { S: 'a' }, expiresAtMs: { N: '10000' } } });
    ddb('UpdateItem', lease('b', 10_001));
    expect(get()).toEqual({ Item: { ...KEY, holder: { S: 'b' }, expiresAtMs: { N: '20001' } } });
    // The comparators the other tests do not use, on the current item.
    const holds = (condition: string, values: Record<string, unknown>): boolean => {
      try {
        ddb('UpdateItem', { Key: KEY, UpdateExpression: 'SET checked = :t', ConditionExpression: condition, ExpressionAttributeValues: { ':t': { BOOL: true }, ...values } });
        return true;
      } catch (e) {
        if (e instanceof SimFault && e.code === 'ConditionalCheckFailedException') return false;
        throw e;
      }
    };
    expect(holds('expiresAtMs >= :v', { ':v': { N: '20001' } })).toBe(true);
    expect(holds('expiresAtMs >= :v', { ':v': { N: '20002' } })).toBe(false);
    expect(holds('expiresAtMs <= :v', { ':v': { N: '20001' } })).toBe(true);
    expect(holds('expiresAtMs <= :v', { ':v': { N: '20000' } })).toBe(false);
    expect(holds('NOT (holder IN (:a, :c) AND expiresAtMs BETWEEN :lo AND :hi)', { ':a': { S: 'a' }, ':c': { S: 'c' }, ':lo': { N: '0' }, ':hi': { N: '30000' } })).toBe(true);
    expect(holds('NOT (holder IN (:b, :c) AND expiresAtMs BETWEEN :lo AND :hi)', { ':b': { S: 'b' }, ':c': { S: 'c' }, ':lo': { N: '0' }, ':hi': { N: '30000' } })).toBe(false);
  });

  it('runs the production lock driver unchanged (createAwsDriver over the simulated DynamoDB)', async () => {
    const sim = testSim({ profile: 'fast' });
    const { scheduler } = sim;
    // A minimal SDK-shaped client: `send` answers from the simulated DynamoDB after a little virtual latency.
    const dynamodb = {
      send(command: { input: Record<string, unknown>; constructor: { name: string } }): Promise<unknown> {
        const operation = command.constructor.name.replace(/Command$/, '');
        const w = scheduler.waiter<unknown>(`dynamodb:${operation}`);
        scheduler.after(5, operation, () => {
          try {
            w.resolve({ ...(sim.call('dynamodb', operation, command.input) as object), $metadata: {} });
          } catch (e) {
            w.reject(e instanceof SimFault ? awsServiceError('dynamodb', e.code, e.message) : e);
          }
        });
        return w.promise;
      },
      destroy() {},
    };
    const clock = { now: () => scheduler.nowMs, sleep: (ms: number, signal?: AbortSignal) => scheduler.sleep(ms, signal) };
    const driver = createAwsDriver({ region: 'eu-west-1', clients: { dynamodb } as never, clock, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const spec = { name: 'c1' } as ClusterSpec;
    const result = await scheduler.run(async () => {
      const table = await driver.ensureLockTable();
      const again = await driver.ensureLockTable();
      const a = await driver.lock.acquire(spec, { holder: 'a', session: 'a-session', ttlMs: 60_000 });
      const held = await driver.lock.acquire(spec, { holder: 'b', session: 'b-session', ttlMs: 60_000 }).catch((e: unknown) => e);
      const renewed = await driver.lock.renew(spec, a, { ttlMs: 120_000 });
      await scheduler.sleep(121_000);
      const b = await driver.lock.acquire(spec, { holder: 'b', session: 'b-session', ttlMs: 60_000 });
      const lost = await driver.lock.renew(spec, renewed, { ttlMs: 60_000 }).catch((e: unknown) => e);
      await driver.lock.release(spec, b);
      const afterRelease = await driver.lock.inspect(spec);
      const c = await driver.lock.acquire(spec, { holder: 'c', session: 'c-session', ttlMs: 60_000 });
      return { table, again, a, held, renewed, b, lost, afterRelease, c };
    });
    expect(result.table).toEqual({ tableName: 'berth-locks', created: true });
    expect(result.again).toEqual({ tableName: 'berth-locks', created: false });
    expect(result.a).toMatchObject({ holder: 'a', token: 1 });
    expect(result.held).toBeInstanceOf(BerthLockError);
    expect(result.held).toMatchObject({ code: 'LOCK_HELD', holder: 'a' });
    expect(result.renewed).toMatchObject({ holder: 'a', token: 1 });
    expect(result.renewed.expiresAtMs).toBeGreaterThan(result.a.expiresAtMs);
    expect(result.b).toMatchObject({ holder: 'b', token: 2 });
    expect(result.lost).toMatchObject({ code: 'LOCK_LOST', holder: 'b' });
    expect(result.afterRelease).toMatchObject({ holder: 'b', token: 2, expiresAtMs: 0 });
    expect(result.c).toMatchObject({ holder: 'c', token: 3 });
  });
});

describe('SimDynamoDb expressions', () => {
  it('DDB-5: rejects names and values the expressions do not use, as AWS words it', () => {
    const { ddb } = withTable();
    expect(faultOf(() => ddb('PutItem', { Item: { ...KEY, a: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(a)', ExpressionAttributeValues: { ':x': { S: 'x' } } })).message).toBe(
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}',
    );
    expect(faultOf(() => ddb('PutItem', { Item: KEY, ConditionExpression: 'attribute_not_exists(a)', ExpressionAttributeNames: { '#n': 'n' } })).message).toBe(
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}',
    );
    expect(faultOf(() => ddb('PutItem', { Item: KEY, ExpressionAttributeValues: { ':x': { S: 'x' } } })).message).toBe('ExpressionAttributeValues can only be specified when using expressions');
  });

  it('DDB-5: an empty ExpressionAttributeValues or ExpressionAttributeNames, and a placeholder used but not defined, are ValidationExceptions', () => {
    const { ddb } = withTable();
    const update = (extra: Record<string, unknown>) => faultOf(() => ddb('UpdateItem', { Key: KEY, UpdateExpression: 'SET a = :v', ConditionExpression: 'attribute_not_exists(#a)', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: { ':v': { N: '1' } }, ...extra }));
    expect(update({ ExpressionAttributeValues: {} })).toMatchObject({ code: 'ValidationException', message: 'ExpressionAttributeValues must not be empty' });
    expect(update({ ExpressionAttributeNames: {} })).toMatchObject({ code: 'ValidationException', message: 'ExpressionAttributeNames must not be empty' });
    expect(update({ ExpressionAttributeValues: { ':other': { N: '1' } } })).toMatchObject({ code: 'ValidationException', message: 'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v' });
    expect(update({ ExpressionAttributeNames: { '#b': 'a' } })).toMatchObject({ code: 'ValidationException', message: 'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #a' });
    // Every name and value must be used, by one expression or another of the request.
    expect(update({ ExpressionAttributeValues: { ':v': { N: '1' }, ':x': { N: '2' } } })).toMatchObject({ code: 'ValidationException', message: 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}' });
    expect(update({ ExpressionAttributeNames: { '#a': 'a', '#n': 'n' } })).toMatchObject({ code: 'ValidationException', message: 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}' });
    expect(ddb('GetItem', { Key: KEY, ConsistentRead: true })).toEqual({});
    // '#a' used by the condition only and ':v' by the update only: both count as used.
    ddb('UpdateItem', { Key: KEY, UpdateExpression: 'SET a = :v', ConditionExpression: 'attribute_not_exists(#a)', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: { ':v': { N: '1' } } });
    expect(ddb('GetItem', { Key: KEY, ConsistentRead: true })).toEqual({ Item: { ...KEY, a: { N: '1' } } });
  });

  it.each([
    ['an undefined value', { ConditionExpression: 'a = :nope' }, 'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope'],
    ['an undefined name', { ConditionExpression: 'attribute_exists(#nope)' }, 'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope'],
    ['a reserved word', { ConditionExpression: 'attribute_exists(token)' }, 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: token'],
    ['a syntax error', { ConditionExpression: 'a = = b' }, 'Invalid ConditionExpression: Syntax error; token: "=", near: "= ="'],
    ['a missing operand', { ConditionExpression: 'a =' }, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'],
    ['an unknown function', { ConditionExpression: 'exists(a)' }, 'Invalid ConditionExpression: Invalid function name; function: exists'],
    ['a function in the wrong case', { ConditionExpression: 'ATTRIBUTE_EXISTS(a)' }, 'Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS'],
    ['an invalid character', { ConditionExpression: 'a != b' }, 'Invalid ConditionExpression: Invalid token: "!", near: "a !"'],
    ['a bad attribute_type', { ConditionExpression: 'attribute_type(a, :t)', ExpressionAttributeValues: { ':t': { S: 'STRING' } } }, 'Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }'],
    ['an inverted BETWEEN', { ConditionExpression: 'a BETWEEN :hi AND :lo', ExpressionAttributeValues: { ':hi': { N: '5' }, ':lo': { N: '1' } } }, 'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: {N:5}, upper operand: AttributeValue: {N:1}'],
  ])('refuses a condition with %s', (_what, extra, message) => {
    const { ddb } = withTable();
    expect(faultOf(() => ddb('PutItem', { Item: KEY, ...extra }))).toMatchObject({ code: 'ValidationException', message });
  });

  it.each([
    ['a reserved word', 'SET token = :one', { ':one': { N: '1' } }, 'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: token'],
    ['two values in a row', 'SET a = :one :two', { ':one': { N: '1' }, ':two': { N: '2' } }, 'Invalid UpdateExpression: Syntax error; token: ":two", near: ":one :two"'],
    ['a clause twice', 'SET a = :one SET b = :one', { ':one': { N: '1' } }, 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'],
    ['overlapping paths', 'SET a = :one, a = :one', { ':one': { N: '1' } }, 'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]'],
    ['a key attribute', 'SET lockKey = :one', { ':one': { S: 'x' } }, 'One or more parameter values were invalid: Cannot update attribute lockKey. This attribute is part of the key'],
    ['arithmetic on a string', 'SET a = :one + :s', { ':one': { N: '1' }, ':s': { S: 'x' } }, 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S'],
    ['an unknown function', 'SET a = increment(:one)', { ':one': { N: '1' } }, 'Invalid UpdateExpression: Invalid function name; function: increment'],
    ['a missing operand attribute', 'SET a = b + :one', { ':one': { N: '1' } }, 'The provided expression refers to an attribute that does not exist in the item'],
    ['ADD of a string', 'ADD a :s', { ':s': { S: 'x' } }, 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: S'],
  ])('refuses an update with %s', (_what, expression, values, message) => {
    const { ddb } = withTable();
    expect(faultOf(() => ddb('UpdateItem', { Key: KEY, UpdateExpression: expression, ExpressionAttributeValues: values }))).toMatchObject({ code: 'ValidationException', message });
  });

  it('refuses keys that do not match the schema and the legacy parameters', () => {
    const { ddb } = withTable();
    const mismatch = 'The provided key element does not match the schema';
    expect(faultOf(() => ddb('GetItem', { Key: { lockKey: { N: '1' } } })).message).toBe(mismatch);
    expect(faultOf(() => ddb('GetItem', { Key: { ...KEY, extra: { S: 'x' } } })).message).toBe(mismatch);
    expect(faultOf(() => ddb('GetItem', { Key: { other: { S: 'x' } } })).message).toBe(mismatch);
    expect(faultOf(() => ddb('PutItem', { Item: { a: { S: 'x' } } })).message).toBe('One or more parameter values were invalid: Missing the key lockKey in the item');
    expect(faultOf(() => ddb('PutItem', { Item: { lockKey: { N: '1' } } })).message).toBe('One or more parameter values were invalid: Type mismatch for key lockKey expected: S actual: N');
    expect(faultOf(() => ddb('PutItem', { Item: KEY, Expected: { a: { Exists: false } } })).message).toContain('does not support the legacy parameter Expected');
    expect(faultOf(() => ddb('PutItem', { Item: KEY, ReturnValues: 'ALL_NEW' })).message).toBe('ReturnValues can only be ALL_OLD or NONE');
  });

  it('DDB-1: evaluates conditions as DynamoDB does: numbers numerically, sets as sets, missing attributes, precedence', () => {
    const { ddb } = withTable();
    const item = {
      ...KEY,
      n: { N: '10' },
      s: { S: 'berth-node-1' },
      b: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['x', 'y'] },
      ns: { NS: ['1', '2.50'] },
      l: { L: [{ S: 'p' }, { N: '7' }] },
      m: { M: { deep: { L: [{ S: 'a' }, { S: 'b' }] } } },
    };
    ddb('PutItem', { Item: item });
    const holds = (expression: string, values: Record<string, unknown> = {}, names?: Record<string, string>): boolean => {
      try {
        ddb('PutItem', { Item: item, ConditionExpression: expression, ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }), ...(names && { ExpressionAttributeNames: names }) });
        return true;
      } catch (e) {
        if (e instanceof SimFault && e.code === 'ConditionalCheckFailedException') return false;
        throw e;
      }
    };
    const N = (n: string) => ({ N: n });
    const S = (s: string) => ({ S: s });
    expect(holds('n > :v', { ':v': N('9') })).toBe(true); // as strings "10" < "9"
    expect(holds('n = :v', { ':v': N('10.0') })).toBe(true);
    expect(holds('n BETWEEN :a AND :b', { ':a': N('10'), ':b': N('1e1') })).toBe(true);
    expect(holds('n < :v', { ':v': S('z') })).toBe(false); // different types never compare
    expect(holds('s IN (:a, :b)', { ':a': S('x'), ':b': S('berth-node-1') })).toBe(true);
    expect(holds('begins_with(s, :p)', { ':p': S('berth-') })).toBe(true);
    expect(holds('contains(s, :p)', { ':p': S('node') })).toBe(true);
    expect(holds('contains(ss, :p)', { ':p': S('y') })).toBe(true);
    expect(holds('contains(ns, :p)', { ':p': N('2.5') })).toBe(true);
    expect(holds('contains(l, :p)', { ':p': N('7') })).toBe(true);
    expect(holds('size(l) = :two AND size(s) > :ten', { ':two': N('2'), ':ten': N('10') })).toBe(true);
    expect(holds('attribute_type(m, :t) AND attribute_type(z, :n)', { ':t': S('M'), ':n': S('NULL') })).toBe(true);
    expect(holds('m.deep[1] = :v', { ':v': S('b') })).toBe(true);
    expect(holds('#m.#i[5] = :v', { ':v': S('b') }, { '#m': 'm', '#i': 'deep' })).toBe(false);
    expect(holds('ss = :v', { ':v': { SS: ['y', 'x'] } })).toBe(true);
    expect(holds('ns = :v', { ':v': { NS: ['2.5', '1'] } })).toBe(true);
    expect(holds('b = :t AND z = :z', { ':t': { BOOL: true }, ':z': { NULL: true } })).toBe(true);
    expect(holds('absent = :v', { ':v': S('x') })).toBe(false);
    expect(holds('absent <> :v', { ':v': S('x') })).toBe(true);
    expect(holds('NOT attribute_exists(absent)')).toBe(true);
    // AND binds tighter than OR; NOT tighter than AND.
    expect(holds('attribute_exists(n) OR attribute_exists(absent) AND attribute_exists(absent)')).toBe(true);
    expect(holds('(attribute_exists(n) OR attribute_exists(absent)) AND attribute_exists(absent)')).toBe(false);
    expect(holds('NOT attribute_exists(absent) AND attribute_exists(n)')).toBe(true);
    expect(holds('not attribute_exists(n) or attribute_exists(s)')).toBe(true);
  });

  it('DDB-3: applies SET, REMOVE, ADD and DELETE, and answers the ReturnValues asked for', () => {
    const { ddb } = withTable();
    ddb('PutItem', { Item: { ...KEY, count: { N: '5' }, tags: { SS: ['a', 'b'] }, l: { L: [{ N: '1' }, { N: '2' }, { N: '3' }] }, stale: { S: 'x' } } });
    const out = ddb('UpdateItem', {
      Key: KEY,
      UpdateExpression: 'SET l = list_append(l, :more), #c = #c - :one, fresh = if_not_exists(fresh, :f) REMOVE stale ADD added :one, tags :c DELETE tags2 :d',
      ExpressionAttributeNames: { '#c': 'count' },
      ExpressionAttributeValues: { ':more': { L: [{ N: '4' }] }, ':one': { N: '1' }, ':f': { S: 'new' }, ':c': { SS: ['c'] }, ':d': { SS: ['z'] } },
      ReturnValues: 'UPDATED_NEW',
    });
    expect(out).toEqual({ Attributes: { l: { L: [{ N: '1' }, { N: '2' }, { N: '3' }, { N: '4' }] }, count: { N: '4' }, fresh: { S: 'new' }, added: { N: '1' }, tags: { SS: ['a', 'b', 'c'] } } });
    const old = ddb('UpdateItem', { Key: KEY, UpdateExpression: 'REMOVE l[0], l[2] SET #c = :big', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':big': { N: '1.500' } }, ReturnValues: 'UPDATED_OLD' });
    expect(old).toEqual({ Attributes: { l: { L: [{ N: '1' }, { N: '3' }] }, count: { N: '4' } } });
    const item = ddb('GetItem', { Key: KEY, ConsistentRead: true, ProjectionExpression: 'l, #c, stale', ExpressionAttributeNames: { '#c': 'count' } });
    expect(item).toEqual({ Item: { l: { L: [{ N: '2' }, { N: '4' }] }, count: { N: '1.5' } } });
    const before = ddb('PutItem', { Item: KEY, ReturnValues: 'ALL_OLD' }) as { Attributes: Record<string, unknown> };
    expect(before.Attributes['fresh']).toEqual({ S: 'new' });
    expect(ddb('DeleteItem', { Key: KEY, ReturnValues: 'ALL_OLD' })).toEqual({ Attributes: KEY });
    expect(ddb('DeleteItem', { Key: KEY, ReturnValues: 'ALL_OLD' })).toEqual({});
  });

  it('stores numbers as DynamoDB does: normalized, exact beyond doubles, at most 38 digits', () => {
    const { ddb } = withTable();
    ddb('PutItem', { Item: { ...KEY, a: { N: '0012.3400' }, big: { N: '12345678901234567890123456789' } } });
    ddb('UpdateItem', { Key: KEY, UpdateExpression: 'SET big = big + :one', ExpressionAttributeValues: { ':one': { N: '1' } } });
    expect(ddb('GetItem', { Key: KEY, ConsistentRead: true })).toEqual({ Item: { ...KEY, a: { N: '12.34' }, big: { N: '12345678901234567890123456790' } } });
    expect(faultOf(() => ddb('PutItem', { Item: { ...KEY, a: { N: '1'.repeat(39) } } })).message).toBe('Attempting to store more than 38 significant digits in a Number');
    expect(faultOf(() => ddb('PutItem', { Item: { ...KEY, a: { N: 'ten' } } })).message).toBe('A value provided cannot be converted into a number');
    expect(faultOf(() => ddb('PutItem', { Item: { ...KEY, a: { S: 'x', N: '1' } } })).message).toBe('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
    expect(faultOf(() => ddb('PutItem', { Item: { ...KEY, a: { SS: [] } } })).message).toBe('One or more parameter values were invalid: An string set  may not be empty');
  });

  it('may serve an eventually consistent read from before the latest write, but never a strongly consistent one', async () => {
    const { ddb, scheduler } = withTable();
    ddb('PutItem', { Item: { ...KEY, v: { N: '1' } } });
    await scheduler.run(() => scheduler.sleep(5_000));
    ddb('PutItem', { Item: { ...KEY, v: { N: '2' } } });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(JSON.stringify((ddb('GetItem', { Key: KEY }) as { Item: unknown }).Item));
    expect(seen.has(JSON.stringify({ ...KEY, v: { N: '1' } }))).toBe(true);
    expect(ddb('GetItem', { Key: KEY, ConsistentRead: true })).toEqual({ Item: { ...KEY, v: { N: '2' } } });
    await scheduler.run(() => scheduler.sleep(1_000));
    expect(ddb('GetItem', { Key: KEY })).toEqual({ Item: { ...KEY, v: { N: '2' } } });
  });

  it('tells world code about every item write', () => {
    const { ddb, ctx } = withTable();
    const seen: string[] = [];
    const stop = ctx.dynamodb.onItemChange((c) => seen.push(`${c.operation} ${c.oldItem ? 'old' : '-'} ${c.newItem ? 'new' : '-'}`));
    ddb('UpdateItem', acquire('a', 0, 10));
    ddb('DeleteItem', { Key: KEY });
    stop();
    ddb('PutItem', { Item: KEY });
    expect(seen).toEqual(['UpdateItem - new', 'DeleteItem old -']);
    expect(ctx.dynamodb.getItem(TABLE, KEY)).toEqual(KEY);
  });
});

describe('SimDynamoDb through the simulated client', () => {
  it('DDB-2: of concurrent conditional writes that all expect the old state, exactly one succeeds', async () => {
    const sim = simulated();
    const out = await sim.run(async () => {
      await createLockTable(sim);
      await sim.aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { ...KEY, version: { N: '1' } } }));
      const write = (holder: string) =>
        sim.aws.dynamodb.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: KEY,
            UpdateExpression: 'SET version = :next, holder = :h',
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': { N: '1' }, ':next': { N: '2' }, ':h': { S: holder } },
            ReturnValues: 'ALL_NEW',
          }),
        );
      const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map(write));
      const { Item } = await sim.aws.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }));
      return { results, Item };
    });
    const won = out.results.filter((r): r is PromiseFulfilledResult<UpdateItemCommandOutput> => r.status === 'fulfilled');
    const lost = out.results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(4);
    for (const r of lost) expect(r.reason).toBeInstanceOf(ConditionalCheckFailedException);
    expect(out.Item).toEqual(won[0]?.value.Attributes);
    expect(out.Item).toMatchObject({ version: { N: '2' } });
  });

  it('DDB-4: a failed condition is ConditionalCheckFailedException, HTTP 400, "The conditional request failed", and writes nothing', async () => {
    const sim = simulated();
    await sim.run(async () => {
      await createLockTable(sim);
      const item = { ...KEY, holder: { S: 'a' } };
      await sim.aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
      const refused = new UpdateItemCommand({ TableName: TABLE, Key: KEY, UpdateExpression: 'SET holder = :b', ConditionExpression: 'attribute_not_exists(holder)', ExpressionAttributeValues: { ':b': { S: 'b' } } });
      const e = await expectAwsError(sim.aws.dynamodb.send(refused), 'ConditionalCheckFailedException', 400, ConditionalCheckFailedException);
      expect(e.message).toBe('The conditional request failed');
      expect((await sim.aws.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }))).Item).toEqual(item);
    });
  });

  // The simulator answers ReturnValuesOnConditionCheckFailure=ALL_OLD with a ValidationException
  // ("does not support ... yet": a SimFault cannot carry the item), where AWS answers the
  // ConditionalCheckFailedException with the item as it was in `Item`.
  it.fails('DDB-4: with ReturnValuesOnConditionCheckFailure=ALL_OLD the ConditionalCheckFailedException carries the item as it was', async () => {
    const sim = simulated();
    const item = { ...KEY, holder: { S: 'a' }, token: { N: '3' } };
    const e = await sim.run(async () => {
      await createLockTable(sim);
      await sim.aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
      return failure(
        sim.aws.dynamodb.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: KEY,
            UpdateExpression: 'SET holder = :b',
            ConditionExpression: 'attribute_not_exists(holder)',
            ExpressionAttributeValues: { ':b': { S: 'b' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    });
    expect(e).toBeInstanceOf(ConditionalCheckFailedException);
    expect({ name: e.name, status: e.$metadata.httpStatusCode, message: e.message }).toEqual({ name: 'ConditionalCheckFailedException', status: 400, message: 'The conditional request failed' });
    expect((e as unknown as ConditionalCheckFailedException).Item).toEqual(item);
  });

  it('DDB-7: with IAM evaluated, a denied call is AccessDeniedException (HTTP 400) with the IAM-12 message, and writes nothing', async () => {
    const sim = simulated('evaluate');
    sim.account.setControllerPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: TABLE_ARN },
        { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE_ARN },
      ],
    });
    const user = 'User: arn:aws:sts::123456789012:assumed-role/berth-controller/berth is not authorized to perform:';
    await sim.run(async () => {
      await createLockTable(sim);
      const item = { ...KEY, holder: { S: 'a' } };
      await sim.aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
      const update = new UpdateItemCommand({ TableName: TABLE, Key: KEY, UpdateExpression: 'SET holder = :b', ExpressionAttributeValues: { ':b': { S: 'b' } } });
      const denied = await expectAwsError(sim.aws.dynamodb.send(update), 'AccessDeniedException', 400, DynamoDBServiceException);
      expect(denied.message).toBe(`${user} dynamodb:UpdateItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:UpdateItem action`);
      expect((denied as { $fault?: string }).$fault).toBe('client');
      const explicit = await expectAwsError(sim.aws.dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: KEY })), 'AccessDeniedException', 400, DynamoDBServiceException);
      expect(explicit.message).toBe(`${user} dynamodb:DeleteItem on resource: ${TABLE_ARN} with an explicit deny in an identity-based policy`);
      expect((await sim.aws.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }))).Item).toEqual(item);
    });
  });
});
