import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { createPrng, type Prng } from '@berth/core';
import type { RangeMs } from '../../options.js';
import { draw, type SimContext } from '../../sim-context.js';
import { fault } from '../aws-error.js';
import type { OperationHandler, SimService } from '../service.js';
import { uuidV4 } from './random-ids.js';
import {
  applyUpdate,
  copyItem,
  evaluateCondition,
  ExpressionAttributes,
  parseCondition,
  parseProjection,
  parseUpdate,
  project,
  typeOf,
  validateItem,
  type Condition,
  type DdbItem,
  type DdbValue,
  type DocumentPath,
  type UpdatePlan,
} from './dynamodb-expressions.js';

/*
 * The simulated DynamoDB: tables and items, conditional writes, expressions.
 * API reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/ (CreateTable,
 * DescribeTable, DeleteTable, GetItem, PutItem, UpdateItem, DeleteItem).
 * Read consistency: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
 */

/** `CREATING → ACTIVE` and `DELETING → gone` (realistic; ×0.01 in the `fast` profile). On-demand tables take seconds. */
export const TABLE_CREATE_MS: RangeMs = [3_000, 15_000];
export const TABLE_DELETE_MS: RangeMs = [2_000, 10_000];

type KeyType = 'HASH' | 'RANGE';
type ScalarType = 'S' | 'N' | 'B';

interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: KeyType;
}
interface AttributeDefinition {
  readonly AttributeName: string;
  readonly AttributeType: ScalarType;
}

interface StoredItem {
  /** null once deleted (kept as a tombstone for eventually consistent reads). */
  readonly current: DdbItem | null;
  readonly previous: DdbItem | null;
  readonly writtenAtMs: number;
}

interface Table {
  readonly name: string;
  readonly arn: string;
  readonly id: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING';
  readonly createdAtMs: number;
  readonly keySchema: readonly KeySchemaElement[];
  readonly attributeDefinitions: readonly AttributeDefinition[];
  readonly billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  readonly provisioned: { readonly read: number; readonly write: number };
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  readonly deletionProtection: boolean;
  readonly items: Map<string, StoredItem>;
}

/** One item write, as world code may watch it (e.g. to trace the cluster lease). SDK-shaped copies. */
export interface DynamoItemChange {
  readonly tableName: string;
  readonly operation: 'PutItem' | 'UpdateItem' | 'DeleteItem';
  readonly key: Record<string, AttributeValue>;
  readonly oldItem: Record<string, AttributeValue> | null;
  readonly newItem: Record<string, AttributeValue> | null;
}

const LEGACY_PARAMETERS = ['AttributesToGet', 'Expected', 'AttributeUpdates', 'ConditionalOperator', 'KeyConditions', 'QueryFilter', 'ScanFilter'];
const UPDATE_RETURN_VALUES = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];

function validation(message: string): Error {
  return fault('ValidationException', message);
}

function notNull(member: string): Error {
  return validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
}

function str(input: Record<string, unknown>, key: string, member: string): string {
  const v = input[key];
  if (typeof v !== 'string') throw notNull(member);
  return v;
}

function optStr(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  return typeof v === 'string' ? v : undefined;
}

function sdk(item: DdbItem): Record<string, AttributeValue> {
  return copyItem(item) as unknown as Record<string, AttributeValue>;
}

/** The simulated DynamoDB of the account: tables, items, conditional writes and expressions. */
export class SimDynamoDb {
  readonly service: SimService;
  readonly #ctx: SimContext;
  readonly #tables = new Map<string, Table>();
  /** Own stream, derived from the seed exactly as a `dynamodb` entry of STREAMS would be. */
  readonly #rng: Prng;
  readonly #listeners = new Set<(change: DynamoItemChange) => void>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#rng = createPrng(ctx.options.seed).derive('dynamodb');
    const ops: Record<string, OperationHandler> = {
      CreateTable: (i) => this.#createTable(i),
      DescribeTable: (i) => ({ Table: this.#describe(this.#table(i, false)) }),
      DeleteTable: (i) => this.#deleteTable(i),
      GetItem: (i) => this.#getItem(i),
      PutItem: (i) => this.#putItem(i),
      UpdateItem: (i) => this.#updateItem(i),
      DeleteItem: (i) => this.#deleteItem(i),
    };
    this.service = { name: 'dynamodb', operations: ops };
  }

  /** Creates a table if missing, ACTIVE at once (the account's existing tables). */
  ensureTable(input: { TableName: string; KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]; AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[] }): void {
    const existing = this.#tables.get(input.TableName);
    if (existing) {
      const same = JSON.stringify(existing.keySchema) === JSON.stringify(input.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })));
      if (!same) throw new Error(`ensureTable: table ${input.TableName} exists with another key schema (${JSON.stringify(existing.keySchema)})`);
      return;
    }
    const t = this.#newTable(input.TableName, checkKeySchema(input.KeySchema, input.AttributeDefinitions), 'PAY_PER_REQUEST', { read: 0, write: 0 }, [], false);
    t.status = 'ACTIVE';
    this.#tables.set(t.name, t);
  }

  /** An item as stored now (a copy), or null. */
  getItem(tableName: string, key: Record<string, AttributeValue>): Record<string, AttributeValue> | null {
    const t = this.#tables.get(tableName);
    if (!t) return null;
    const cur = t.items.get(itemKey(t, validateItem(key, 'Key')))?.current;
    return cur ? sdk(cur) : null;
  }

  /** The table's key schema (IAM's `dynamodb:LeadingKeys` needs its partition key), or null when it does not exist. */
  keySchema(tableName: string): readonly { readonly AttributeName: string; readonly KeyType: 'HASH' | 'RANGE' }[] | null {
    return this.#tables.get(tableName)?.keySchema.map((k) => ({ ...k })) ?? null;
  }

  tableArn(tableName: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:dynamodb:${a.region}:${a.accountId}:table/${tableName}`;
  }

  /** Calls `listener` after every item write (PutItem, UpdateItem, DeleteItem that changed the table). */
  onItemChange(listener: (change: DynamoItemChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // --- tables -------------------------------------------------------------------------------

  #factor(): number {
    return this.#ctx.options.profile === 'fast' ? 0.01 : 1;
  }

  #uuid(): string {
    return uuidV4(this.#rng);
  }

  #newTable(name: string, schema: { keySchema: KeySchemaElement[]; attributeDefinitions: AttributeDefinition[] }, billingMode: Table['billingMode'], provisioned: Table['provisioned'], tags: Table['tags'], deletionProtection: boolean): Table {
    return {
      name,
      arn: this.tableArn(name),
      id: this.#uuid(),
      status: 'CREATING',
      createdAtMs: this.#ctx.scheduler.nowMs,
      keySchema: schema.keySchema,
      attributeDefinitions: schema.attributeDefinitions,
      billingMode,
      provisioned,
      tags,
      deletionProtection,
      items: new Map(),
    };
  }

  #tableName(input: Record<string, unknown>): string {
    const raw = str(input, 'TableName', 'tableName');
    // Operations accept the table's ARN in place of its name.
    const name = raw.startsWith('arn:') ? (/:table\/([^/]+)$/.exec(raw)?.[1] ?? raw) : raw;
    if (name.length < 3) throw validation(`1 validation error detected: Value '${name}' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3`);
    if (name.length > 255) throw validation(`1 validation error detected: Value '${name}' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255`);
    if (!/^[a-zA-Z0-9_.-]+$/.test(name)) throw validation(`1 validation error detected: Value '${name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`);
    return name;
  }

  /** The table for a table operation (any status) or an item operation (ACTIVE only, as AWS). */
  #table(input: Record<string, unknown>, forItems: boolean): Table {
    const name = this.#tableName(input);
    const t = this.#tables.get(name);
    if (!t) throw fault('ResourceNotFoundException', forItems ? 'Requested resource not found' : `Requested resource not found: Table: ${name} not found`);
    if (forItems && t.status !== 'ACTIVE') throw fault('ResourceNotFoundException', 'Requested resource not found');
    return t;
  }

  #createTable(input: Record<string, unknown>): unknown {
    const name = this.#tableName(input);
    for (const p of ['GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'ResourcePolicy']) {
      if (input[p] !== undefined) throw validation(`The simulated DynamoDB does not support ${p} (CreateTable of ${name}); it models tables with a primary key only.`);
    }
    const stream = input['StreamSpecification'] as { StreamEnabled?: boolean } | undefined;
    if (stream?.StreamEnabled) throw validation(`The simulated DynamoDB does not support StreamSpecification (CreateTable of ${name}).`);
    const schema = checkKeySchema(input['KeySchema'], input['AttributeDefinitions']);
    const billingMode = (input['BillingMode'] ?? 'PROVISIONED') as string;
    if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') throw validation(`1 validation error detected: Value '${billingMode}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]`);
    const pt = input['ProvisionedThroughput'] as { ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined;
    let provisioned = { read: 0, write: 0 };
    if (billingMode === 'PROVISIONED') {
      if (typeof pt?.ReadCapacityUnits !== 'number' || typeof pt.WriteCapacityUnits !== 'number') throw validation('One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED');
      if (pt.ReadCapacityUnits < 1 || pt.WriteCapacityUnits < 1) throw validation('One or more parameter values were invalid: Each ReadCapacityUnits and WriteCapacityUnits must be at least 1');
      provisioned = { read: pt.ReadCapacityUnits, write: pt.WriteCapacityUnits };
    } else if (pt !== undefined) {
      throw validation('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
    }
    const tags = readTags(input['Tags']);
    if (this.#tables.has(name)) throw fault('ResourceInUseException', `Table already exists: ${name}`);
    const t = this.#newTable(name, schema, billingMode, provisioned, tags, input['DeletionProtectionEnabled'] === true);
    this.#tables.set(name, t);
    this.#ctx.trace.record('dynamodb.table', { tableName: name, status: 'CREATING' });
    this.#ctx.scheduler.after(draw(this.#rng, TABLE_CREATE_MS, this.#factor()), `DynamoDB table ${name} ACTIVE`, () => {
      if (this.#tables.get(name) !== t || t.status !== 'CREATING') return;
      t.status = 'ACTIVE';
      this.#ctx.trace.record('dynamodb.table', { tableName: name, status: 'ACTIVE' });
    });
    return { TableDescription: this.#describe(t) };
  }

  #deleteTable(input: Record<string, unknown>): unknown {
    const t = this.#table(input, false);
    if (t.status === 'CREATING') throw fault('ResourceInUseException', `Attempt to change a resource which is still in use: Table is being created: ${t.name}`);
    if (t.status === 'DELETING') throw fault('ResourceInUseException', `Attempt to change a resource which is still in use: Table is being deleted: ${t.name}`);
    if (t.deletionProtection) throw validation('Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.');
    t.status = 'DELETING';
    this.#ctx.trace.record('dynamodb.table', { tableName: t.name, status: 'DELETING' });
    this.#ctx.scheduler.after(draw(this.#rng, TABLE_DELETE_MS, this.#factor()), `DynamoDB table ${t.name} deleted`, () => {
      if (this.#tables.get(t.name) !== t) return;
      this.#tables.delete(t.name);
      this.#ctx.trace.record('dynamodb.table', { tableName: t.name, status: 'DELETED' });
    });
    return { TableDescription: this.#describe(t) };
  }

  #describe(t: Table): Record<string, unknown> {
    const live = [...t.items.values()].filter((s) => s.current !== null);
    return {
      TableName: t.name,
      TableArn: t.arn,
      TableId: t.id,
      TableStatus: t.status,
      CreationDateTime: new Date(t.createdAtMs),
      KeySchema: t.keySchema.map((k) => ({ ...k })),
      AttributeDefinitions: t.attributeDefinitions.map((a) => ({ ...a })),
      ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: t.provisioned.read, WriteCapacityUnits: t.provisioned.write },
      ...(t.billingMode === 'PAY_PER_REQUEST' && { BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST', LastUpdateToPayPerRequestDateTime: new Date(t.createdAtMs) } }),
      // AWS refreshes these about every six hours; the simulator reports them live.
      ItemCount: live.length,
      TableSizeBytes: live.reduce((n, s) => n + JSON.stringify(s.current).length, 0),
      DeletionProtectionEnabled: t.deletionProtection,
    };
  }

  // --- items --------------------------------------------------------------------------------

  #getItem(input: Record<string, unknown>): unknown {
    rejectLegacy(input);
    const t = this.#table(input, true);
    const key = validateKey(t, input['Key']);
    const projection = optStr(input, 'ProjectionExpression');
    const attrs = new ExpressionAttributes(input['ExpressionAttributeNames'], input['ExpressionAttributeValues'], projection !== undefined);
    const paths = projection === undefined ? null : parseProjection(projection, attrs);
    attrs.checkUnused();
    const consistent = input['ConsistentRead'] === true;
    const stored = t.items.get(itemKey(t, key));
    const item = stored ? (consistent ? stored.current : this.#eventual(stored)) : null;
    return {
      ...(item && { Item: sdk(paths ? project(item, paths) : item) }),
      ...consumed(input, t, consistent ? 1 : 0.5),
    };
  }

  /** What an eventually consistent read may see: the previous version for a short while after a write. */
  #eventual(s: StoredItem): DdbItem | null {
    const range = this.#ctx.options.timings.consistencyLagMs;
    const age = this.#ctx.scheduler.nowMs - s.writtenAtMs;
    if (age >= range[1]) return s.current;
    return age < draw(this.#rng, range) ? s.previous : s.current;
  }

  #putItem(input: Record<string, unknown>): unknown {
    rejectLegacy(input);
    const t = this.#table(input, true);
    const item = validateItem(input['Item'], 'item');
    const key = keyOfItem(t, item);
    const rv = returnValues(input, ['NONE', 'ALL_OLD']);
    const condition = optStr(input, 'ConditionExpression');
    const attrs = new ExpressionAttributes(input['ExpressionAttributeNames'], input['ExpressionAttributeValues'], condition !== undefined);
    const cond = condition === undefined ? null : parseCondition(condition, attrs);
    attrs.checkUnused();
    const k = itemKey(t, key);
    const old = t.items.get(k)?.current ?? null;
    checkCondition(cond, old);
    this.#write(t, k, key, old, item, 'PutItem');
    return { ...(rv === 'ALL_OLD' && old && { Attributes: sdk(old) }), ...consumed(input, t, 1) };
  }

  #updateItem(input: Record<string, unknown>): unknown {
    rejectLegacy(input);
    const t = this.#table(input, true);
    const key = validateKey(t, input['Key']);
    const rv = returnValues(input, UPDATE_RETURN_VALUES);
    const update = optStr(input, 'UpdateExpression');
    const condition = optStr(input, 'ConditionExpression');
    const attrs = new ExpressionAttributes(input['ExpressionAttributeNames'], input['ExpressionAttributeValues'], update !== undefined || condition !== undefined);
    const plan: UpdatePlan | null = update === undefined ? null : parseUpdate(update, attrs, t.keySchema.map((k) => k.AttributeName));
    const cond = condition === undefined ? null : parseCondition(condition, attrs);
    attrs.checkUnused();
    const k = itemKey(t, key);
    const old = t.items.get(k)?.current ?? null;
    checkCondition(cond, old);
    // UpdateItem creates the item when it does not exist.
    const result: { item: DdbItem; updatedPaths: readonly DocumentPath[] } = plan ? applyUpdate(plan, old ?? undefined, key) : { item: old ?? copyItem(key), updatedPaths: [] };
    this.#write(t, k, key, old, result.item, 'UpdateItem');
    let attributes: DdbItem | null = null;
    if (rv === 'ALL_OLD') attributes = old;
    else if (rv === 'ALL_NEW') attributes = result.item;
    else if (rv === 'UPDATED_OLD') attributes = old ? project(old, result.updatedPaths) : null;
    else if (rv === 'UPDATED_NEW') attributes = project(result.item, result.updatedPaths);
    const hasAttributes = attributes !== null && Object.keys(attributes).length > 0;
    return { ...(hasAttributes && { Attributes: sdk(attributes as DdbItem) }), ...consumed(input, t, 1) };
  }

  #deleteItem(input: Record<string, unknown>): unknown {
    rejectLegacy(input);
    const t = this.#table(input, true);
    const key = validateKey(t, input['Key']);
    const rv = returnValues(input, ['NONE', 'ALL_OLD']);
    const condition = optStr(input, 'ConditionExpression');
    const attrs = new ExpressionAttributes(input['ExpressionAttributeNames'], input['ExpressionAttributeValues'], condition !== undefined);
    const cond = condition === undefined ? null : parseCondition(condition, attrs);
    attrs.checkUnused();
    const k = itemKey(t, key);
    const old = t.items.get(k)?.current ?? null;
    checkCondition(cond, old);
    if (old) this.#write(t, k, key, old, null, 'DeleteItem');
    return { ...(rv === 'ALL_OLD' && old && { Attributes: sdk(old) }), ...consumed(input, t, 1) };
  }

  #write(t: Table, k: string, key: DdbItem, old: DdbItem | null, next: DdbItem | null, operation: DynamoItemChange['operation']): void {
    t.items.set(k, { current: next === null ? null : copyItem(next), previous: old, writtenAtMs: this.#ctx.scheduler.nowMs });
    this.#ctx.trace.record('dynamodb.item', { tableName: t.name, operation, key: k });
    if (this.#listeners.size === 0) return;
    for (const l of this.#listeners) l({ tableName: t.name, operation, key: sdk(key), oldItem: old && sdk(old), newItem: next && sdk(next) });
  }
}

// --- helpers ----------------------------------------------------------------------------------

function rejectLegacy(input: Record<string, unknown>): void {
  for (const p of LEGACY_PARAMETERS) {
    if (input[p] !== undefined) throw validation(`The simulated DynamoDB does not support the legacy parameter ${p}; use ConditionExpression, UpdateExpression or ProjectionExpression.`);
  }
  // The item would travel on the ConditionalCheckFailedException, which a SimFault cannot carry yet.
  if (input['ReturnValuesOnConditionCheckFailure'] === 'ALL_OLD') throw validation('The simulated DynamoDB does not support ReturnValuesOnConditionCheckFailure=ALL_OLD yet; read the item with GetItem after a ConditionalCheckFailedException.');
}

function returnValues(input: Record<string, unknown>, allowed: readonly string[]): string {
  const rv = input['ReturnValues'];
  if (rv === undefined) return 'NONE';
  if (typeof rv === 'string' && allowed.includes(rv)) return rv;
  if (allowed.length === 2) throw validation('ReturnValues can only be ALL_OLD or NONE');
  throw validation(`1 validation error detected: Value '${String(rv)}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`);
}

function checkCondition(cond: Condition | null, item: DdbItem | null): void {
  if (cond !== null && !evaluateCondition(cond, item ?? undefined)) throw fault('ConditionalCheckFailedException', 'The conditional request failed');
}

function consumed(input: Record<string, unknown>, t: Table, units: number): Record<string, unknown> {
  const r = input['ReturnConsumedCapacity'];
  if (r !== 'TOTAL' && r !== 'INDEXES') return {};
  return { ConsumedCapacity: { TableName: t.name, CapacityUnits: units, ...(r === 'INDEXES' && { Table: { CapacityUnits: units } }) } };
}

function readTags(raw: unknown): { Key: string; Value: string }[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw notNull('tags');
  return raw.map((t: unknown) => {
    const x = t as { Key?: unknown; Value?: unknown };
    if (typeof x.Key !== 'string' || typeof x.Value !== 'string') throw validation('One or more parameter values were invalid: a tag needs a Key and a Value');
    return { Key: x.Key, Value: x.Value };
  });
}

function checkKeySchema(rawSchema: unknown, rawDefs: unknown): { keySchema: KeySchemaElement[]; attributeDefinitions: AttributeDefinition[] } {
  if (!Array.isArray(rawSchema) || rawSchema.length === 0) throw notNull('keySchema');
  if (rawSchema.length > 2) throw validation(`1 validation error detected: Value '${JSON.stringify(rawSchema)}' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2`);
  if (!Array.isArray(rawDefs) || rawDefs.length === 0) throw notNull('attributeDefinitions');
  const keySchema = rawSchema.map((e: unknown) => {
    const x = e as { AttributeName?: unknown; KeyType?: unknown };
    if (typeof x.AttributeName !== 'string') throw notNull('keySchema.member.attributeName');
    if (x.KeyType !== 'HASH' && x.KeyType !== 'RANGE') throw validation(`1 validation error detected: Value '${String(x.KeyType)}' at 'keySchema.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]`);
    return { AttributeName: x.AttributeName, KeyType: x.KeyType as KeyType };
  });
  if (keySchema[0]?.KeyType !== 'HASH') throw validation('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (keySchema[1] && keySchema[1].KeyType !== 'RANGE') throw validation('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
  if (keySchema[1] && keySchema[1].AttributeName === keySchema[0].AttributeName) throw validation('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  const attributeDefinitions = rawDefs.map((d: unknown) => {
    const x = d as { AttributeName?: unknown; AttributeType?: unknown };
    if (typeof x.AttributeName !== 'string') throw notNull('attributeDefinitions.member.attributeName');
    if (x.AttributeType !== 'S' && x.AttributeType !== 'N' && x.AttributeType !== 'B') throw validation(`1 validation error detected: Value '${String(x.AttributeType)}' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]`);
    return { AttributeName: x.AttributeName, AttributeType: x.AttributeType as ScalarType };
  });
  const defined = attributeDefinitions.map((d) => d.AttributeName);
  const keys = keySchema.map((k) => k.AttributeName);
  const missing = keys.filter((k) => !defined.includes(k));
  if (missing.length > 0) throw validation(`One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${missing.join(', ')}], AttributeDefinitions: [${defined.join(', ')}]`);
  if (defined.length !== keys.length) throw validation('One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions');
  return { keySchema, attributeDefinitions };
}

function keyTypeOf(t: Table, name: string): ScalarType {
  return (t.attributeDefinitions.find((d) => d.AttributeName === name) as AttributeDefinition).AttributeType;
}

function emptyKey(v: DdbValue): boolean {
  return ('S' in v && v.S.length === 0) || ('B' in v && v.B.byteLength === 0);
}

/** A `Key` parameter: exactly the table's key attributes, of their defined types. */
function validateKey(t: Table, raw: unknown): DdbItem {
  if (raw === undefined || raw === null) throw notNull('key');
  const key = validateItem(raw, 'key');
  const names = t.keySchema.map((k) => k.AttributeName);
  if (Object.keys(key).length !== names.length) throw validation('The provided key element does not match the schema');
  for (const n of names) {
    const v = key[n];
    if (v === undefined || typeOf(v) !== keyTypeOf(t, n)) throw validation('The provided key element does not match the schema');
    if (emptyKey(v)) throw validation(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${'S' in v ? 'string' : 'binary'} value. Key: ${n}`);
  }
  return key;
}

/** The key attributes of a PutItem `Item`. */
function keyOfItem(t: Table, item: DdbItem): DdbItem {
  const key: Record<string, DdbValue> = {};
  for (const { AttributeName: n } of t.keySchema) {
    const v = item[n];
    if (v === undefined) throw validation(`One or more parameter values were invalid: Missing the key ${n} in the item`);
    const expected = keyTypeOf(t, n);
    if (typeOf(v) !== expected) throw validation(`One or more parameter values were invalid: Type mismatch for key ${n} expected: ${expected} actual: ${typeOf(v)}`);
    if (emptyKey(v)) throw validation(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${'S' in v ? 'string' : 'binary'} value. Key: ${n}`);
    key[n] = v;
  }
  return key;
}

/** The item's identity in the table: its key values, in key-schema order. */
function itemKey(t: Table, key: DdbItem): string {
  return t.keySchema
    .map(({ AttributeName: n }) => {
      const v = key[n];
      if (v === undefined) return '';
      if ('B' in v) return `B:${Buffer.from(v.B).toString('base64')}`;
      return `${typeOf(v)}:${String((v as Record<string, unknown>)[typeOf(v)])}`;
    })
    .join('|');
}
