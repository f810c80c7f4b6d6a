// The spot settings of a cluster spec: capacity per cluster and per node (the node's fields over
// the cluster's), the timings' bounds, the pre-stop timeout, and what they do to revisions.
import { computeRevision, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { clusterInput, configProblems } from '../support/fixtures.js';

const problems = configProblems;

describe('capacity (spot)', () => {
  it('defaults to on-demand; a node overrides the cluster field by field', () => {
    const base = clusterInput(3);
    expect(defineCluster(base).nodes.map((n) => n.capacity.spot)).toEqual([false, false, false]);
    const spec = defineCluster({
      ...base,
      capacity: { spot: true, fallbackAfterSec: 600 },
      nodes: base.nodes.map((n, i) => (i === 0 ? { ...n, capacity: { spot: false } } : i === 1 ? { ...n, capacity: { spotRetryAfterSec: 7200 } } : n)),
    });
    expect(spec.capacity).toEqual({ spot: true, onDemandFallback: true, fallbackAfterSec: 600, spotRetryAfterSec: 3600 });
    expect(spec.nodes.map((n) => n.capacity)).toEqual([
      { spot: false, onDemandFallback: true, fallbackAfterSec: 600, spotRetryAfterSec: 3600 },
      { spot: true, onDemandFallback: true, fallbackAfterSec: 600, spotRetryAfterSec: 7200 },
      { spot: true, onDemandFallback: true, fallbackAfterSec: 600, spotRetryAfterSec: 3600 },
    ]);
  });

  it('refuses timings outside their bounds, naming the field and why, and a pre-stop timeout that does not fit in the two minutes', () => {
    const base = clusterInput(3);
    const found = problems({
      ...base,
      capacity: { spot: true, fallbackAfterSec: 10 },
      nodes: base.nodes.map((n, i) => (i === 2 ? { ...n, capacity: { spotRetryAfterSec: 60 } } : n)),
      bootstrap: { preStopScript: 'kafka-server-stop.sh', preStopTimeoutSec: 115 },
    });
    expect(found.map((p) => p.path)).toEqual(['capacity.fallbackAfterSec', 'nodes[2].capacity.spotRetryAfterSec', 'bootstrap.preStopTimeoutSec']);
    expect(found[0]?.message).toMatch(/^must be 60–86400 seconds, got 10: Auto Scaling retries a failed launch/);
    expect(found[1]?.message).toMatch(/^must be 300–604800 seconds, got 60/);
    expect(found[2]?.message).toMatch(/^must be at most 100 seconds, got 115: EC2 terminates a spot instance two minutes after its interruption warning/);
  });

  it('refuses a misspelt capacity field with a suggestion', () => {
    const found = problems({ ...clusterInput(3), capacity: { spot: true, onDemandFallbak: true } });
    expect(found).toEqual([{ path: 'capacity.onDemandFallbak', message: expect.stringMatching(/did you mean 'onDemandFallback'/) }]);
  });

  it('spot is part of a node\'s revision; the pre-stop script only of spot nodes\'; on-demand nodes keep the revision they had', () => {
    const base = clusterInput(3);
    const onDemand = defineCluster(base);
    const withPreStop = defineCluster({ ...base, bootstrap: { preStopScript: 'stop-it' } });
    const spot = defineCluster({ ...base, capacity: { spot: true } });
    const spotPreStop = defineCluster({ ...base, capacity: { spot: true }, bootstrap: { preStopScript: 'stop-it' } });
    const id = base.nodes[0]?.id as string;
    expect(computeRevision(withPreStop, id)).toBe(computeRevision(onDemand, id));
    expect(computeRevision(spot, id)).not.toBe(computeRevision(onDemand, id));
    expect(computeRevision(spotPreStop, id)).not.toBe(computeRevision(spot, id));
    // The fallback timings shape no instance.
    expect(computeRevision(defineCluster({ ...base, capacity: { spot: true, fallbackAfterSec: 900 } }), id)).toBe(computeRevision(spot, id));
  });
});
