import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { BerthDriverError, BerthLockError, type ClusterSpec, type Lease, type LeaseScope, type LockDriver } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';

const KEY = 'lockKey';

/** The item of the cluster's lease (`berth#<cluster>`), or of its fleet watch lease (`berth#<cluster>#watch`). */
function lockKey(spec: ClusterSpec, scope: LeaseScope | undefined): Record<string, AttributeValue> {
  return { [KEY]: { S: scope ? `berth#${spec.name}#${scope}` : `berth#${spec.name}` } };
}

function toLease(spec: ClusterSpec, scope: LeaseScope | undefined, item: Record<string, AttributeValue> | undefined): Lease | null {
  if (!item?.holder?.S) return null;
  // An item written by a Berth without sessions has none: '' matches no controller's session.
  const lease = { clusterName: spec.name, holder: item.holder.S, session: item.session?.S ?? '', token: Number(item.token?.N ?? 0), expiresAtMs: Number(item.expiresAtMs?.N ?? 0) };
  return Object.freeze(scope ? { ...lease, scope } : lease);
}

/**
 * A lease per cluster in one DynamoDB item, changed only by conditional writes:
 * - acquire succeeds when there is no lease, it has expired, or the caller already holds it —
 *   the same holder *and* session (a retry of its own acquire): two controllers started with
 *   one holder id are two owners, and the second gets LOCK_HELD. Every acquire adds one to the
 *   fencing `token` (the item is never deleted, so tokens only grow);
 * - renew succeeds only for the same holder, session and token (a lease taken over fails with
 *   LOCK_LOST);
 * - release expires the lease (same holder, session and token) rather than deleting it.
 * `session` is a DynamoDB reserved word, hence `#s` in the expressions.
 * A fleet member's watch lease (`scope: 'watch'`) is another item of the same table, under
 * the same rules: it never stands in the way of the cluster's own lease.
 * Expiry compares the controllers' clocks: keep them in sync (NTP) and the TTL well above the
 * skew.
 */
export function createDynamoDbLock(ctx: AwsContext): LockDriver {
  const table = ctx.config.lockTable;
  const missingTable = (err: unknown) =>
    isAwsCode(err, 'ResourceNotFoundException')
      ? new BerthDriverError('LockTable', 'ResourceNotFoundException', `the lock table '${table}' does not exist in ${ctx.config.region}; create it with driver.ensureLockTable() or pass an existing one as lockTable`, { cause: err })
      : err;

  /** A failed conditional write: who holds the lease now, in the error. Other failures pass through (a missing table explained). */
  async function conflict(spec: ClusterSpec, scope: LeaseScope | undefined, err: unknown, signal: AbortSignal | undefined, code: 'LOCK_HELD' | 'LOCK_LOST', message: (cur: Lease | null) => string): Promise<unknown> {
    if (!isAwsCode(err, 'ConditionalCheckFailedException')) return missingTable(err);
    const cur = await inspect(spec, scope, signal);
    return new BerthLockError(code, message(cur), { holder: cur?.holder ?? null, expiresAtMs: cur?.expiresAtMs ?? null, cause: err });
  }

  async function inspect(spec: ClusterSpec, scope: LeaseScope | undefined, signal?: AbortSignal): Promise<Lease | null> {
    try {
      const r = await ctx.call('GetItem', (abortSignal) => ctx.ddb.send(new GetItemCommand({ TableName: table, Key: lockKey(spec, scope), ConsistentRead: true }), { abortSignal }), { signal });
      return toLease(spec, scope, r.Item);
    } catch (err) {
      throw missingTable(err);
    }
  }

  return Object.freeze({
    async acquire(spec, options) {
      const now = ctx.clock.now();
      try {
        const r = await ctx.call('UpdateItem', (abortSignal) =>
          ctx.ddb.send(
            new UpdateItemCommand({
              TableName: table,
              Key: lockKey(spec, options.scope),
              UpdateExpression: 'SET holder = :h, #s = :s, expiresAtMs = :exp, #t = if_not_exists(#t, :zero) + :one',
              ConditionExpression: 'attribute_not_exists(holder) OR expiresAtMs <= :now OR (holder = :h AND #s = :s)',
              ExpressionAttributeNames: { '#t': 'token', '#s': 'session' },
              ExpressionAttributeValues: {
                ':h': { S: options.holder },
                ':s': { S: options.session },
                ':exp': { N: String(now + options.ttlMs) },
                ':now': { N: String(now) },
                ':zero': { N: '0' },
                ':one': { N: '1' },
              },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          ),
        { signal: options.signal });
        return toLease(spec, options.scope, r.Attributes) as Lease;
      } catch (err) {
        throw await conflict(spec, options.scope, err, options.signal, 'LOCK_HELD', (cur) =>
          cur?.holder === options.holder
            ? `Cluster ${spec.name} is locked by another controller instance that uses the same holder id '${options.holder}' (session ${cur.session || 'unknown'}, not this one's ${options.session}) until ${new Date(cur.expiresAtMs).toISOString()}; ` +
              `two controllers must not share a holder id. Stop the other one, or wait for its lease to expire.`
            : `Cluster ${spec.name} is locked by '${cur?.holder ?? '?'}' until ${cur ? new Date(cur.expiresAtMs).toISOString() : '?'}; wait for it to finish or for the lease to expire.`,
        );
      }
    },

    async renew(spec, lease, options) {
      const now = ctx.clock.now();
      try {
        const r = await ctx.call('UpdateItem', (abortSignal) =>
          ctx.ddb.send(
            new UpdateItemCommand({
              TableName: table,
              Key: lockKey(spec, lease.scope),
              UpdateExpression: 'SET expiresAtMs = :exp',
              ConditionExpression: 'holder = :h AND #s = :s AND #t = :token',
              ExpressionAttributeNames: { '#t': 'token', '#s': 'session' },
              ExpressionAttributeValues: { ':h': { S: lease.holder }, ':s': { S: lease.session }, ':token': { N: String(lease.token) }, ':exp': { N: String(now + options.ttlMs) } },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          ),
        { signal: options.signal });
        return toLease(spec, lease.scope, r.Attributes) as Lease;
      } catch (err) {
        throw await conflict(spec, lease.scope, err, options.signal, 'LOCK_LOST', (cur) =>
          `The lease on cluster ${spec.name} (token ${lease.token}) was lost to '${cur?.holder ?? '?'}' (token ${cur?.token ?? '?'}); stop mutating the cluster.`,
        );
      }
    },

    async release(spec, lease, options = {}) {
      try {
        await ctx.call('UpdateItem', (abortSignal) =>
          ctx.ddb.send(
            new UpdateItemCommand({
              TableName: table,
              Key: lockKey(spec, lease.scope),
              UpdateExpression: 'SET expiresAtMs = :zero',
              ConditionExpression: 'holder = :h AND #s = :s AND #t = :token',
              ExpressionAttributeNames: { '#t': 'token', '#s': 'session' },
              ExpressionAttributeValues: { ':h': { S: lease.holder }, ':s': { S: lease.session }, ':token': { N: String(lease.token) }, ':zero': { N: '0' } },
            }),
            { abortSignal },
          ),
        { signal: options.signal });
      } catch (err) {
        // Someone else holds it now: nothing of ours to release.
        if (!isAwsCode(err, 'ConditionalCheckFailedException')) throw missingTable(err);
      }
    },

    inspect: (spec, options = {}) => inspect(spec, options.scope, options.signal),
  } satisfies LockDriver);
}

/**
 * Creates the lock table (on-demand billing, key `lockKey`) if it does not exist and waits
 * until it is ACTIVE. Returns whether it created it.
 */
export async function ensureLockTable(ctx: AwsContext, signal?: AbortSignal): Promise<{ tableName: string; created: boolean }> {
  const table = ctx.config.lockTable;
  const status = async () => {
    try {
      const r = await ctx.call('DescribeTable', (abortSignal) => ctx.ddb.send(new DescribeTableCommand({ TableName: table }), { abortSignal }), { signal });
      return r.Table?.TableStatus ?? 'ACTIVE';
    } catch (err) {
      if (isAwsCode(err, 'ResourceNotFoundException')) return null;
      throw err;
    }
  };
  let created = false;
  if ((await status()) === null) {
    try {
      await ctx.call('CreateTable', (abortSignal) =>
        ctx.ddb.send(
          new CreateTableCommand({
            TableName: table,
            AttributeDefinitions: [{ AttributeName: KEY, AttributeType: 'S' }],
            KeySchema: [{ AttributeName: KEY, KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
            Tags: [{ Key: 'berth:purpose', Value: 'cluster leases' }],
          }),
          { abortSignal },
        ),
      { signal });
      created = true;
    } catch (err) {
      if (!isAwsCode(err, 'ResourceInUseException')) throw err;
    }
  }
  await ctx.waitFor(`lock table ${table} to become ACTIVE`, async () => ((await status()) === 'ACTIVE' ? true : undefined), signal);
  return { tableName: table, created };
}
