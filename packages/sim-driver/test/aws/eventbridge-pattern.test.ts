import { changeEventPattern, groupName } from '@berth/aws-driver';
import type { ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesEventPattern, parseEventPattern } from '../../src/aws/services/event-pattern.js';

const matches = (pattern: unknown, event: unknown): boolean => matchesEventPattern(parseEventPattern(JSON.stringify(pattern)), event);

const asgEvent = (group: string, detailType = 'EC2 Instance Launch Successful') => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': detailType,
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2024-01-01T00:00:05Z',
  region: 'eu-west-1',
  resources: [`arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/${group}`],
  detail: { AutoScalingGroupName: group, EC2InstanceId: 'i-0abc', StatusCode: 'InProgress' },
});

describe('event patterns: the change feed rule (change-queue.ts)', () => {
  const spec = { name: 'kafka', nodes: [] } as unknown as ClusterSpec;
  const pattern = changeEventPattern(spec);

  it.each([
    ['a launch of one of its groups', asgEvent(groupName('kafka', 'n1')), true],
    ['a termination of one of its groups', asgEvent(groupName('kafka', 'n2'), 'EC2 Instance Terminate Successful'), true],
    ['a failed launch', asgEvent(groupName('kafka', 'n2'), 'EC2 Instance Launch Unsuccessful'), true],
    ['another cluster (prefix on detail.AutoScalingGroupName)', asgEvent(groupName('zookeeper', 'n1')), false],
    ['a detail-type it did not ask for', asgEvent(groupName('kafka', 'n1'), 'EC2 Instance-launch Lifecycle Action'), false],
    ['another source', { ...asgEvent(groupName('kafka', 'n1')), source: 'aws.ec2' }, false],
    ['an event without the group name', { ...asgEvent(groupName('kafka', 'n1')), detail: {} }, false],
  ])('%s', (_what, event, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe('event patterns: content filtering', () => {
  const event = {
    source: 'my.app',
    'detail-type': 'Order',
    resources: ['arn:a', 'arn:b'],
    detail: {
      state: 'running',
      region: 'us-west-2',
      file: 'photos/cat.PNG',
      'c-count': 5,
      'x-limit': 301.8,
      ip: '10.0.0.33',
      empty: '',
      nothing: null,
      flag: true,
      tags: ['red', 'green'],
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 7 },
      ],
      nested: { deeper: { name: 'Alice' } },
    },
  };

  it.each<[string, unknown, boolean]>([
    ['exact string', { source: ['my.app'] }, true],
    ['one of several values', { source: ['x', 'my.app'] }, true],
    ['exact string, wrong case', { source: ['My.App'] }, false],
    ['event array intersects pattern array', { resources: ['arn:b', 'arn:z'] }, true],
    ['event array does not intersect', { resources: ['arn:z'] }, false],
    ['nested object', { detail: { nested: { deeper: { name: ['Alice'] } } } }, true],
    ['number equals number', { detail: { 'c-count': [5] } }, true],
    ['number is not the string', { detail: { 'c-count': ['5'] } }, false],
    ['boolean', { detail: { flag: [true] } }, true],
    ['null matches null', { detail: { nothing: [null] } }, true],
    ['"" is not null', { detail: { nothing: [''] } }, false],
    ['"" matches ""', { detail: { empty: [''] } }, true],
    ['prefix', { detail: { region: [{ prefix: 'us-' }] } }, true],
    ['prefix on a number never matches', { detail: { 'c-count': [{ prefix: '5' }] } }, false],
    ['prefix, ignoring case', { detail: { region: [{ prefix: { 'equals-ignore-case': 'US-' } }] } }, true],
    ['suffix', { detail: { file: [{ suffix: '.PNG' }] } }, true],
    ['suffix is case-sensitive', { detail: { file: [{ suffix: '.png' }] } }, false],
    ['suffix, ignoring case', { detail: { file: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
    ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, true],
    ['wildcard', { detail: { file: [{ wildcard: 'photos/*.PNG' }] } }, true],
    ['wildcard not matching', { detail: { file: [{ wildcard: 'videos/*' }] } }, false],
    ['anything-but a value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
    ['anything-but the value', { detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }, false],
    ['anything-but numbers', { detail: { 'c-count': [{ 'anything-but': [100, 200] }] } }, true],
    ['anything-but prefix', { detail: { region: [{ 'anything-but': { prefix: 'us-' } }] } }, false],
    ['anything-but suffix', { detail: { file: [{ 'anything-but': { suffix: '.jpg' } }] } }, true],
    ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } }, false],
    ['anything-but wildcard', { detail: { file: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, true],
    ['anything-but needs the field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
    ['anything-but over an array: one other element suffices', { detail: { tags: [{ 'anything-but': 'red' }] } }, true],
    ['exists: true', { detail: { state: [{ exists: true }] } }, true],
    ['exists: false on an absent field', { detail: { missing: [{ exists: false }] } }, true],
    ['exists: false on a present field', { detail: { state: [{ exists: false }] } }, false],
    ['exists works on leaves only', { detail: { nested: [{ exists: true }] } }, false],
    ['exists: false under an absent parent', { absent: { child: [{ exists: false }] } }, true],
    ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric open bound', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
    ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, true],
    ['numeric on a string never matches', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['cidr', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, true],
    ['cidr outside', { detail: { ip: [{ cidr: '10.0.1.0/24' }] } }, false],
    ['one element of an array of objects matches every field', { detail: { items: { sku: ['b'], qty: [{ numeric: ['>', 5] }] } } }, true],
    ['fields of different elements do not combine', { detail: { items: { sku: ['a'], qty: [{ numeric: ['>', 5] }] } } }, false],
    ['$or of two branches', { detail: { $or: [{ state: ['stopped'] }, { 'c-count': [{ numeric: ['<', 10] }] }] } }, true],
    ['$or where no branch matches', { $or: [{ source: ['x'] }, { 'detail-type': ['y'] }] }, false],
    ['every field must match (AND)', { source: ['my.app'], 'detail-type': ['Other'] }, false],
  ])('%s', (_what, pattern, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe('event patterns: invalid ones are refused at PutRule with the reason AWS gives', () => {
  it.each<[string, string]>([
    ['[]', 'Filter is not an object'],
    ['{"source": "aws.ec2"}', '"source" must be an object or an array'],
    ['{}', 'Empty objects are not allowed'],
    ['{"source": []}', 'Empty arrays are not allowed'],
    ['{"source": [["a"]]}', 'Match value must be String, number, true, false, or null'],
    ['{"source": [{"prefix": 1}]}', 'prefix match pattern must be a string'],
    ['{"source": [{"prefix": "a", "suffix": "b"}]}', 'Only one key allowed in match expression'],
    ['{"source": [{"regex": "a.*"}]}', 'Unrecognized match type regex'],
    ['{"source": [{"exists": "yes"}]}', 'exists match pattern must be either true or false.'],
    ['{"n": [{"numeric": [">", "a"]}]}', 'Value of > must be numeric'],
    ['{"n": [{"numeric": ["~", 1]}]}', 'Unrecognized numeric range operator: ~'],
    ['{"n": [{"numeric": ["<", 1, ">", 0]}]}', 'Too many elements in numeric expression'],
    ['{"n": [{"numeric": [">", 0, "=", 5]}]}', 'Bad numeric range operator: ='],
    ['{"s": [{"anything-but": ["a", 1]}]}', 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    ['{"s": [{"anything-but": {"contains": "a"}}]}', 'Unsupported anything-but pattern: contains'],
    ['{"s": [{"anything-but": {"prefix": ""}}]}', 'Null prefix/suffix not allowed'],
    ['{"s": [{"wildcard": "a**b"}]}', 'Consecutive wildcard characters at pos 1'],
    ['{"s": [{"wildcard": "a\\\\xb"}]}', 'Invalid escape character at pos 1'],
    ['{"$or": [{"a": ["x"]}]}', 'There must have at least 2 Objects in $or relationship.'],
    ['{"$or": [{"prefix": ["x"]}, {"a": ["y"]}]}', 'prefix is Ruler reserved fieldName which cannot be used inside $or.'],
    ['{"ip": [{"cidr": "2001:db8::/32"}]}', 'IPv6 cidr 2001:db8::/32 is not supported by the simulator (IPv4 only)'],
  ])('%s', (text, reason) => {
    let caught: unknown;
    try {
      parseEventPattern(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidEventPatternError);
    expect((caught as InvalidEventPatternError).reason).toBe(reason);
    expect((caught as InvalidEventPatternError).message).toBe(`Event pattern is not valid. Reason: ${reason}`);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseEventPattern('{source:')).toThrow(/^Event pattern is not valid\. Reason: Invalid JSON/);
  });
});
