import { formatRollReport, formatRollTime } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { RollRecorder } from '../../src/controller/roll-report.js';

const T0 = 1_704_067_200_000;

describe('roll report', () => {
  it('formatRollTime: the time since the roll started, in the one format of reports', () => {
    expect([0, 250, 1_000, 45_000, 65_000, 120_000, 3_720_000, 7_200_000].map(formatRollTime)).toEqual(['+0s', '+250ms', '+1s', '+45s', '+1m05s', '+2m', '+1h02m', '+2h']);
    expect(formatRollTime(-4_000)).toBe('-4s');
  });

  it('formatRollReport: batches numbered from 1, every time relative to the start, phases in boot order', () => {
    const r = new RollRecorder('kafka-1', 'kafka', T0, 1);
    r.alreadyCurrent = ['n3'];
    const b0 = r.batchStarted(['n2'], T0 + 400);
    r.replacing('n2', 'i-0a', b0, T0 + 400);
    r.phase('n2', 'i-0b', 'mounting', T0 + 123_000);
    r.phase('n2', 'i-0b', 'attaching', T0 + 120_000);
    r.replaced('n2', 'i-0b', T0 + 145_000);
    r.batchFinished(b0, T0 + 146_000);
    const b1 = r.batchStarted(['n1'], T0 + 150_000);
    r.replacing('n1', 'i-0c', b1, T0 + 150_000);
    const report = r.finish('halted', 'node n1 failed to boot', T0 + 300_000, { DescribeInstances: 4, TerminateInstanceInAutoScalingGroup: 2 }, {});
    expect(formatRollReport(report)).toBe(
      [
        'Roll kafka-1: halted in 5m (maxUnavailable 1); 1 node replaced, 1 already current (n3)',
        '  halted: node n1 failed to boot',
        '  batch 1  +400ms → +2m26s  n2',
        '    n2  i-0a → i-0b  +400ms → +2m25s (2m25s)  attaching +2m, mounting +2m03s, in-service +2m25s',
        '  batch 2  +2m30s → …  n1',
        '    n1  i-0c → ?  +2m30s → … (not finished)',
        '  API calls: 6 (DescribeInstances 4, TerminateInstanceInAutoScalingGroup 2)',
      ].join('\n'),
    );
  });

  it('a batch that never ran is forgotten, so the next one takes its index; one that ran is kept', () => {
    const r = new RollRecorder('c-1', 'c', T0, 1);
    const first = r.batchStarted(['n1'], T0);
    r.cancelBatch(first);
    expect(r.batchStarted(['n2'], T0 + 10)).toBe(0);
    r.replacing('n2', 'i-2', 0, T0 + 10);
    r.cancelBatch(0); // n2 went: the batch ran
    expect(r.batchStartedAtMs(0)).toBe(T0 + 10);
    expect(r.finish('completed', null, T0 + 20, {}, {}).batches.map((b) => b.nodeIds)).toEqual([['n2']]);
  });
});
