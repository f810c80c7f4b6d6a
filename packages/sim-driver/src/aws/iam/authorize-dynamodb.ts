// How IAM authorizes the DynamoDB operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
// `dynamodb:LeadingKeys` is the partition key value of the item an item operation reads or
// writes (DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained access
// control"). Not given (noted): `dynamodb:Attributes` (the attribute names a request touches;
// it needs the expressions parsed) and `dynamodb:Select`.

import type { Authorizer, ServiceContext } from '../service.js';
import { check, obj, objs, regionalArn, requestTagKeys, str, tagList, type Context, type Input } from './authorize-common.js';

/** The table's key schema, when the simulated DynamoDB can tell it (see `keySchema` in the report to the framework). */
interface KeySchemaSource {
  keySchema?(tableName: string): readonly { readonly AttributeName: string; readonly KeyType: string }[] | null;
}

function tableName(input: Input): string {
  const raw = str(input, 'TableName') ?? '';
  return raw.startsWith('arn:') ? (/:table\/([^/]+)$/.exec(raw)?.[1] ?? raw) : raw;
}

function tableArn(ctx: ServiceContext, name: string): string {
  return regionalArn(ctx, 'dynamodb', `table/${name}`);
}

/** An attribute value as a condition sees it: S and N as written, B as its base64. */
function scalar(v: unknown): string | null {
  if (v === null || typeof v !== 'object') return null;
  const a = v as Record<string, unknown>;
  if (typeof a['S'] === 'string') return a['S'];
  if (typeof a['N'] === 'string') return a['N'];
  if (a['B'] instanceof Uint8Array) return Buffer.from(a['B']).toString('base64');
  if (typeof a['B'] === 'string') return a['B'];
  return null;
}

function leadingKey(ctx: ServiceContext, table: string, item: Input | null): string | null {
  if (item === null) return null;
  const schema = (ctx.sim.dynamodb as unknown as KeySchemaSource).keySchema?.(table) ?? null;
  const hash = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (hash !== undefined) return scalar(item[hash]);
  const names = Object.keys(item);
  if (names.length === 1) return scalar(item[names[0] as string]);
  throw new Error(
    `authorizing a DynamoDB item operation on ${table} needs the table's partition key (dynamodb:LeadingKeys): the simulated DynamoDB must expose keySchema(tableName)`,
  );
}

function itemOperation(action: string, itemField: 'Key' | 'Item'): Authorizer {
  return (input, ctx) => {
    const table = tableName(input);
    const key = leadingKey(ctx, table, obj(input, itemField));
    const context: Context = {};
    if (key !== null) context['dynamodb:LeadingKeys'] = [key];
    const rv = str(input, 'ReturnValues');
    if (rv !== null && action !== 'dynamodb:GetItem') context['dynamodb:ReturnValues'] = rv;
    const rc = str(input, 'ReturnConsumedCapacity');
    if (rc !== null) context['dynamodb:ReturnConsumedCapacity'] = rc;
    return [check(action, tableArn(ctx, table), context)];
  };
}

export const DYNAMODB_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  CreateTable(input, ctx) {
    return [check('dynamodb:CreateTable', tableArn(ctx, tableName(input)), requestTagKeys(tagList(objs(input, 'Tags'))))];
  },
  DescribeTable(input, ctx) {
    return [check('dynamodb:DescribeTable', tableArn(ctx, tableName(input)), {})];
  },
  DeleteTable(input, ctx) {
    return [check('dynamodb:DeleteTable', tableArn(ctx, tableName(input)), {})];
  },
  GetItem: itemOperation('dynamodb:GetItem', 'Key'),
  PutItem: itemOperation('dynamodb:PutItem', 'Item'),
  UpdateItem: itemOperation('dynamodb:UpdateItem', 'Key'),
  DeleteItem: itemOperation('dynamodb:DeleteItem', 'Key'),
};
